"""Small raw layers synced through the production clients and the demo's fake API, for the tests
that build dbt on them (tests/test_incremental_models.py, tests/test_spark_models.py) or export
them (tests/test_spark_target.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from pipelines.config import Config
from pipelines.warehouse import RawRecord, upsert_raw

SLO = "checkout-availability"
END_DATE = dt.date(2026, 6, 30)
SLI_START = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp())


def sli_sample(epoch: int, value: float) -> RawRecord:
    return RawRecord(
        natural_key=f"{SLO}/value/{epoch}/-",
        scope=SLO,
        payload={
            "sli_metric": "value",
            "query": "avg(up)",
            "step_seconds": 3600,
            "value": [epoch, str(value)],
        },
        updated_at=dt.datetime.fromtimestamp(epoch, dt.UTC),
    )


def sync_demo_raw_layer(con: duckdb.DuckDBPyConnection, config: Config, *, sli_hours: int) -> None:
    """Every raw table (empty where no source fills it), the organisation, a GitHub and PagerDuty
    sync of ``config``'s demo organisation, and ``sli_hours`` hourly SLI samples from SLI_START."""
    from pipelines import ingest as ingest_mod
    from pipelines.organisation import write_organisation

    clients = ingest_mod.SourceClients(config)
    ingest_mod.ensure_raw_tables(con)
    write_organisation(con, config)
    ingest_mod.sync_github(con, clients)
    ingest_mod.sync_pagerduty(con, clients)
    samples = [sli_sample(SLI_START + 3600 * i, 0.999) for i in range(sli_hours)]
    upsert_raw(con, "prometheus_sli_samples", "prometheus", samples)


def sync_every_source_raw_layer(
    con: duckdb.DuckDBPyConnection, inbox: Path, *, months: int = 1
) -> None:
    """The embedded demo organisation over ``months`` months to END_DATE, synced by every
    built-in source (GitHub, GitLab, Argo CD, Jenkins, PagerDuty, surveys from ``inbox``,
    Prometheus; Opsgenie, Statuspage and incident files are not configured there), then
    :func:`add_edge_case_rows`. About 15,000 rows for one month."""
    from pipelines import ingest as ingest_mod
    from pipelines import sources
    from pipelines.config import DEMO_CONFIG_PATH, load_config
    from pipelines.organisation import write_organisation
    from pipelines.source import SyncRequest

    config = load_config(DEMO_CONFIG_PATH)
    surveys = config.sources.surveys.model_copy(update={"inbox": inbox})
    config = config.model_copy(
        update={
            "demo": config.demo.model_copy(update={"end_date": END_DATE, "months": months}),
            "sources": config.sources.model_copy(update={"surveys": surveys}),
        }
    )
    clients = ingest_mod.SourceClients(config)
    ingest_mod.ensure_raw_tables(con)
    write_organisation(con, config)
    for source in sources.BUILTIN_SOURCES:
        outcome = source.sync(con, SyncRequest(clients=clients))
        assert not (outcome and outcome.errors), (source.name, outcome.errors)
    add_edge_case_rows(con)


def _records(items: list[tuple[str, str, dict, str | None]]) -> list[RawRecord]:
    return [
        RawRecord(natural_key=key, scope=scope, payload=payload, parent_key=parent)
        for key, scope, payload, parent in items
    ]


