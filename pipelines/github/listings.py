"""Several repositories' small listings in one GraphQL query (``api: graphql``).

REST bills a request per repository for its metadata (``GET /repos/{o}/{r}``), another for its
tags and another for its releases: three of the dozen requests a repository costs on a first sync.
``RepositoryListings`` reads all three for :data:`~pipelines.github.graphql.LISTINGS_PER_QUERY`
repositories at once, for one point. :class:`~pipelines.github.sync.RepositorySync` then lands
what it was handed instead of asking REST, and asks REST only where a listing overflowed its first
page (more than 100 tags; more releases than the first page within the window).

A repository the query could not read (an error under its alias: not found, no GraphQL access)
gets no listing and is synced by REST, as is every repository of a query that failed as a whole
(the credential's GraphQL budget at its reserve, an outage): the listings only ever save requests,
and a failure here is never a failure of the sync. What failed is logged, one line per query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import SourceError
from pipelines.github import graphql as gql
from pipelines.github.client import GitHubClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepositoryListing:
    """One repository as ``RepositoryListings`` read it, already in REST's item shapes."""

    repository: dict[str, Any]
    tags: list[dict[str, Any]]
    #: False when the repository has more tags than one page: read them by REST.
    tags_complete: bool
    #: The newest releases first, one page (REST's ``/releases`` page 1 in the same order).
    releases: list[dict[str, Any]]
    #: False when more releases follow the page.
    releases_complete: bool


@dataclass
class ListingsReport:
    repositories: int = 0
    listed: int = 0
    queries: int = 0
    graphql_points: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # The shape of sync.EntityReport.as_dict, so cost reports add it up like any entity.
        return {
            "items": self.listed,
            "requests": 0,
            "graphql_queries": self.queries,
            "graphql_points": self.graphql_points,
        }


def fetch_listings(
    client: GitHubClient,
    repositories: Sequence[str],
    *,
    source: str,
    page: int = 100,
    per_query: int = gql.LISTINGS_PER_QUERY,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, RepositoryListing], ListingsReport]:
    """Listings of ``repositories``, ``per_query`` to a query; repositories missing from the
    result are synced by REST (see the module's docstring)."""
    report = ListingsReport(repositories=len(repositories))
    found: dict[str, RepositoryListing] = {}
    for start in range(0, len(repositories), per_query):
        batch = list(repositories[start : start + per_query])
        points = client.stats.graphql_points
        queries = client.stats.graphql_queries
        try:
            found.update(_fetch(client, batch, page))
        except SourceError as exc:
            # BudgetExhausted (the GraphQL reserve), auth, outages: REST syncs these repositories.
            line = f"{source}: listings of {batch[0]} and {len(batch) - 1} more by REST: {exc}"
            report.failures.append(line)
            log.warning("%s", line)
        finally:
            report.graphql_points += client.stats.graphql_points - points
            report.queries += client.stats.graphql_queries - queries
    report.listed = len(found)
    if progress and repositories:
        progress(
            f"{source}: repository, tags and releases of {report.listed} of "
            f"{report.repositories} repositories in {report.queries} GraphQL queries "
            f"({report.graphql_points} points)"
        )
    return found, report


def _alias_error(error: dict[str, Any]) -> bool:
    """An error confined to one repository's alias (its data is null): that one goes to REST."""
    path = error.get("path") or []
    return bool(path) and str(path[0]).startswith("r") and str(path[0])[1:].isdigit()


def _fetch(client: GitHubClient, batch: list[str], page: int) -> dict[str, RepositoryListing]:
    variables: dict[str, Any] = {}
    for i, repo in enumerate(batch):
        owner, name = repo.split("/", 1)
        variables[f"owner{i}"], variables[f"name{i}"] = owner, name
    data = client.graphql(
        gql.repository_listings_query(len(batch), page),
        variables,
        operation="RepositoryListings",
        tolerate=_alias_error,
    )
    found = {}
    for i, repo in enumerate(batch):
        node = data.get(f"r{i}")
        if not isinstance(node, dict):
            continue
        listing = _listing(node)
        if listing is not None:
            found[repo] = listing
    return found


def _listing(node: dict[str, Any]) -> RepositoryListing | None:
    refs, releases = node.get("refs"), node.get("releases")
    if not isinstance(refs, dict) or not isinstance(releases, dict):
        return None
    if not isinstance(refs.get("nodes"), list) or not isinstance(releases.get("nodes"), list):
        return None
    repository = gql.repository_item(node)
    if repository.get("id") is None or not repository.get("full_name"):
        return None
    return RepositoryListing(
        repository=repository,
        tags=[gql.tag_item(n) for n in refs["nodes"] if n],
        tags_complete=not (refs.get("pageInfo") or {}).get("hasNextPage"),
        releases=[gql.release_item(n) for n in releases["nodes"] if n],
        releases_complete=not (releases.get("pageInfo") or {}).get("hasNextPage"),
    )
