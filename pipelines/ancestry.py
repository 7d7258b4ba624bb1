"""Which commits each deployment shipped: one pass over the commit graph per service/environment.

Successful production deployments are visited in time order; each claims the ancestors of its SHA
that no earlier deployment of the same repository and environment claimed, walking parent links
and stopping at claimed commits (and at commits outside the synced history, the backfill window).
Every commit is visited once per environment, so the cost is linear in the graph, not deployments x
history. A rollback or a redeploy of an already shipped SHA claims nothing. Plain Python with no
Dagster or dbt import. Both engines run the same code, :func:`claim_arrow`: on DuckDB the dbt
Python model ``int_commit_deployments`` calls it once; on Spark the ancestry step
(pipelines/spark_ancestry.py) calls it once per repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

# The table of claims, as both engines store it (int_commit_deployments).
CLAIM_SCHEMA = pa.schema(
    [
        ("repository", pa.string()),
        ("environment", pa.string()),
        ("deployment_id", pa.string()),
        ("sha", pa.string()),
        ("depth", pa.int64()),
    ]
)
# Successful production deployments are visited in this order within a repository and environment
# (deployment_id breaks ties of deployed_at, so that the claims do not depend on row order).
DEPLOYMENT_ORDER = ["repository", "environment", "deployed_at", "deployment_id"]


@dataclass(frozen=True)
class Claim:
    """``deployment_id`` shipped ``sha`` (the first successful deployment whose SHA reaches it)."""

    deployment_id: str
    sha: str
    depth: int  # parent links from the deployment's SHA (0 = the deployed commit itself)


def claim_commits(
    parents: Mapping[str, Sequence[str]],
    deployments: Iterable[tuple[str, str | None]],
    claimed: set[str] | None = None,
) -> Iterator[Claim]:
    """Claims of ``deployments`` ((deployment_id, sha) in deployment time order) on one graph.

    ``parents`` maps every known commit to its parents' SHAs; a parent that is not a key lies
    outside the synced history and ends the walk. ``claimed`` (updated in place) holds commits
    already shipped, e.g. by deployments of an earlier incremental run.
    """
    seen = set() if claimed is None else claimed
    for deployment_id, sha, depth in _walk(parents, deployments, seen):
        yield Claim(deployment_id, sha, depth)


def _walk(
    parents: Mapping[str, Sequence[str]],
    deployments: Iterable[tuple[str, str | None]],
    seen: set[str],
) -> Iterator[tuple[str, str, int]]:
    """:func:`claim_commits` as (deployment_id, sha, depth) tuples: the table builders' loop,
    which visits every commit of the history once, so it allocates no object per claim."""
    for deployment_id, head in deployments:
        if head is None or head not in parents or head in seen:
            continue  # unknown SHA, rollback or redeploy: nothing new shipped
        seen.add(head)
        stack = [(head, 0)]
        while stack:
            sha, depth = stack.pop()
            yield deployment_id, sha, depth
            for parent in parents[sha]:
                if parent in parents and parent not in seen:
                    seen.add(parent)
                    stack.append((parent, depth + 1))


def _claim_columns(
    commits: Iterable[tuple[str, str, Sequence[str] | None]],
    deployments: Iterable[tuple[str, str, str, str | None]],
) -> tuple[list, list, list, list, list]:
    """The claims as five columns (:data:`CLAIM_SCHEMA`'s order); arguments as :func:`claim_table`.
    Only the graphs of repositories with a deployment are built."""
    partitions: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for repository, environment, deployment_id, sha in deployments:
        partitions.setdefault((repository, environment), []).append((deployment_id, sha))
    graphs: dict[str, dict[str, Sequence[str]]] = {r: {} for r, _ in partitions}
    for repository, sha, parent_shas in commits:
        graph = graphs.get(repository)
        if graph is not None:
            graph[sha] = parent_shas or ()
    repositories: list[str] = []
    environments: list[str] = []
    deployment_ids: list[str] = []
    shas: list[str] = []
    depths: list[int] = []
    for (repository, environment), ordered in partitions.items():
        before = len(shas)
        for deployment_id, sha, depth in _walk(graphs[repository], ordered, set()):
            deployment_ids.append(deployment_id)
            shas.append(sha)
            depths.append(depth)
        claimed = len(shas) - before
        repositories += [repository] * claimed
        environments += [environment] * claimed
    return repositories, environments, deployment_ids, shas, depths


def claim_table(
    commits: Iterable[tuple[str, str, Sequence[str] | None]],
    deployments: Iterable[tuple[str, str, str, str | None]],
) -> list[tuple[str, str, str, str, int]]:
    """(repository, environment, deployment_id, sha, depth) for every claimed commit.

    ``commits`` are (repository, sha, parent_shas); ``deployments`` are successful production
    deployments as (repository, environment, deployment_id, sha), already in time order.
    """
    return list(zip(*_claim_columns(commits, deployments), strict=True))


def claim_arrow(commits: pa.Table, deployments: pa.Table) -> pa.Table:
    """The claims (:data:`CLAIM_SCHEMA`) as an Arrow table, whatever the engine and row order.

    ``commits`` has columns repository, sha (not null) and parent_shas (a list); ``deployments``
    has repository, environment, deployment_id, commit_sha and deployed_at, one row per
    successful production deployment with a SHA, in any order: they are sorted here by
    :data:`DEPLOYMENT_ORDER` (nulls last, strings by code point, as DuckDB and Spark sort them).
    Commits of repositories without a deployment never leave Arrow.
    """
    order = pc.sort_indices(
        deployments, sort_keys=[(column, "ascending", "at_end") for column in DEPLOYMENT_ORDER]
    )
    ordered = deployments.take(order)
    commits = commits.filter(
        pc.is_in(commits.column("repository"), value_set=pc.unique(ordered.column("repository")))
    )

    def columns(table: pa.Table, names: tuple[str, ...]) -> Iterable[tuple]:
        return zip(*(table.column(name).to_pylist() for name in names), strict=True)

    claimed = _claim_columns(
        columns(commits, ("repository", "sha", "parent_shas")),
        columns(ordered, ("repository", "environment", "deployment_id", "commit_sha")),
    )
    return pa.Table.from_arrays(
        [pa.array(c, t) for c, t in zip(claimed, CLAIM_SCHEMA.types, strict=True)],
        schema=CLAIM_SCHEMA,
    )
