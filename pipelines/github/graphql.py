"""GitHub GraphQL (v4): the bulk path for pull requests, deployments and workflow jobs, billed as
GitHub bills it.

REST costs one request per pull request for its reviews and another for its commits, one per
deployment for its statuses, and one per workflow run for its jobs. One GraphQL query returns 50
pull requests with their labels, reviews and commits nested (2 points), 100 deployments with their
statuses (1 point), or the jobs of 100 workflow runs (1 point: ``nodes(ids:)`` on the runs' node
ids, each run's check suite's check runs; a check run's ``databaseId`` is the Actions job id); a
nested connection is paginated on its own only when it overflows (its ``pageInfo.hasNextPage``).

What GraphQL returns is translated here to the REST item shape before it lands (ADR 0008), so the
raw tables, the ``stg_github__*`` models and everything downstream do not know which path fetched a
row. The translation keeps exactly the fields the raw contract documents for the GraphQL path
(docs/raw-contract.md).

Cost: GitHub bills a query the number of requests needed to fill each connection (the product of
the ``first``/``last`` arguments of the connections around it), divided by 100, rounded, at least 1
(docs.github.com: "Calculating a rate limit score before running the call"). :func:`query_cost`
computes that from the query text for planning; the ``rateLimit { cost }`` each query requests is
what is recorded as billed.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import math
from typing import Any

from graphql import parse
from graphql.language import (
    FieldNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    SelectionSetNode,
    VariableNode,
)

from pipelines.errors import SourceError

#: Pull requests per query: 50 keeps one answer well under GitHub's 10-second query timeout even
#: with long bodies (DevLake uses 10), at 2 points; nested connections ask for this many too.
PULL_REQUEST_PAGE = 50
DEPLOYMENT_PAGE = 100
NESTED_PAGE = 50
#: Workflow runs per ``WorkflowJobs`` query (``nodes(ids:)`` takes at most 100) and check runs
#: (jobs) asked per run: a run with more is read on, 100 at a time (``WorkflowRunJobs``).
RUNS_PER_JOBS_QUERY = 100
JOBS_PER_RUN = 100
#: GitHub refuses a query that could return more than this many nodes.
MAX_NODES = 500_000

_RATE_LIMIT = "rateLimit { cost remaining resetAt }"
_ACTOR = "{ __typename login }"
_REVIEW_FIELDS = f"databaseId state submittedAt author {_ACTOR} commit {{ oid }}"
_COMMIT_FIELDS = (
    "commit { oid message author { name email date user { login } } committer { name email date } }"
)
_STATUS_FIELDS = (
    f"id state description environment logUrl environmentUrl createdAt updatedAt creator {_ACTOR}"
)

PULL_REQUESTS = f"""
query PullRequests($owner: String!, $name: String!, $first: Int!, $after: String, $nested: Int!) {{
  {_RATE_LIMIT}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        databaseId number title url body state isDraft createdAt updatedAt closedAt mergedAt
        author {_ACTOR}
        headRefName headRefOid baseRefName
        mergeCommit {{ oid }}
        potentialMergeCommit {{ oid }}
        labels(first: 100) {{ nodes {{ name }} }}
        reviews(first: $nested) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_REVIEW_FIELDS} }}
        }}
        commits(first: $nested) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_COMMIT_FIELDS} }}
        }}
      }}
    }}
  }}
}}
"""

PULL_REQUEST_REVIEWS = f"""
query PullRequestReviews($owner: String!, $name: String!, $number: Int!, $after: String) {{
  {_RATE_LIMIT}
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      reviews(first: 100, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_REVIEW_FIELDS} }}
      }}
    }}
  }}
}}
"""

PULL_REQUEST_COMMITS = f"""
query PullRequestCommits($owner: String!, $name: String!, $number: Int!, $after: String) {{
  {_RATE_LIMIT}
  repository(owner: $owner, name: $name) {{
    pullRequest(number: $number) {{
      commits(first: 100, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_COMMIT_FIELDS} }}
      }}
    }}
  }}
}}
"""

DEPLOYMENTS = f"""
query Deployments($owner: String!, $name: String!, $first: Int!, $after: String, $nested: Int!) {{
  {_RATE_LIMIT}
  repository(owner: $owner, name: $name) {{
    deployments(first: $first, after: $after, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id databaseId task environment originalEnvironment description createdAt updatedAt
        commitOid ref {{ name }} creator {_ACTOR}
        statuses(first: $nested) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_STATUS_FIELDS} }}
        }}
      }}
    }}
  }}
}}
"""

DEPLOYMENT_STATUSES = f"""
query DeploymentStatuses($id: ID!, $after: String) {{
  {_RATE_LIMIT}
  node(id: $id) {{
    ... on Deployment {{
      statuses(first: 100, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_STATUS_FIELDS} }}
      }}
    }}
  }}
}}
"""


# A check run of GitHub Actions is a workflow job: the same id (``databaseId``), node id, name,
# status, conclusion and start/end; what it lacks is the job's ``created_at`` (queued since).
# ``checkType: LATEST`` keeps the latest attempt's jobs, as REST's jobs listing does by default.
_CHECK_RUN_FIELDS = "id databaseId name status conclusion startedAt completedAt"
_CHECK_RUNS = "checkRuns(first: {first}, {after}filterBy: {{checkType: LATEST}})"

WORKFLOW_JOBS = f"""
query WorkflowJobs($ids: [ID!]!, $jobs: Int!) {{
  {_RATE_LIMIT}
  nodes(ids: $ids) {{
    ... on WorkflowRun {{
      id databaseId
      checkSuite {{
        {_CHECK_RUNS.format(first="$jobs", after="")} {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_CHECK_RUN_FIELDS} }}
        }}
      }}
    }}
  }}
}}
"""

WORKFLOW_RUN_JOBS = f"""
query WorkflowRunJobs($id: ID!, $after: String) {{
  {_RATE_LIMIT}
  node(id: $id) {{
    ... on WorkflowRun {{
      checkSuite {{
        {_CHECK_RUNS.format(first=100, after="after: $after, ")} {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{ {_CHECK_RUN_FIELDS} }}
        }}
      }}
    }}
  }}
}}
"""


# Several repositories' small listings in one query: the repository itself, its tags and its
# newest releases. Each is a list or object REST bills a request apiece per repository; here a
# connection per repository is a hundredth of a point, so LISTINGS_PER_QUERY repositories cost one
# point together (3 connections each: topics, tags, releases). A repository whose tags or releases
# overflow the first page is read on by REST (pipelines/github/listings.py).
LISTINGS_PER_QUERY = 25
_LISTING_FIELDS = """
    id databaseId name nameWithOwner url isPrivate isArchived createdAt pushedAt updatedAt
    owner {{ login }}
    defaultBranchRef {{ name }}
    repositoryTopics(first: 20) {{ nodes {{ topic {{ name }} }} }}
    refs(refPrefix: "refs/tags/", first: {page}) {{
      pageInfo {{ hasNextPage }}
      nodes {{ name target {{ __typename oid ... on Tag {{ target {{ oid }} }} }} }}
    }}
    releases(first: {page}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      pageInfo {{ hasNextPage }}
      nodes {{
        databaseId tagName name isDraft isPrerelease createdAt publishedAt url
        author {{ __typename login }}
      }}
    }}
