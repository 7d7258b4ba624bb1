"""``platform-metrics init``: discover a GitHub organisation and propose a configuration for it.

Through the same ``GitHubClient`` the sync uses (retries, rate limits, one origin): the
organisation's repositories, its teams and the repositories each team holds, each repository's
CODEOWNERS (the first team owner of ``*``), deployment environments and Actions workflows. From
those it proposes one service per repository, owned by the team that holds it (GitHub teams first,
then CODEOWNERS, else ``unassigned``), a deployment environment pattern and a deploy-workflow
pattern, and writes them as a commented YAML configuration for the user to review.

Nothing here is guessed silently: what could not be read (no teams endpoint access, no CODEOWNERS)
is named in the file's comments and in the lines returned to the CLI.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass, field

from pipelines.errors import ConfigError, SourceError, SourceNotFoundError
from pipelines.github.client import GitHubClient
from pipelines.github.discovery import owner_repositories

# Above this many repositories, per-repository discovery (CODEOWNERS, environments, workflows:
# three requests each) and the cost estimate are skipped: the config still lists every repository.
PER_REPOSITORY_LIMIT = 200
UNASSIGNED = "unassigned"
_CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_PRODUCTION = re.compile(r"(?i)^prod(uction)?$")
_DEPLOY = re.compile(r"(?i)deploy|release")


@dataclass
class Discovery:
    organisation: str
    repositories: list[str] = field(default_factory=list)  # full names, archived ones left out
    archived: int = 0
    team_repositories: dict[str, list[str]] = field(default_factory=dict)  # team slug -> repos
    codeowners: dict[str, str] = field(default_factory=dict)  # repo -> team slug
    environments: Counter[str] = field(default_factory=Counter)
    workflows: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)  # what could not be read, one line each
    per_repository: bool = True  # whether CODEOWNERS, environments and workflows were read

    def owner_of(self, repository: str) -> tuple[str, str]:
        """(team, why) for a repository: the GitHub team holding it (the one holding fewest
        repositories, the most specific), else its CODEOWNERS team, else unassigned."""
        holders = [t for t, repos in self.team_repositories.items() if repository in repos]
        if holders:
            team = min(holders, key=lambda t: (len(self.team_repositories[t]), t))
            return team, "GitHub team"
        if repository in self.codeowners:
            return self.codeowners[repository], "CODEOWNERS"
        return UNASSIGNED, "no team holds it and no CODEOWNERS names one"


def discover(client: GitHubClient, organisation: str) -> Discovery:
    """Read what a configuration needs from ``organisation``. Raises SourceAuthError (401/403),
    SourceNotFoundError (no such organisation or no access) and ConfigError (no repositories)."""
    found = Discovery(organisation)
    repos = owner_repositories(client, organisation)
    found.archived = sum(1 for r in repos if r.get("archived"))
    found.repositories = sorted(r["full_name"] for r in repos if not r.get("archived"))
    if not found.repositories:
        raise ConfigError(
            f"--org {organisation}: no repositories visible to this token at {client.base_url} "
            f"({found.archived} archived); check the organisation name and the token's access "
            "(docs/sources/github.md#token)"
        )
    _discover_teams(client, found)
    if len(found.repositories) > PER_REPOSITORY_LIMIT:
        found.per_repository = False
        found.notes.append(
            f"{len(found.repositories):,} repositories: CODEOWNERS, environments and workflows "
            f"are read only up to {PER_REPOSITORY_LIMIT}; every repository is listed, review the "
            "services and narrow sources.github with repository_filter or repositories"
        )
        return found
    for repository in found.repositories:
        owner = _codeowners_team(client, repository)
        if owner:
            found.codeowners[repository] = owner
        found.environments.update(
            _names(client, f"/repos/{repository}/environments", "environments")
        )
        found.workflows.update(
            _names(client, f"/repos/{repository}/actions/workflows", "workflows")
        )
    return found


def _discover_teams(client: GitHubClient, found: Discovery) -> None:
    try:
        teams = [
            t for page in client.paginate(f"/orgs/{found.organisation}/teams") for t in page.items
        ]
    except (SourceNotFoundError, SourceError) as exc:
        found.notes.append(
            f"teams not read ({_short(exc)}): the token needs read:org to list teams; "
            "owners come from CODEOWNERS only"
        )
        return
    for team in teams:
        slug = team["slug"]
        try:
            repos = [
                r["full_name"]
                for page in client.paginate(f"/orgs/{found.organisation}/teams/{slug}/repos")
                for r in page.items
            ]
        except SourceError as exc:
            found.notes.append(f"team {slug}: repositories not read ({_short(exc)})")
            continue
        found.team_repositories[slug] = sorted(set(repos) & set(found.repositories))


def _codeowners_team(client: GitHubClient, repository: str) -> str | None:
    """The first ``@org/team`` owner on a ``*`` line of the repository's CODEOWNERS."""
    for path in _CODEOWNERS_PATHS:
        try:
            data = client.get(f"/repos/{repository}/contents/{path}").data
        except SourceNotFoundError:
            continue
        except SourceError:
            return None
        if not isinstance(data, dict) or "content" not in data:
            continue
        text = base64.b64decode(data["content"]).decode("utf-8", "replace")
        for line in text.splitlines():
            parts = line.split("#", 1)[0].split()
            if parts and parts[0] in ("*", "/*", "/**"):
                for owner in parts[1:]:
                    if owner.startswith("@") and "/" in owner:
                        return owner.split("/", 1)[1]
        return None
    return None


