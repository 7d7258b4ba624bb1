"""Which repositories a GitHub source syncs: its organisations' (or users') repositories, filtered,
plus an explicit list.

``/orgs/{name}/repos`` lists an organisation's repositories; a name that is a user, not an
organisation, answers 404 there and is listed through ``/users/{name}/repos`` instead. Filters apply
to discovered repositories only: a repository named explicitly is always synced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import SourceNotFoundError
from pipelines.github.client import GitHubClient


@dataclass(frozen=True)
class RepositoryFilter:
    include_archived: bool = False
    include_forks: bool = False
    name_regex: str | None = None  # searched in "owner/name"
    topics: tuple[str, ...] = field(default_factory=tuple)  # keep repositories with any of these

    def keeps(self, repo: dict[str, Any]) -> bool:
        if repo.get("archived") and not self.include_archived:
            return False
        if repo.get("fork") and not self.include_forks:
            return False
        if self.name_regex and not re.search(self.name_regex, repo["full_name"]):
            return False
        return not self.topics or bool(set(self.topics) & set(repo.get("topics") or ()))


def owner_repositories(client: GitHubClient, owner: str) -> list[dict[str, Any]]:
    """Every repository of an organisation, or of a user when ``owner`` is not an organisation."""
    try:
        pages = list(client.paginate(f"/orgs/{owner}/repos", {"type": "all"}))
    except SourceNotFoundError:
        try:
            pages = list(client.paginate(f"/users/{owner}/repos", {"type": "owner"}))
        except SourceNotFoundError:
            raise SourceNotFoundError(
                f"GitHub has no organisation or user {owner!r} at {client.base_url} "
                "(sources.github[].organisations); check the name and the token's access"
            ) from None
    return [repo for page in pages for repo in page.items]


def discover_repositories(
    client: GitHubClient,
    owners: Iterable[str],
    explicit: Iterable[str],
    repository_filter: RepositoryFilter | None = None,
) -> list[str]:
    """Full names to sync: the owners' repositories that pass the filter, plus ``explicit``; sorted."""
    keep = repository_filter or RepositoryFilter()
    names = set(explicit)
    for owner in owners:
        names.update(r["full_name"] for r in owner_repositories(client, owner) if keep.keeps(r))
    return sorted(names)