"""


def repository_listings_query(count: int, page: int = 100) -> str:
    """``RepositoryListings`` for ``count`` repositories (variables ``owner0``/``name0``, ...;
    answers under the aliases ``r0``, ...), tags and releases ``page`` to a repository."""
    if not 1 <= count <= LISTINGS_PER_QUERY or not 1 <= page <= 100:
        raise ValueError(f"count must be 1..{LISTINGS_PER_QUERY} and page 1..100")
    parameters = ", ".join(f"$owner{i}: String!, $name{i}: String!" for i in range(count))
    fields = _LISTING_FIELDS.format(page=page)
    aliases = "".join(
        f"  r{i}: repository(owner: $owner{i}, name: $name{i}) {{{fields}  }}\n"
        for i in range(count)
    )
    return f"query RepositoryListings({parameters}) {{\n  {_RATE_LIMIT}\n{aliases}}}\n"


class GraphQLError(SourceError):
    """GitHub answered a GraphQL query with an ``errors`` array (``types``: their ``type`` codes)."""

    def __init__(self, message: str, types: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.types = types


def graphql_url(base_url: str) -> str:
    """``https://api.github.com`` -> ``.../graphql``; Enterprise ``https://HOST/api/v3`` ->
    ``https://HOST/api/graphql``."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base.removesuffix("/v3") + "/graphql"
    return base + "/graphql"


