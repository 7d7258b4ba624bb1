"""A small raw layer synced through the production clients and the demo's fake API, for the tests
that build dbt on it (tests/test_incremental_models.py) or export it (tests/test_spark_target.py)."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.config import Config
from pipelines.warehouse import RawRecord, upsert_raw

SLO = "checkout-availability"
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
