"""The demo's platform story: adoption of the golden path, a topic, and self-service requests.

Everything here is decided from the seed and the window alone, with random streams of its own, so
the repository simulations (pull requests, deployments, incidents) and every number they give are
the same with or without it. What it changes is how the runs, jobs, repositories and issues are
*rendered*:

- The repositories of the platform's own (``internal``) services deploy through the reusable
  workflow ``<owner>/deploy-pipelines/.github/workflows/deploy.yml`` all along; services created
  from the service template (the ``new`` repositories) from their first deployment; the others
  migrate one by one at seeded dates spread over the window (evenly spaced quantiles, so that about
  30% are on it when the window opens and 85-90% at its end). A production ``Deploy`` run after
  the migration lists the reusable workflow in ``referenced_workflows``, as GitHub's API does.
- After its migration a repository's jobs run on the platform's runners: they wait for a runner
  ``PLATFORM_QUEUE_FACTOR`` as long (rendered as a later job ``created_at``; start and end times,
  which the simulation decided, do not move).
- Some repositories carry the ``platform-observability`` topic (every new one does).
- ``developer-portal`` (when the organisation has it) holds the self-service requests: successful
  ``Create service`` / ``Provision database`` workflow_dispatch runs (automated fulfilment, one per
  new service plus a seeded stream) and issues labelled ``platform-request`` (fulfilled by people).
  The automated share grows over the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.demo._common import DAY, MINUTE, Person, poisson, rng_for, snap, stable_int

GOLDEN_PATH_REPOSITORY = "deploy-pipelines"
GOLDEN_PATH_FILE = ".github/workflows/deploy.yml"
GOLDEN_PATH_REF = "refs/tags/v2"
OBSERVABILITY_TOPIC = "platform-observability"
SELF_SERVICE_REPOSITORY = "developer-portal"
REQUEST_LABEL = "platform-request"
# key: (name, path), like render.WORKFLOWS
SELF_SERVICE_WORKFLOWS = {
    "create_service": ("Create service", ".github/workflows/create-service.yml"),
    "provision_database": ("Provision database", ".github/workflows/provision-database.yml"),
}
PLATFORM_QUEUE_FACTOR = 0.35
# Share of eligible repositories on the golden path when the window opens, and when it closes.
ADOPTION_AT_START, ADOPTION_AT_END = 0.3, 0.85
REQUESTS_PER_MONTH = 9.0
HUMAN_REQUESTS = [
    "Request: new PostgreSQL database for {service}",
    "Request: DNS record for {service}",
    "Request: raise CPU quota of {service}",
    "Request: Kafka topic for {service}",
    "Request: access to the production logs of {service}",
    "Request: new service repository for {team}",
]


@dataclass(frozen=True)
class SelfServiceRun:
    workflow: str  # a key of SELF_SERVICE_WORKFLOWS
    created: dt.datetime
    seconds: float  # run time of its single job
    actor: Person
    title: str


@dataclass(frozen=True)
class RequestIssue:
    created: dt.datetime
    author: Person
    title: str
    closed: dt.datetime | None


def golden_path_workflow(owner: str) -> str:
    """The reusable deploy workflow as GitHub writes it in ``referenced_workflows[].path``."""
    return f"{owner}/{GOLDEN_PATH_REPOSITORY}/{GOLDEN_PATH_FILE}@v2"


def golden_path_since(
    seed: int,
    start: dt.datetime,
    horizon: dt.datetime,
    repositories: list[tuple[str, str, bool, dt.datetime]],
) -> dict[str, dt.datetime | None]:
    """When each repository starts deploying through the reusable workflow (None: never).

    ``repositories``: (full name, tier, created from the template, created at).
    """
    since: dict[str, dt.datetime | None] = {}
    migrating = []
    for name, tier, new, created in repositories:
        if tier == "internal":
            since[name] = start - DAY * 365  # the platform team's own services: all along
        elif new:
            since[name] = created  # the template deploys through it from the first deployment
        else:
            migrating.append(name)
    migrating.sort(key=lambda name: stable_int(seed, "golden-path", name))
    window = horizon - start
    for i, name in enumerate(migrating):
        quantile = (i + 0.5) / len(migrating)
        fraction = (quantile - ADOPTION_AT_START) / (ADOPTION_AT_END - ADOPTION_AT_START)
        if fraction < 0:
            since[name] = start - DAY * (30 + stable_int(seed, "golden-path-early", name) % 200)
        elif fraction <= 1:
            since[name] = snap(start + window * fraction)
        else:
            since[name] = None
    return since


def has_observability_topic(seed: int, full_name: str, new: bool) -> bool:
    return new or stable_int(seed, "observability", full_name) % 10 < 6


def is_self_service_repository(full_name: str) -> bool:
    return full_name.split("/", 1)[-1] == SELF_SERVICE_REPOSITORY


def self_service_requests(
    seed: int,
    full_name: str,
    start: dt.datetime,
    horizon: dt.datetime,
    people: list[Person],
    services: list[tuple[str, str]],
    new_services: list[tuple[str, dt.datetime]],
) -> tuple[list[SelfServiceRun], list[RequestIssue]]:
    """The requests the developer portal received, fulfilled by a workflow or by a person.

    ``services``: (service, team) of the organisation; ``new_services``: (service, created at) of
    the services created from the template, each requested through ``Create service`` first.
    """
    rng = rng_for(seed, "self-service", full_name, start.isoformat(), horizon.isoformat())
    runs: list[SelfServiceRun] = []
    issues: list[RequestIssue] = []
    for service, created in new_services:
        requested = snap(created - MINUTE * rng.uniform(3, 9))
        if start <= requested <= horizon:
            runs.append(
                SelfServiceRun(
                    "create_service",
                    requested,
                    rng.uniform(60, 150),
                    rng.choice(people),
                    f"Create service {service}",
                )
            )
    window = horizon - start
    month = start
    while month < horizon:
        fraction = (month - start) / window
        automated_share = 0.25 + 0.55 * fraction
        for _ in range(poisson(rng, REQUESTS_PER_MONTH)):
            created = snap(month + DAY * rng.uniform(0, 30.4))
            if not start <= created <= horizon or created.weekday() >= 5:
                continue
            created = created.replace(hour=7 + int(rng.uniform(0, 10)))
            service, team = rng.choice(services)
            if rng.random() < automated_share:
                workflow = "provision_database" if rng.random() < 0.75 else "create_service"
                title = (
                    f"Provision database for {service}"
                    if workflow == "provision_database"
                    else f"Create service {team}-sandbox"
                )
                seconds = rng.uniform(90, 420)
                if created + dt.timedelta(seconds=seconds + 10) <= horizon:
                    runs.append(
                        SelfServiceRun(workflow, created, seconds, rng.choice(people), title)
                    )
            else:
                title = rng.choice(HUMAN_REQUESTS).format(service=service, team=team)
                closed = created + DAY * rng.uniform(0.5, 9)
                issues.append(
                    RequestIssue(
                        created,
                        rng.choice(people),
                        title,
                        snap(closed) if closed <= horizon else None,
                    )
                )
        month += DAY * 30.4
    return runs, issues