# --- cost ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _document(query: str):
    return parse(query)


def query_requests(query: str, variables: dict[str, Any] | None = None) -> tuple[int, int]:
    """(requests, nodes) GitHub counts for ``query``: each connection (a field with ``first`` or
    ``last``) is requested once per node of the connections around it."""
    variables = variables or {}
    requests = nodes = 0

    def size(field: FieldNode) -> int | None:
        for argument in field.arguments:
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, VariableNode):
                    return int(variables.get(value.name.value) or 0)
                if isinstance(value, IntValueNode):
                    return int(value.value)
        return None

    def listed(field: FieldNode) -> int | None:
        """``nodes(ids: [...])``: not a connection, but each id's connections are filled once."""
        for argument in field.arguments:
            if argument.name.value == "ids":
                value = argument.value
                if isinstance(value, VariableNode):
                    return len(variables.get(value.name.value) or [])
                if isinstance(value, ListValueNode):
                    return len(value.values)
        return None

    def walk(selection_set: SelectionSetNode | None, multiplier: int) -> None:
        nonlocal requests, nodes
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, multiplier)
            elif isinstance(selection, FieldNode):
                if selection.name.value == "rateLimit":
                    continue
                n = size(selection)
                ids = listed(selection)
                if ids is not None:
                    walk(selection.selection_set, multiplier * ids)
                elif n is None:
                    walk(selection.selection_set, multiplier)
                else:
                    requests += multiplier
                    nodes += multiplier * n
                    walk(selection.selection_set, multiplier * n)

    for definition in _document(query).definitions:
        walk(getattr(definition, "selection_set", None), 1)
    return requests, nodes


def query_cost(query: str, variables: dict[str, Any] | None = None) -> int:
    """Points GitHub bills for ``query``: requests / 100, rounded half up, at least 1."""
    requests, _ = query_requests(query, variables)
    return max(1, math.floor(requests / 100 + 0.5))


def check_node_limit(query: str, variables: dict[str, Any]) -> None:
    _, nodes = query_requests(query, variables)
    if nodes > MAX_NODES:
        raise SourceError(
            f"GitHub GraphQL query could return {nodes:,} nodes, over GitHub's {MAX_NODES:,}; "
            "lower the page sizes"
        )


# --- GraphQL nodes -> REST items ------------------------------------------------------------------