def add_edge_case_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Hand-written rows for the raw tables the demo leaves empty (GitLab pipelines, jobs,
    deployments, environments, releases and tags; Opsgenie, Statuspage, incident files), Argo CD
    Degraded spells (the demo's applications stay Healthy), and payloads that tell engines apart
    (tests/test_spark_models.py): backslashes, quotes, unicode and newlines in strings; list
    elements without the key a path names, or with a JSON null; JSON null, missing and empty
    arrays; timestamps with milliseconds, offsets and no time; a Jenkins remote whose repository
    name ends in "git" (a regex whose backslash Spark dropped would cut it); an unfinished
    build; PagerDuty log entries of several kinds."""
    project = "payments/edge-cases"
    odd = "back\\slash 'single' \"double\" é ü 日本 \n new line \t tab"
    upsert_raw(
        con,
        "gitlab_pipelines",
        "gitlab",
        _records(
            [
                (
                    f"{project}/pipeline/{n}",
                    project,
                    {
                        "id": 9000 + n,
                        "iid": n,
                        "name": odd if n == 1 else None,
                        "source": "push",
                        "ref": "main",
                        "tag": n == 2,
                        "sha": f"{n:040x}",
                        "status": ["success", "failed", "running"][n],
                        "user": {"username": "ana"} if n else None,
                        "web_url": f"https://gitlab.example/{project}/-/pipelines/{9000 + n}",
                        "duration": [12.5, None, 0.001][n],
                        "queued_duration": [0.25, 3, None][n],
                        "created_at": "2026-06-03T10:15:30.123Z",
                        "started_at": "2026-06-03T12:15:31.5+02:00",
                        "finished_at": None if n == 2 else "2026-06-03T10:20:00Z",
                        "updated_at": "2026-06-04",
                    },
                    None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "gitlab_jobs",
        "gitlab",
        _records(
            [
                (
                    f"{project}/job/{n}",
                    project,
                    {
                        "id": 7000 + n,
                        "name": "deploy: \\prod\\",
                        "stage": "deploy",
                        "ref": "main",
                        "pipeline": {"id": 9000 + n, "sha": f"{n:040x}"},
                        "commit": {"id": f"{n + 1:040x}"} if n == 1 else None,
                        "status": "success",
                        "allow_failure": n == 2,
                        "runner": {"description": "runner é"},
                        "tag_list": [[], ["docker", "linux\\x86"], None][n],
                        "duration": 61.123456789,
                        "queued_duration": 0.5,
                        "created_at": "2026-06-03T10:15:30Z",
                        "started_at": "2026-06-03T10:15:31.999999Z",
                        "finished_at": "2026-06-03T10:16:33.123Z",
                    },
                    f"{project}/pipeline/{n}" if n != 2 else None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "gitlab_deployments",
        "gitlab",
        _records(
            [
                (
                    f"{project}/deployment/{n}",
                    project,
                    {
                        "id": 5000 + n,
                        "iid": n,
                        "environment": {"name": "production", "id": 77},
                        "ref": "main",
                        "sha": f"{n:040x}",
                        "status": "success",
                        "user": {"username": "ana"},
                        "deployable": {
                            "id": 7000 + n,
                            "name": "deploy",
                            "pipeline": {"id": 9000 + n},
                            "started_at": "2026-06-03T10:15:31Z",
                            "finished_at": "2026-06-03T10:16:33.5Z",
                        },
                        "created_at": "2026-06-03T10:15:30Z",
                        "finished_at": None if n else "2026-06-03T10:17:00-03:30",
                        "updated_at": "2026-06-03T10:17:00Z",
                    },
                    None,
                )
                for n in range(2)
            ]
        ),
    )
    upsert_raw(
        con,
        "gitlab_environments",
        "gitlab",
        _records(
            [
                (
                    f"{project}/environment/77",
                    project,
                    {
                        "id": 77,
                        "name": "production",
                        "tier": "production",
                        "state": "available",
                        "external_url": None,
                        "created_at": "2025-01-01T00:00:00Z",
                        "updated_at": "2026-06-03T10:17:00.000001Z",
                    },
                    None,
                )
            ]
        ),
    )
    upsert_raw(
        con,
        "gitlab_releases",
        "gitlab",
        _records(
            [
                (
                    f"{project}/release/v1.2.{n}",
                    project,
                    {
                        "tag_name": f"v1.2.{n}",
                        "name": odd,
                        "commit": {"id": f"{n:040x}"},
                        "author": {"username": "ana"},
                        "upcoming_release": [True, False, None][n],
                        "created_at": "2026-06-03T10:15:30Z",
                        "released_at": "2026-06-03T10:15:30.5Z",
                    },
                    None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "gitlab_tags",
        "gitlab",
        _records([(f"{project}/tag/v1.2.0", project, {"name": "v1.2.0", "commit": None}, None)]),
    )
    upsert_raw(
        con,
        "opsgenie_incidents",
        "opsgenie",
        _records(
            [
                (
                    f"og-{n}",
                    "acme",
                    {
                        "id": f"og-{n}",
                        "tinyId": str(n),
                        "message": odd,
                        "description": None,
                        "status": "resolved",
                        "priority": "P1",
                        "impactedServices": [["svc-1", "svc\\2"], [], None][n],
                        "tags": ["commit:abc", "deploy:1"] if n == 0 else [],
                        "links": {"web": "https://opsgenie.example/incident/1"},
                        "createdAt": "2026-06-03T10:15:30.123Z",
                        "updatedAt": "2026-06-03T11:15:30.123Z",
                        "impactStartDate": "2026-06-03T10:10:00Z",
                        "impactEndDate": None if n == 2 else "2026-06-03T11:00:00.250Z",
                    },
                    None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "statuspage_incidents",
        "statuspage",
        _records(
            [
                (
                    f"sp-{n}",
                    "page1",
                    {
                        "id": f"sp-{n}",
                        "page_id": "page1" if n else None,
                        "name": odd,
                        "status": "resolved",
                        "impact": "major",
                        "shortlink": "https://stspg.io/x",
                        "components": [
                            [
                                {"name": "API"},
                                {"id": "no-name"},
                                {"name": None},
                                {"name": "Web \\ UI"},
                            ],
                            [],
                        ][n],
                        "created_at": "2026-06-03T10:15:30.123-07:00",
                        "started_at": "2026-06-03T10:15:30Z",
                        "monitoring_at": None,
                        "resolved_at": "2026-06-03T12:00:00Z",
                        "updated_at": "2026-06-03T12:00:00Z",
                    },
                    None,
                )
                for n in range(2)
            ]
        ),
    )
    upsert_raw(
        con,
        "incident_file_rows",
        "incident_files",
        _records(
            [
                (
                    f"file-{n}",
                    "incidents.csv",
                    {
                        "file": "incidents.csv",
                        "row": n + 2,
                        "title": odd,
                        "service": "Checkout",
                        "severity": "SEV1",
                        "url": None,
                        "deployment_id": None,
                        "commit_sha": "ABCDEF0123" if n == 0 else None,
                        "revert_pr": None,
                        "started_at": "2026-06-03T10:15:00Z",
                        "detected_at": "2026-06-03",
                        "acknowledged_at": None,
                        "resolved_at": "2026-06-03T11:15:00+01:00",
                    },
                    None,
                )
                for n in range(2)
            ]
        ),
    )
    con.execute(
        "INSERT INTO raw.org_incident_services VALUES "
        "('opsgenie', 'opsgenie', 'svc-1', 'checkout-api'), "
        "('statuspage', 'statuspage', 'API', 'catalog-api')"
    )
    _add_edge_case_builds_and_incidents(con, odd)
    _add_edge_case_argocd_health(con)
    _add_edge_case_survey_wave(con)
    _add_edge_case_sli_sample(con)
    _add_edge_case_changes(con)
    _add_edge_case_sha_mention(con)


def _jenkins_build(n: int, remote: str, branch: str, *, building: bool = False) -> dict:
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "number": n,
        "result": None if building else "SUCCESS",
        "building": building,
        "timestamp": 1780000000123 + n,
        "duration": 0 if building else 1234 + n,
        "fullDisplayName": f"edge » ci #{n}",
        "actions": [
            {"_class": "hudson.model.ParametersAction"},
            # A shared library's checkout first: the build data with lastBuiltRevision counts.
            {"_class": "hudson.plugins.git.util.BuildData", "remoteUrls": ["https://x/lib.git"]},
            {
                "_class": "hudson.model.CauseAction",
                "causes": [{"_class": "UserIdCause", "shortDescription": "by é", "userId": "ana"}],
            },
            {
                "_class": "hudson.plugins.git.util.BuildData",
                "lastBuiltRevision": {"SHA1": f"{n:040x}", "branch": [{"name": branch}]},
                "remoteUrls": [remote],
            },
        ],
    }


def _add_edge_case_builds_and_incidents(con: duckdb.DuckDBPyConnection, odd: str) -> None:
    remotes = [
        ("https://gitlab.example/payments/digit", "refs/remotes/origin/main"),
        ("ssh://git@gitlab.example:2222/payments/ledger-service.git", "origin/feature/x"),
        ("git@gitlab.example:payments/ledger-service.git/", "refs/heads/main"),
        ("https://gitlab.example/payments/legit.git", "main"),
    ]
    builds = [
        (f"edge/ci#{n}", "edge/ci", _jenkins_build(n, remote, branch, building=n == 3), "edge/ci")
        for n, (remote, branch) in enumerate(remotes)
    ]
    builds.append(("edge/ci#9", "edge/ci", {"number": 9, "building": False, "actions": []}, None))
    upsert_raw(con, "jenkins_builds", "jenkins", _records(builds))
    entries = [
        {"type": "trigger_log_entry", "created_at": "2026-06-03T10:00:00Z"},
        {"type": "acknowledge_log_entry", "created_at": "2026-06-03T10:05:00.5Z"},
        {"type": "acknowledge_log_entry", "created_at": "2026-06-03T10:04:00Z"},
        {"type": "resolve_log_entry", "created_at": "2026-06-03T11:00:00Z"},
        {"type": "resolve_log_entry", "created_at": "2026-06-03T12:00:00.25+01:00"},
    ]
    incidents = [
        {"log_entries": entries, "acknowledgements": [{"at": "2026-06-03T10:01:00Z"}]},
        {"log_entries": None, "acknowledgements": [{"at": "2026-06-03T10:02:00Z"}, {"at": None}]},
        {"acknowledgements": []},
    ]
    upsert_raw(
        con,
        "pagerduty_incidents",
        "pagerduty",
        _records(
            [
                (
                    f"QEDGE{n}",
                    "PEDGE01",
                    {
                        "id": f"QEDGE{n}",
                        "incident_number": 9000 + n,
                        "title": odd,
                        "status": "resolved",
                        "urgency": "high",
                        "service": {"id": "PEDGE01"} if n else None,
                        "created_at": "2026-06-03T09:59:00Z",
                        "resolved_at": "2026-06-03T11:00:00Z",
                        "last_status_change_at": "2026-06-03T11:00:00Z",
                        "assignments": [
                            {"assignee": {"summary": "Ana \\ Ops"}},
                            {"assignee": None},
                            {"assignee": {"summary": None}},
                            {"other": 1},
                        ],
                        **extra,
                    },
                    None,
                )
                for n, extra in enumerate(incidents)
            ]
        ),
    )
    repo = "appstore/edge-cases"
    upsert_raw(
        con,
        "github_pull_requests",
        "github",
        _records(
            [
                (
                    f"{repo}#{n}",
                    repo,
                    {
                        "id": 880000 + n,
                        "number": n,
                        "title": odd,
                        "body": None,
                        "state": "closed",
                        "draft": False,
                        "user": {"login": "dependabot[bot]", "type": "Bot"},
                        "head": {"ref": "hotfix/\\x", "sha": f"{n:040x}"},
                        "base": {"ref": "main"},
                        "labels": [
                            [{"name": "a\\b"}, {"color": "no name"}, {"name": None}, {"name": "é"}],
                            [],
                            None,
                        ][n],
                        "created_at": "2026-06-03T10:15:30Z",
                        "updated_at": "2026-06-03T10:15:30.000001Z",
                        "closed_at": None,
                        "merged_at": None,
                    },
                    None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "github_commits",
        "github",
        _records(
            [
                (
                    f"{repo}@{n:040x}",
                    repo,
                    {
                        "sha": f"{n:040x}",
                        "commit": {
                            "message": odd,
                            "author": {"name": "Ana", "date": "2026-06-03T10:15:30+02:00"},
                            "committer": {"date": "2026-06-03T10:15:30Z"},
                        },
                        "author": None,
                        **([{"parents": []}, {"parents": None}, {}][n]),
                    },
                    None,
                )
                for n in range(3)
            ]
        ),
    )
    upsert_raw(
        con,
        "github_workflow_jobs",
        "github",
        _records(
            [
                (
                    f"{repo}/job/{n}",
                    repo,
                    {
                        "id": 660000 + n,
                        "name": odd,
                        "labels": [None, [], ["self-hosted", "x\\y"]][n],
                    },
                    f"{repo}/run/1",
                )
                for n in range(3)
            ]
        ),
    )


def _add_edge_case_argocd_health(con: duckdb.DuckDBPyConnection) -> None:
    """Degraded spells of an Argo CD application (int_incidents_unified reads them when
    argocd_health_incidents names the instance): two Degraded changes closed by one Healthy, one
    at half a second (its incident id rounds the epoch half to even), one still open, and messages
    that the cause regexes read (a tab after "root cause:", a revert of #42, deployments/17). The
    first change of the first spell has no message: DuckDB's arg_min skips it."""
    app = "argocd/recommendations-production"
    changes = [
        ("2026-06-10T08:00:00.5Z", "Degraded", None),
        ("2026-06-10T08:05:00Z", "Degraded", "root cause:\tABC1234 rolled out"),
        ("2026-06-10T09:00:00Z", "Healthy", None),
        ("2026-06-20T10:00:01.5Z", "Degraded", "Reverted the config in #42, see deployments/17"),
        ("2026-07-01T00:00:00.25Z", "Degraded", None),
    ]
    upsert_raw(
        con,
        "argocd_health",
        "argocd",
        _records(
            [
                (
                    f"{app}/health/{at}",
                    "appstore/recommendations",
                    {"status": status, "message": message, "lastTransitionTime": at},
                    app,
                )
                for at, status, message in changes
            ]
        ),
    )


def _add_edge_case_survey_wave(con: duckdb.DuckDBPyConnection) -> None:
    """A survey wave whose responses carry no submission time (its wave_closed_at is null) and
    no team for five of them: DuckDB sorts nulls last, Spark first, so the wave's number and
    which of two tied teams (no team, "edge") the complementary suppression picks depend on
    the null order (int_survey_groups)."""
    teams = [None] * 5 + ["edge"] * 5 + ["tiny"]
    upsert_raw(
        con,
        "survey_responses",
        "surveys",
        _records(
            [
                (
                    f"edge-wave/{n}",
                    "edge-wave",
                    {
                        "wave": "edge-wave",
                        "team": team,
                        "tenure": None,
                        "role": None,
                        "submitted_at": None,
                        "respondent": f"edge-{n}",
                        "answers": {"FL1": 4},
                    },
                    None,
                )
                for n, team in enumerate(teams)
            ]
        ),
    )


def _add_edge_case_sli_sample(con: duckdb.DuckDBPyConnection) -> None:
    """A Prometheus sample a quarter-second off the step (Prometheus writes fractional epochs):
    its interval starts step_seconds earlier, to the microsecond (dbt-spark's dateadd would cut
    the fraction; int_sli_prometheus_intervals)."""
    slo, epoch = "backend-api-latency", 1781999999.25
    upsert_raw(
        con,
        "prometheus_sli_samples",
        "prometheus",
        [
            RawRecord(
                natural_key=f"{slo}/value/{epoch}/-",
                scope=slo,
                payload={
                    "slo": slo,
                    "sli_metric": "value",
                    "query": "histogram_quantile(0.99, edge)",
                    "step_seconds": 3600,
                    "metric": {},
                    "value": [epoch, "0.25"],
                },
            )
        ],
    )


def _add_edge_case_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Merged pull requests for int_changes: one whose merge commit is not on the graph, landed
    by its commit subject `... (#3)` with trailing blanks (the regex's \\s, which Spark's
    literals would read as s), one labelled incident, one whose body fixes an incident issue."""
    repo = "appstore/edge-landings"
    pull_requests = [
        (3, "Edge landing", None, [], f"{0xE3:040x}"),
        (4, "Edge label", None, [{"name": "incident"}], f"{0xE4:040x}"),
        (5, "Edge fix", "Fixes #6 \\ and #x", [{"name": None}], f"{0xE5:040x}"),
    ]
    upsert_raw(
        con,
        "github_pull_requests",
        "github",
        _records(
            [
                (
                    f"{repo}#{n}",
                    repo,
                    {
                        "id": 890000 + n,
                        "number": n,
                        "title": title,
                        "body": body,
                        "state": "closed",
                        "draft": False,
                        "user": {"login": "ana", "type": "User"},
                        "head": {"ref": f"edge-{n}", "sha": f"{0xD0 + n:040x}"},
                        "base": {"ref": "main"},
                        "labels": labels,
                        "merge_commit_sha": merge_sha,
                        "created_at": "2026-06-03T10:15:30Z",
                        "updated_at": "2026-06-03T12:00:00Z",
                        "closed_at": "2026-06-03T12:00:00Z",
                        "merged_at": "2026-06-03T12:00:00Z",
                    },
                    None,
                )
                for n, title, body, labels, merge_sha in pull_requests
            ]
        ),
    )
    # Only #3 lands by number: the others' merge commits are on the graph.
    commits = [
        (f"{0xC3:040x}", "Edge landing (#3)  \t\nthe body"),
        (f"{0xE4:040x}", "Edge label (#4)"),
        (f"{0xE5:040x}", "Edge fix"),
    ]
    upsert_raw(
        con,
        "github_commits",
        "github",
        _records(
            [
                (
                    f"{repo}@{sha}",
                    repo,
                    {
                        "sha": sha,
                        "commit": {
                            "message": message,
                            "author": {"name": "Ana", "date": "2026-06-03T12:00:00Z"},
                            "committer": {"date": "2026-06-03T12:00:00Z"},
                        },
                        "author": {"login": "ana"},
                        "parents": [],
                    },
                    None,
                )
                for sha, message in commits
            ]
        ),
    )
    upsert_raw(
        con,
        "github_issues",
        "github",
        _records(
            [
                (
                    f"{repo}/issue/6",
                    repo,
                    {
                        "id": 770006,
                        "number": 6,
                        "title": "Edge outage",
                        "body": None,
                        "state": "closed",
                        "user": {"login": "ana"},
                        "labels": [{"name": "incident"}],
                        "created_at": "2026-06-03T11:00:00Z",
                        "updated_at": "2026-06-03T12:30:00Z",
                        "closed_at": "2026-06-03T12:30:00Z",
                    },
                    None,
                )
            ]
        ),
    )


def _add_edge_case_sha_mention(con: duckdb.DuckDBPyConnection) -> None:
    """A PagerDuty incident of the demo's reviews-service naming a deployed SHA glued to an é:
    DuckDB's \\b is an ASCII word boundary, so the SHA is a mention (explicit attribution, in
    int_incidents); Java's counts the é as a word character."""
    upsert_raw(
        con,
        "pagerduty_incidents",
        "pagerduty",
        _records(
            [
                (
                    "QEDGESHA",
                    "PREVIEW",
                    {
                        "id": "QEDGESHA",
                        "incident_number": 9100,
                        "title": "Edge rollout",
                        "description": "rollout of déployé01b824d failed",
                        "status": "resolved",
                        "urgency": "high",
                        "service": {"id": "PREVIEW"},
                        "created_at": "2026-06-11T13:28:00Z",
                        "resolved_at": "2026-06-11T14:00:00Z",
                        "last_status_change_at": "2026-06-11T14:00:00Z",
                    },
                    None,
                )
            ]
        ),
    )
