"""The commit-ancestry walk (pipelines/ancestry.py): each deployment claims the ancestors of its SHA
that no earlier deployment of the same repository and environment claimed."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa

from pipelines.ancestry import CLAIM_SCHEMA, claim_arrow, claim_commits, claim_table

#   a <- b <- c <- m (merge of c and f) <- g
#         \- e <- f -/
PARENTS = {
    "a": [],
    "b": ["a"],
    "c": ["b"],
    "e": ["b"],
    "f": ["e"],
    "m": ["c", "f"],
    "g": ["m"],
}


def claims(deployments, parents=PARENTS):
    out: dict[str, set[str]] = {}
    for claim in claim_commits(parents, deployments):
        out.setdefault(claim.deployment_id, set()).add(claim.sha)
    return out


def test_first_deployment_ships_every_ancestor_in_the_synced_history():
    assert claims([("d1", "c")]) == {"d1": {"a", "b", "c"}}


def test_merge_commit_ships_both_branches_minus_what_was_already_shipped():
    assert claims([("d1", "c"), ("d2", "m")]) == {"d1": {"a", "b", "c"}, "d2": {"e", "f", "m"}}


def test_one_sha_deployed_twice_claims_nothing_the_second_time():
    assert claims([("d1", "c"), ("d2", "c"), ("d3", "g")]) == {
        "d1": {"a", "b", "c"},
        "d3": {"e", "f", "m", "g"},
    }


def test_rollback_to_an_older_sha_claims_nothing_and_the_next_deployment_ships_the_rest():
    assert claims([("d1", "b"), ("d2", "m"), ("d3", "b"), ("d4", "g")]) == {
        "d1": {"a", "b"},
        "d2": {"c", "e", "f", "m"},
        "d4": {"g"},
    }


def test_walk_stops_at_commits_outside_the_synced_history():
    parents = {"x": ["older-than-backfill"], "y": ["x"]}
    assert claims([("d1", "y")], parents) == {"d1": {"x", "y"}}


def test_unknown_deployed_sha_claims_nothing():
    assert claims([("d1", "zzz"), ("d2", "c")]) == {"d2": {"a", "b", "c"}}


def test_every_commit_is_visited_once_per_environment():
    # A long linear history and one deployment per commit: claims == commits (linear work).
    n = 5000
    parents = {f"c{i}": [f"c{i - 1}"] if i else [] for i in range(n)}
    deployments = [(f"d{i}", f"c{i}") for i in range(n)]
    rows = list(claim_commits(parents, deployments))
    assert len(rows) == n
    assert all(r.deployment_id == f"d{r.sha[1:]}" for r in rows)


def test_environments_and_repositories_claim_separately():
    commits = [("o/r", sha, parents) for sha, parents in PARENTS.items()]
    commits.append(("o/other", "a", []))
    rows = claim_table(
        commits,
        [
            ("o/r", "staging", "s1", "g"),
            ("o/r", "production", "p1", "c"),
            ("o/other", "production", "x1", "a"),
        ],
    )
    by_deployment: dict[str, set[str]] = {}
    for _repo, _env, deployment_id, sha, _depth in rows:
        by_deployment.setdefault(deployment_id, set()).add(sha)
    assert by_deployment == {"s1": set(PARENTS), "p1": {"a", "b", "c"}, "x1": {"a"}}


def _commits_table(commits):
    return pa.table(
        {
            "repository": [r for r, _, _ in commits],
            "sha": [s for _, s, _ in commits],
            "parent_shas": pa.array([p for _, _, p in commits], pa.list_(pa.string())),
        }
    )


def _deployments_table(deployments):
    """(repository, environment, deployment_id, commit_sha, deployed_at) rows."""
    names = ["repository", "environment", "deployment_id", "commit_sha", "deployed_at"]
    columns = list(zip(*deployments, strict=True))
    return pa.table(
        {
            name: pa.array(
                list(column), pa.timestamp("us", "UTC") if name == "deployed_at" else None
            )
            for name, column in zip(names, columns, strict=True)
        }
    )


T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DEPLOYMENTS = [
    ("o/r", "production", "d1", "b", T0),
    ("o/r", "production", "d2", "m", T0 + dt.timedelta(hours=1)),
    ("o/r", "production", "d3", "b", T0 + dt.timedelta(hours=2)),  # rollback
    ("o/r", "production", "d4", "g", T0 + dt.timedelta(hours=3)),
    ("o/r", "staging", "s1", "g", T0),
]


def test_arrow_claims_do_not_depend_on_the_order_the_engine_hands_rows_over():
    """Spark gives a repository's rows in no set order; claim_arrow sorts the deployments by
    deployed_at itself, so every order gives the claims of the time-ordered walk."""
    commits = [("o/r", sha, parents) for sha, parents in PARENTS.items()]
    expected = claim_table(commits, [(r, e, d, s) for r, e, d, s, _ in DEPLOYMENTS])
    rng = random.Random(17)
    for _ in range(20):
        shuffled_commits, shuffled = commits[:], DEPLOYMENTS[:]
        rng.shuffle(shuffled_commits)
        rng.shuffle(shuffled)
        table = claim_arrow(_commits_table(shuffled_commits), _deployments_table(shuffled))
        assert table.schema == CLAIM_SCHEMA
        assert sorted(zip(*table.to_pydict().values(), strict=True)) == sorted(expected)


def test_arrow_claims_break_a_tie_of_deployed_at_by_deployment_id():
    commits = _commits_table([("o/r", sha, parents) for sha, parents in PARENTS.items()])
    tied = [("o/r", "production", "d2", "g", T0), ("o/r", "production", "d1", "c", T0)]
    claimed = claim_arrow(commits, _deployments_table(tied)).to_pydict()
    by_deployment: dict[str, set[str]] = {}
    for deployment_id, sha in zip(claimed["deployment_id"], claimed["sha"], strict=True):
        by_deployment.setdefault(deployment_id, set()).add(sha)
    assert by_deployment == {"d1": {"a", "b", "c"}, "d2": {"e", "f", "m", "g"}}


def test_arrow_claims_of_a_repository_without_deployments_or_commits_are_an_empty_table():
    commits = _commits_table([("o/r", sha, parents) for sha, parents in PARENTS.items()])
    none = _deployments_table([("o/r", "production", "d1", "c", T0)]).slice(0, 0)
    assert claim_arrow(commits, none).num_rows == 0
    assert claim_arrow(commits.slice(0, 0), _deployments_table(DEPLOYMENTS)).num_rows == 0
    assert claim_arrow(commits, none).schema == CLAIM_SCHEMA


def test_arrow_claims_visit_a_deployment_without_a_time_last():
    commits = _commits_table([("o/r", sha, parents) for sha, parents in PARENTS.items()])
    rows = [("o/r", "production", "d0", "g", None), ("o/r", "production", "d1", "c", T0)]
    claimed = claim_arrow(commits, _deployments_table(rows)).to_pydict()
    assert set(claimed["deployment_id"]) == {"d0", "d1"}
    assert {
        s for d, s in zip(claimed["deployment_id"], claimed["sha"], strict=True) if d == "d1"
    } == {
        "a",
        "b",
        "c",
    }