def _utc(value: str | None) -> str | None:
    """GraphQL ``GitTimestamp`` keeps the committer's offset; REST gives UTC with ``Z``."""
    if not value:
        return value
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(actor: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GraphQL actor as REST's user object: a Bot's GraphQL login lacks REST's ``[bot]``."""
    if not actor:
        return None
    kind = actor.get("__typename") or "User"
    login = actor.get("login")
    if kind == "Bot" and login and not login.endswith("[bot]"):
        login = f"{login}[bot]"
    return {"login": login, "type": kind if kind in ("Bot", "Organization") else "User"}


def pull_request_item(node: dict[str, Any]) -> dict[str, Any]:
    merge = node.get("mergeCommit") or node.get("potentialMergeCommit") or {}
    state = (node.get("state") or "").lower()
    return {
        "id": node.get("databaseId"),
        "number": node["number"],
        "title": node.get("title"),
        "html_url": node.get("url"),
        "body": node.get("body"),
        "state": "closed" if state == "merged" else state,
        "draft": bool(node.get("isDraft")),
        "user": _user(node.get("author")),
        "labels": [
            {"name": label["name"]} for label in (node.get("labels") or {}).get("nodes") or []
        ],
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "base": {"ref": node.get("baseRefName")},
        "merge_commit_sha": merge.get("oid"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "closed_at": node.get("closedAt"),
        "merged_at": node.get("mergedAt"),
    }


def repository_item(node: dict[str, Any]) -> dict[str, Any]:
    """A ``Repository`` as REST's ``GET /repos/{owner}/{repo}``, the fields staging reads and a
    few that identify it. An empty repository has no default branch in GraphQL (REST says the
    configured name); ``default_branch`` is then null."""
    topics = (node.get("repositoryTopics") or {}).get("nodes") or []
    return {
        "id": node.get("databaseId"),
        "node_id": node.get("id"),
        "name": node.get("name"),
        "full_name": node.get("nameWithOwner"),
        "owner": {"login": (node.get("owner") or {}).get("login")},
        "html_url": node.get("url"),
        "private": node.get("isPrivate"),
        "archived": node.get("isArchived"),
        "default_branch": (node.get("defaultBranchRef") or {}).get("name"),
        "topics": [t["topic"]["name"] for t in topics if t and t.get("topic")],
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "pushed_at": node.get("pushedAt"),
    }


def tag_item(node: dict[str, Any]) -> dict[str, Any]:
    """A ``refs/tags/`` ref as REST's tag: ``commit.sha`` is the commit an annotated tag points
    to (REST peels it too)."""
    target = node.get("target") or {}
    if target.get("__typename") == "Tag":
        target = target.get("target") or {}
    return {"name": node.get("name"), "commit": {"sha": target.get("oid")}}


def release_item(node: dict[str, Any]) -> dict[str, Any]:
    # REST's target_commitish (the branch or commit named when the release was made) has no
    # GraphQL field: left out, so stg_github__releases shows it null for releases read this way.
    return {
        "id": node.get("databaseId"),
        "tag_name": node.get("tagName"),
        "name": node.get("name"),
        "draft": bool(node.get("isDraft")),
        "prerelease": bool(node.get("isPrerelease")),
        "author": _user(node.get("author")),
        "html_url": node.get("url"),
        "created_at": node.get("createdAt"),
        "published_at": node.get("publishedAt"),
    }


def review_item(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": node.get("databaseId"),
        "user": _user(node.get("author")),
        "state": node.get("state"),
        "commit_id": (node.get("commit") or {}).get("oid"),
        "submitted_at": node.get("submittedAt"),
    }


def commit_item(node: dict[str, Any]) -> dict[str, Any]:
    commit = node.get("commit") or node
    author = commit.get("author") or {}
    committer = commit.get("committer") or {}
    user = author.get("user")
    return {
        "sha": commit["oid"],
        "author": {"login": user["login"]} if user and user.get("login") else None,
        "commit": {
            "message": commit.get("message"),
            "author": {
                "name": author.get("name"),
                "email": author.get("email"),
                "date": _utc(author.get("date")),
            },
            "committer": {
                "name": committer.get("name"),
                "email": committer.get("email"),
                "date": _utc(committer.get("date")),
            },
        },
    }


def deployment_item(node: dict[str, Any]) -> dict[str, Any]:
    # REST's production_environment / transient_environment have no GraphQL field: left out, so
    # stg_github__deployments shows them null for deployments read through GraphQL.
    return {
        "id": node.get("databaseId"),
        "node_id": node.get("id"),
        "task": node.get("task"),
        "environment": node.get("environment"),
        "original_environment": node.get("originalEnvironment"),
        "description": node.get("description"),
        "ref": (node.get("ref") or {}).get("name") or node.get("commitOid"),
        "sha": node.get("commitOid"),
        "creator": _user(node.get("creator")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }


def status_item(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": database_id(node["id"]),
        "node_id": node["id"],
        "state": (node.get("state") or "").lower(),
        "description": node.get("description"),
        "environment": node.get("environment"),
        "creator": _user(node.get("creator")),
        # REST's target_url is the deprecated name of log_url and carries the same value.
        "target_url": node.get("logUrl"),
        "log_url": node.get("logUrl"),
        "environment_url": node.get("environmentUrl"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }


def job_item(node: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """A check run of a workflow run as REST's workflow job (``GET .../actions/runs/{id}/jobs``).

    The run gives what a check run does not carry (run id, attempt, workflow name, branch, commit);
    ``created_at`` (when the job was queued), the runner and its labels have no GraphQL
    counterpart and stay null, so such a job has run times but no queue time.
    """
    return {
        "id": node.get("databaseId"),
        "node_id": node.get("id"),
        "run_id": run.get("id"),
        "run_attempt": run.get("run_attempt"),
        "name": node.get("name"),
        "workflow_name": run.get("name"),
        "head_branch": run.get("head_branch"),
        "head_sha": run.get("head_sha"),
        "status": (node.get("status") or "").lower() or None,
        "conclusion": (node.get("conclusion") or "").lower() or None,
        "created_at": None,
        "started_at": _utc(node.get("startedAt")),
        "completed_at": _utc(node.get("completedAt")),
        "runner_name": None,
        "labels": None,
    }


def database_id(node_id: str) -> int | None:
    """The REST id inside a GraphQL node id (``DeploymentStatus`` has no ``databaseId`` field).

    GitHub's node ids are either legacy ``base64("<len>:<Type><id>")`` or ``<PREFIX>_`` +
    base64url(MessagePack ``[0, <repository id>, <object id>]``); the object's id is the REST id.
    None when the id is in neither form.
    """
    try:
        if "_" in node_id:
            values = node_id_numbers(node_id)
            return values[-1] if len(values) >= 2 else None
        text = base64.b64decode(node_id + "==").decode("ascii")
        digits = text.rstrip("0123456789")
        return int(text[len(digits) :]) if len(digits) < len(text) else None
    except (ValueError, UnicodeDecodeError):
        return None


def node_id_numbers(node_id: str) -> list[int]:
    """The integers of a new-style node id after its leading version 0: [repository id, object id]."""
    try:
        values = _msgpack_ints(base64.urlsafe_b64decode(node_id.split("_", 1)[1] + "=="))
    except (ValueError, IndexError):
        return []
    return values[1:]


def _msgpack_ints(raw: bytes) -> list[int]:
    """Decode a MessagePack array of unsigned integers (all a node id holds)."""
    if not raw or raw[0] & 0xF0 != 0x90:
        raise ValueError("not a MessagePack fixarray")
    out, i = [], 1
    widths = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}
    for _ in range(raw[0] & 0x0F):
        tag = raw[i]
        if tag < 0x80:
            out.append(tag)
            i += 1
        elif tag in widths:
            width = widths[tag]
            if i + 1 + width > len(raw):
                raise ValueError("truncated MessagePack integer")
            out.append(int.from_bytes(raw[i + 1 : i + 1 + width], "big"))
            i += 1 + width
        else:
            raise ValueError("not an unsigned integer")
    return out


def encode_node_id(prefix: str, repository_id: int, object_id: int) -> str:
    """The new-style node id of an object (what the demo's fake API hands out)."""

    def uint(value: int) -> bytes:
        if value < 0x80:
            return bytes([value])
        for tag, width in ((0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8)):
            if value < 1 << (8 * width):
                return bytes([tag]) + value.to_bytes(width, "big")
        raise ValueError("id too large")

    raw = bytes([0x93]) + uint(0) + uint(repository_id) + uint(object_id)
    return f"{prefix}_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
