"""The commit-ancestry walk (pipelines/ancestry.py): each deployment claims the ancestors of its SHA
that no earlier deployment of the same repository and environment claimed."""

from __future__ import annotations

from pipelines.ancestry import claim_commits, claim_table

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
