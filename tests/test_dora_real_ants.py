"""Commit-ancestry attribution on real data: panjf2000/ants.

Raw pull requests are DevLake's real recordings of the repository (../shared/fixtures/real/
devlake-e2e/github); the commit graph (with parents) and the release tags come from its git history
(../shared/fixtures/real/git-history/panjf2000-ants). Release tags matching the tag regex are the
deployments (deployment source `tags`). The expected answer is computed here independently, by
walking the parent links of commits.csv from every tag: a merged PR's deployment is the earliest tag
whose history contains its merge commit.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from pipelines.warehouse import (
    RawRecord,
    ensure_raw_schema,
    ensure_raw_table,
    open_warehouse,
    upsert_raw,
)
from tests.test_dbt_models import ORG_TABLES, RAW_TABLES, failures, query, run_dbt

REPO = "panjf2000/ants"
TAG_REGEX = r"^v?[0-9]+[.][0-9]+[.][0-9]+$"
FETCHED_AT = dt.datetime(2025, 12, 27, tzinfo=dt.UTC)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.fixture(scope="module")
def ants(tmp_path_factory: pytest.TempPathFactory):
    real = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real"
    history = real / "git-history" / "panjf2000-ants"
    pulls_csv = real / "devlake-e2e" / "github" / "raw_tables" / "_raw_github_api_pull_requests.csv"
    if not (history.is_dir() and pulls_csv.is_file()):
        pytest.skip(f"real ants recordings not found under {real} (../shared is absent)")
    commits = _rows(history / "commits.csv")
    tags = _rows(history / "tags.csv")
    pulls = {}
    for row in _rows(pulls_csv):
        payload = json.loads(row["data"])
        if json.loads(row["params"])["Name"] == REPO:
            pulls[payload["number"]] = payload  # the recording repeats one PR (upsert test)

    tmp = tmp_path_factory.mktemp("ants")
    path = tmp / "warehouse.duckdb"
    with open_warehouse(path) as con:
        ensure_raw_schema(con)
        for table in RAW_TABLES:
            ensure_raw_table(con, table)
        commit_records = [
            RawRecord(
                natural_key=f"{REPO}@{c['sha']}",
                scope=REPO,
                payload={
                    "sha": c["sha"],
                    "commit": {
                        "author": {"name": c["author_name"], "date": c["author_date"]},
                        "committer": {"date": c["committer_date"]},
                        "message": c["subject"],
                    },
                    "parents": [{"sha": p} for p in c["parents"].split()],
                },
            )
            for c in commits
        ]
        upsert_raw(con, "github_commits", "github", commit_records, fetched_at=FETCHED_AT)
        tag_records = [
            RawRecord(
                natural_key=f"{REPO}/tag/{t['tag']}",
                scope=REPO,
                payload={"name": t["tag"], "commit": {"sha": t["commit_sha"]}},
            )
            for t in tags
        ]
        upsert_raw(con, "github_tags", "github", tag_records, fetched_at=FETCHED_AT)
        pull_records = [
            RawRecord(natural_key=f"{REPO}#{n}", scope=REPO, payload=p, updated_at=p["updated_at"])
            for n, p in pulls.items()
        ]
        upsert_raw(con, "github_pull_requests", "github", pull_records, fetched_at=FETCHED_AT)
        for table, columns in ORG_TABLES.items():
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({columns})")
        con.execute("INSERT INTO raw.org_teams VALUES ('core', 2, 1)")
        con.execute("INSERT INTO raw.org_services VALUES ('ants', 'core', 'standard')")
        con.execute(f"INSERT INTO raw.org_repositories VALUES ('{REPO}', 'ants', 'core')")
    variables = {"deployment_sources": ["tags"], "deployment_tag_regex": TAG_REGEX}
    result = run_dbt(
        [
            "build",
            "--select",
            "+fct_changes",
            "+fct_deployments",
            "--indirect-selection",
            "cautious",
            "--exclude",
            "resource_type:unit_test",  # unit tests pin the default vars
            "--vars",
            json.dumps(variables),
        ],
        path,
        tmp / "target",
    )
    assert result.success, failures(result)
    return path, commits, tags, pulls


def earliest_tags(commits, tags) -> dict[str, tuple[dt.datetime, set[str]]]:
    """sha -> (date of the earliest release tag containing it, the tags of that date)."""
    parents = {c["sha"]: c["parents"].split() for c in commits}
    out: dict[str, tuple[dt.datetime, set[str]]] = {}
    for tag in tags:
        if not re.search(TAG_REGEX, tag["tag"]):
            continue
        when = _when(tag["commit_date"])
        stack, seen = [tag["commit_sha"]], set()
        while stack:  # every ancestor of the tag, by the parent links
            sha = stack.pop()
            if sha in seen or sha not in parents:
                continue
            seen.add(sha)
            stack.extend(parents[sha])
        for sha in seen:
            best = out.get(sha)
            if best is None or when < best[0]:
                out[sha] = (when, {tag["tag"]})
            elif when == best[0]:
                best[1].add(tag["tag"])
    return out


def test_each_merged_pr_ships_with_the_earliest_tag_containing_its_merge_commit(ants):
    path, commits, tags, pulls = ants
    expected = earliest_tags(commits, tags)
    rows = query(
        path,
        "select pr_number, deployment_id, deployed_at from marts.fct_changes order by pr_number",
    )
    merged = {n for n, p in pulls.items() if p.get("merged_at")}
    assert {r[0] for r in rows} == merged  # every merged PR is a change, deployed or not
    checked = 0
    for number, deployment_id, deployed_at in rows:
        sha = pulls[number]["merge_commit_sha"]
        if sha not in expected:
            # never reached a tag: "not deployed yet"
            assert (deployment_id, deployed_at) == (None, None), number
            continue
        when, names = expected[sha]
        # a tag is dated by its commit; a change is never deployed before it was merged
        assert deployed_at == max(when, _when(pulls[number]["merged_at"])), number
        assert deployment_id.removeprefix(f"{REPO}/tag/") in names, number
        checked += 1
    assert checked >= 20


def test_every_tag_is_a_successful_deployment_and_claims_are_disjoint(ants):
    path, commits, tags, _ = ants
    known = {c["sha"] for c in commits}
    # A tag has no date of its own: one whose commit is not on the synced graph cannot be placed.
    n_tags = sum(1 for t in tags if re.search(TAG_REGEX, t["tag"]) and t["commit_sha"] in known)
    assert n_tags >= 30
    assert query(
        path, "select count(*), count(distinct deployment_id) from marts.fct_deployments"
    ) == [(n_tags, n_tags)]
    assert query(
        path, "select count(*) - count(distinct sha) from intermediate.int_commit_deployments"
    ) == [(0,)]