def _names(client: GitHubClient, path: str, key: str) -> list[str]:
    try:
        return [
            item["name"] for page in client.paginate(path, items_key=key) for item in page.items
        ]
    except SourceError:
        return []


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120]


# ------------------------------------------------------------------------------ the proposed config
def render_config(found: Discovery, *, base_url: str, token_env: str) -> str:
    """A commented YAML configuration for ``found``; outputs under build/ (relative to the file)."""
    owners = {repo: found.owner_of(repo) for repo in found.repositories}
    teams = sorted({team for team, _ in owners.values()})
    production = sorted(e for e in found.environments if _PRODUCTION.match(e))
    deploy = sorted(w for w in found.workflows if _DEPLOY.search(w))
    lines = [
        f"# Proposed by `platform-metrics init --org {found.organisation}`. Review it, then run",
        "#   .venv/bin/platform-metrics validate --config <this file>",
        "#   .venv/bin/platform-metrics run --config <this file>",
        "# Every key: docs/configuration.md. Relative paths are relative to this file's folder.",
        *(f"# Note: {note}" for note in found.notes),
        "",
        "organisation:",
        f"  name: {_quote(found.organisation)}",
        "  timezone: UTC                       # an IANA name: weeks and months are cut in it",
        "",
        "# Teams: from GitHub teams holding repositories, then CODEOWNERS. engineers is a placeholder:",
        "# set each team's head count (per-engineer load signals divide by it).",
        "teams:",
        *(
            f"  - {{name: {_quote(team)}, engineers: 1}}   # head count unknown: set it"
            for team in teams
        ),
        "",
        "# One service per repository, owned by the team that holds it. Merge repositories that",
        "# make one service; a repository may belong to one service only.",
        "services:",
    ]
    for repo in found.repositories:
        team, why = owners[repo]
        lines += [
            f"  - name: {_quote(repo.split('/', 1)[1])}",
            f"    team: {_quote(team)}                # {why}",
            f"    repositories: [{_quote(repo)}]",
        ]
    lines += [
        "",
        "sources:",
        "  github:",
        "    - name: github",
        f"      base_url: {_quote(base_url)}",
        f"      token: ${{{token_env}}}",
        f"      organisations: [{_quote(found.organisation)}]",
        "      backfill_days: 365",
        "",
    ]
    seen = ", ".join(sorted(found.environments)) or "none"
    deployment = []
    if production:
        pattern = "^(" + "|".join(map(_escape, production)) + ")$"
        deployment.append(f"    environment_regex: {_quote(pattern)}  # environments seen: {seen}")
    if deploy:
        pattern = "(?i)^(" + "|".join(map(_escape, deploy)) + ")$"
        deployment.append(f"    workflow_regex: {_quote(pattern)}  # deploy workflows seen")
    if deployment:
        lines += ["metrics:", "  deployment:", *deployment]
    else:
        lines.append(
            f"# metrics.deployment: the defaults (no production environment among: {seen}; "
            "no workflow named deploy or release)"
        )
    lines += [
        "",
        "warehouse:",
        "  path: build/warehouse.duckdb",
        "publish:",
        "  site_dir: build/site",
        "  snapshot_dir: build/snapshot",
        "",
    ]
    return "\n".join(lines)


def _escape(name: str) -> str:
    """A literal name inside an RE2 pattern (only regex metacharacters escaped)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", name)


def _quote(value: str) -> str:
    """A YAML double-quoted scalar (safe for any name)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
