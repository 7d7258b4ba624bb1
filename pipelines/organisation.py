"""The organisation as plain tables (teams, services, repositories), rewritten from config each run.

dbt joins raw payloads to these to map a repository or a PagerDuty service to its service and team,
so changing an ownership in the config file is a dbt rebuild, never a re-download.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.config import Config
from pipelines.warehouse import RAW_SCHEMA, ensure_raw_schema, replace_table, transaction

ORG_TABLES = (
    "org_teams",
    "org_services",
    "org_repositories",
    "org_pagerduty_services",
    "org_incident_services",
)


def organisation_frames(config: Config) -> dict[str, pd.DataFrame]:
    """The organisation tables as data frames (pure: config in, frames out)."""
    team_of = {s.name: s.team for s in config.services}
    return {
        "org_teams": pd.DataFrame(
            [(t.name, t.engineers, t.on_call) for t in config.teams],
            columns=["team", "engineers", "on_call"],
        ),
        "org_services": pd.DataFrame(
            [(s.name, s.team, s.tier) for s in config.services],
            columns=["service", "team", "tier"],
        ),
        "org_repositories": pd.DataFrame(
            [(repo, s.name, team_of[s.name]) for s in config.services for repo in s.repositories],
            columns=["repository", "service", "team"],
        ),
        "org_pagerduty_services": pd.DataFrame(
            [(pd_id, s.name) for s in config.services for pd_id in s.pagerduty_services],
            columns=["pagerduty_service_id", "service"],
        ),
        # What Opsgenie, Statuspage and incident files call a service -> our service, per source.
        "org_incident_services": pd.DataFrame(
            [
                (source.name, kind, external, service)
                for kind, sources in (
                    ("opsgenie", config.sources.opsgenie),
                    ("statuspage", config.sources.statuspage),
                    ("file", config.sources.incident_files),
                )
                for source in sources
                for external, service in sorted(source.service_map.items())
            ],
            columns=["source", "kind", "external_service", "service"],
        ),
    }


_DDL = {
    "org_teams": "team VARCHAR PRIMARY KEY, engineers INTEGER NOT NULL, on_call INTEGER NOT NULL",
    "org_services": "service VARCHAR PRIMARY KEY, team VARCHAR NOT NULL, tier VARCHAR NOT NULL",
    "org_repositories": "repository VARCHAR PRIMARY KEY, service VARCHAR NOT NULL, team VARCHAR NOT NULL",
    "org_pagerduty_services": "pagerduty_service_id VARCHAR PRIMARY KEY, service VARCHAR NOT NULL",
    "org_incident_services": "source VARCHAR NOT NULL, kind VARCHAR NOT NULL, "
    "external_service VARCHAR NOT NULL, "
    "service VARCHAR NOT NULL, PRIMARY KEY (source, external_service)",
}


def write_organisation(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, int]:
    """Replace the organisation tables in one transaction; returns rows per table."""
    ensure_raw_schema(con)
    counts = {}
    with transaction(con):
        for table, frame in organisation_frames(config).items():
            counts[table] = replace_table(con, f"{RAW_SCHEMA}.{table}", _DDL[table], frame)
    return counts
