"""Default-branch commits from a bare partial clone of a real git repository built here (commits,
a merge, a squash, tags), served from file://: what lands equals `git log`, parents and all."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from pipelines.errors import SourceError
from pipelines.github.client import GitHubClient
from pipelines.github.git_commits import GitMirror, sync_commits_from_git
from pipelines.github.sync import RepositorySync
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import Reply, ScriptedServer

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
TOKEN = "ghs_SECRETinstallationtoken123"


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Bob",
        "GIT_COMMITTER_EMAIL": "bob@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def commit(repo: Path, name: str, date: str, message: str | None = None) -> None:
    (repo / name).write_text(f"{name} {date}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message or f"add {name}", date=date)


@pytest.fixture
def origin(tmp_path) -> Path:
    repo = tmp_path / "origin" / "acme" / "shop"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "uploadpack.allowFilter", "true")
    commit(repo, "a", "2026-06-01T10:00:00+02:00", "first\n\nwith a body")
    commit(repo, "b", "2026-06-02T10:00:00+00:00")
    git(repo, "tag", "v1.0.0")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "c", "2026-06-03T10:00:00+00:00")
    commit(repo, "d", "2026-06-04T10:00:00+00:00")
    git(repo, "checkout", "-q", "main")
    commit(repo, "e", "2026-06-05T10:00:00+00:00")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge feature",
        date="2026-06-06T10:00:00Z",
    )
    git(repo, "checkout", "-q", "-b", "squashed")
    commit(repo, "f", "2026-06-07T10:00:00+00:00")
    commit(repo, "g", "2026-06-08T10:00:00+00:00")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--squash", "squashed")
    git(repo, "commit", "-q", "-m", "Squashed f and g (#7)", date="2026-06-09T10:00:00Z")
    git(repo, "tag", "-a", "v1.1.0", "-m", "release", date="2026-06-09T11:00:00Z")
    return repo


def git_log(repo: Path) -> dict[str, list[str]]:
    out = git(repo, "log", "--format=%H %P", "main")
    return {line.split()[0]: line.split()[1:] for line in out.splitlines()}


def landed(con) -> dict[str, list[str]]:
    rows = con.execute("SELECT payload FROM raw.github_commits").fetchall()
    payloads = [json.loads(p) for (p,) in rows]
    return {p["sha"]: [x["sha"] for x in p["parents"]] for p in payloads}


def github(path: str, headers: dict[str, str]) -> Reply:
    if path.startswith("/repos/acme/shop?") or path == "/repos/acme/shop":
        return Reply(body={"full_name": "acme/shop", "default_branch": "main"})
    raise AssertionError(f"commits must not be read from the API: {path}")


def sync(con, mirror: GitMirror, server: ScriptedServer) -> RepositorySync:
    with GitHubClient(server.url) as client:
        job = RepositorySync(
            con,
            client,
            source="github",
            repository="acme/shop",
            backfill_days=365,
            now=NOW,
            commits_from_git=lambda s: sync_commits_from_git(s, mirror),
        )
        job.run(("repository", "commits"))
    return job


def test_commits_and_parents_from_the_clone_equal_git_log(origin, tmp_path):
    mirror = GitMirror(tmp_path / "mirrors", "acme/shop", f"file://{origin}", token=TOKEN)
    con = connect(tmp_path / "wh.duckdb")
    with ScriptedServer(github) as server:
        job = sync(con, mirror, server)
    assert landed(con) == git_log(origin)
    merge = next(p for p in landed(con).values() if len(p) == 2)
    assert len(merge) == 2
    first = json.loads(
        con.execute(
            "SELECT payload FROM raw.github_commits WHERE payload->>'$.commit.message' LIKE 'first%'"
        ).fetchone()[0]
    )
    assert first["commit"]["message"] == "first\n\nwith a body"
    assert first["commit"]["author"] == {
        "name": "Ada",
        "email": "ada@example.com",
        "date": "2026-06-01T08:00:00Z",
    }
    assert first["commit"]["committer"]["name"] == "Bob"
    assert first["fetched_from"] == "git"
    assert job.report.entities["commits"].requests == 0
    # Partial clone: commits and trees, no file contents.
    config = (mirror.path / "config").read_text()
    assert "partialclonefilter = blob:none" in config
    assert TOKEN not in config and "extraheader" not in config.lower()
    con.close()


def test_a_fetch_lands_only_new_commits_and_an_unchanged_head_is_a_no_op(origin, tmp_path):
    mirror = GitMirror(tmp_path / "mirrors", "acme/shop", f"file://{origin}")
    con = connect(tmp_path / "wh.duckdb")
    with ScriptedServer(github) as server:
        sync(con, mirror, server)
        assert sync(con, mirror, server).report.entities["commits"].unchanged
        commit(origin, "h", "2026-06-10T10:00:00+00:00")
        again = sync(con, mirror, server)
    assert again.report.entities["commits"].items == 1
    assert landed(con) == git_log(origin)
    head = git(origin, "rev-parse", "main").strip()
    state = get_sync_state(con, "github", "acme/shop", "commits")
    assert state.etag == f"git:{head}" and state.cursor == "2026-06-10T10:00:00Z"
    con.close()


def test_a_failed_clone_names_the_repository_and_never_shows_the_token(tmp_path):
    mirror = GitMirror(
        tmp_path / "mirrors", "acme/gone", f"file://{tmp_path}/nothing-{TOKEN}", token=TOKEN
    )
    with pytest.raises(SourceError) as info:
        mirror.update("main")
    message = str(info.value)
    assert message.startswith("git clone failed for acme/gone")
    assert TOKEN not in message
