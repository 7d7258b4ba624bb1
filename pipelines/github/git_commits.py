"""Default-branch commits from a bare partial clone instead of the REST API.

For a large repository the API costs one request per 100 commits on the first run; git costs one
clone (``git clone --bare --filter=blob:none``: commits and trees, no file contents) and then one
``git fetch`` per run. ``git log`` gives every commit with its parents and dates, landed into
``raw.github_commits`` in the shape of the API's commit items (``sha``, ``commit.author``,
``commit.committer``, ``commit.message``, ``parents[].sha``) so dbt reads one shape; each payload
says ``"fetched_from": "git"``.

The token never reaches the command line, the clone's config on disk, or a log: it is given to git
as an ``http.extraHeader`` through ``GIT_CONFIG_*`` environment variables of the one process, and
git's error output is scrubbed before it is shown.

Cursor: ``cursor`` is the newest committer date (as for the API path) and ``etag`` is
``git:<head sha>``; an unchanged head is a no-op, a fast-forward lands only ``old..new``, and a
rewritten branch (force push) re-reads the backfill window.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import SourceError
from pipelines.warehouse import RawRecord

if TYPE_CHECKING:
    from pipelines.github.sync import RepositorySync

GIT_TIMEOUT_SECONDS = 3600
BATCH = 2000
_FIELDS = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e"


class GitMirror:
    """One bare partial clone of one repository under ``root``."""

    def __init__(self, root: Path, repository: str, clone_url: str, token: str | None = None):
        self.path = Path(root) / f"{repository}.git"
        self.repository = repository
        self.clone_url = clone_url
        self._token = token

    # --- running git without leaking the token -------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
        if self._token:
            basic = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            env.update(
                {
                    "GIT_CONFIG_COUNT": "2",
                    "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
                    # git sends extraHeader to wherever a redirect leads: with a token, follow
                    # none (credentials stay on the configured origin; docs/operations.md).
                    "GIT_CONFIG_KEY_1": "http.followRedirects",
                    "GIT_CONFIG_VALUE_1": "false",
                }
            )
        return env

    def _scrub(self, text: str) -> str:
        if self._token:
            basic = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
            text = text.replace(self._token, "***").replace(basic, "***")
        return text

    def git(self, *args: str, cwd: Path | None = None) -> str:
        command = ["git", *args]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            raise SourceError(
                "git is not installed; install git or remove the repository from "
                "sources.github[].commits_from_git"
            ) from None
        except subprocess.TimeoutExpired:
            raise SourceError(
                f"git {args[0]} of {self.repository} took longer than {GIT_TIMEOUT_SECONDS}s"
            ) from None
        if done.returncode != 0:
            lines = [line for line in self._scrub(done.stderr).splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit code {done.returncode}"
            raise SourceError(
                f"git {args[0]} failed for {self.repository} from {self._scrub(self.clone_url)}: "
                f"{reason.strip()}"
            )
        return done.stdout

    # --- clone, fetch, log -----------------------------------------------------------------------
    def update(self, branch: str) -> str:
        """Clone (first time) or fetch ``branch``; return its head SHA."""
        if not (self.path / "HEAD").exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.git(
                "clone",
                "--bare",
                "--filter=blob:none",
                "--single-branch",
                "--branch",
                branch,
                "--no-tags",
                self.clone_url,
                str(self.path),
            )
        else:
            self.git(
                "fetch",
                "--no-tags",
                "--filter=blob:none",
                self.clone_url,
                f"+refs/heads/{branch}:refs/heads/{branch}",
                cwd=self.path,
            )
        return self.git("rev-parse", f"refs/heads/{branch}", cwd=self.path).strip()

    def is_ancestor(self, old: str, new: str) -> bool:
        try:
            self.git("merge-base", "--is-ancestor", old, new, cwd=self.path)
        except SourceError:
            return False
        return True

    def log(self, revision: str, *, since: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Commits reachable from ``revision`` (``a..b`` allowed), newest first, as API items."""
        args = ["log", f"--format={_FIELDS}", "--no-color"]
        if since is not None:
            args.append(f"--since={since.astimezone(dt.UTC).isoformat()}")
        out = self.git(*args, revision, "--", cwd=self.path)
        return [_as_api_item(record) for record in out.split("\x1e") if record.strip()]


def _utc(value: str) -> str:
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_api_item(record: str) -> dict[str, Any]:
    sha, parents, an, ae, ad, cn, ce, cd, message = record.lstrip("\n").split("\x00", 8)
    return {
        "sha": sha,
        "commit": {
            "author": {"name": an, "email": ae, "date": _utc(ad)},
            "committer": {"name": cn, "email": ce, "date": _utc(cd)},
            "message": message.rstrip("\n"),
        },
        "author": None,  # the API's GitHub user objects are not known to git
        "committer": None,
        "parents": [{"sha": p} for p in parents.split()],
        "fetched_from": "git",
    }


def sync_commits_from_git(sync: RepositorySync, mirror: GitMirror) -> None:
    """Land the default branch's new commits from ``mirror`` (cursor rules in the module docstring)."""
    entity = "commits"
    state = sync._state(entity)
    head = mirror.update(sync.default_branch)
    previous = state.etag.removeprefix("git:") if state and state.etag else None
    if previous == head:
        sync._finish_unchanged(entity)
        return
    if previous and state.etag.startswith("git:") and mirror.is_ancestor(previous, head):
        commits = mirror.log(f"{previous}..{head}")
    else:
        commits = mirror.log(head, since=sync.backfill_start)
    newest = state.cursor if state else None
    dates = [c["commit"]["committer"]["date"] for c in commits]
    if dates:
        newest = max([*dates, newest] if newest else dates)
    batches = [commits[i : i + BATCH] for i in range(0, len(commits), BATCH)] or [[]]
    for i, batch in enumerate(batches):
        records = [
            RawRecord(f"{sync.repo}@{c['sha']}", sync.repo, c, c["commit"]["committer"]["date"])
            for c in batch
        ]
        sync._land(
            entity,
            {"github_commits": records},
            final=i == len(batches) - 1,
            cursor=newest,
            etag=f"git:{head}",
        )
