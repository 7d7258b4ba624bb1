"""Ingest assets, built by looping over the source registry (``pipelines/sources.py``): one
multi-asset per source system (or per group of sources sharing an ``asset`` name), each writing its
``raw.*`` tables. No source is named here.

Every asset that writes the warehouse runs in the ``warehouse`` concurrency pool (limit 1): DuckDB
allows one writer process at a time.

A partitioned source (GitHub: by repository) gets dynamic partitions named by the source
(``github_repositories``): one run syncs one partition, so one failing repository fails alone and is
retried alone, and a sync of all is one backfill. Its discovery sensor registers the partitions the
source discovers; ``platform-metrics run`` registers and runs them itself (assets/runner.py).
"""

import functools

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.project import WAREHOUSE_POOL
from assets.resources import warehouse_connection
from pipelines import ingest
from pipelines import sources as source_registry
from pipelines.config import Config
from pipelines.organisation import ORG_TABLES, write_organisation
from pipelines.source import Source, SyncRequest
from pipelines.warehouse import raw_row_counts


class SourceSyncConfig(dg.Config):
    """Run config of a partitioned source's asset (``github``)."""

    resync: bool = False  # forget this partition's cursors first and re-read its history


GitHubSyncConfig = SourceSyncConfig  # the name it had when GitHub was the only partitioned source


@functools.cache
def _partitions(name: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=name)


def source_partitions(source: Source) -> dg.DynamicPartitionsDefinition:
    """The dynamic partitions of a partitioned source (one definition per name)."""
    return _partitions(source.partitions_name)


def source_groups(config: Config) -> dict[str, list[Source]]:
    """Asset name -> the registered sources it syncs, for assets with an enabled source. A group
    keeps all its members' tables (their asset keys do not depend on which member is configured)."""
    groups: dict[str, list[Source]] = {}
    for source in source_registry.all_sources():
        groups.setdefault(source.asset_name, []).append(source)
    for name, members in groups.items():
        if len(members) > 1 and any(s.partitioned for s in members):
            raise ValueError(f"asset {name!r}: a partitioned source cannot share its asset")
    return {n: m for n, m in groups.items() if any(s.enabled(config) for s in m)}


def partitioned_sources(config: Config) -> list[Source]:
    return [s for members in source_groups(config).values() for s in members if s.partitioned]


def build_ingest_assets(config: Config) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name="organisation",
        specs=[
            dg.AssetSpec(
                ["raw", table],
                description="Teams, services and repositories from the configuration file.",
                group_name="ingest",
            )
            for table in ORG_TABLES
        ],
        pool=WAREHOUSE_POOL,
    )
    def organisation(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        with warehouse_connection(duckdb) as con:
            ingest.ensure_raw_tables(con)
            counts = write_organisation(con, config)
        for table, rows in counts.items():
            yield dg.MaterializeResult(asset_key=["raw", table], metadata={"rows": rows})

    return [organisation] + [
        _source_asset(config, name, members) for name, members in source_groups(config).items()
    ]


def _source_asset(config: Config, name: str, members: list[Source]) -> dg.AssetsDefinition:
    tables = [t for s in members for t in s.raw_tables]
    specs = [
        dg.AssetSpec(["raw", t.name], description=t.description or None, group_name="ingest")
        for t in tables
    ]
    partitioned = members[0].partitioned

    def materialize(context: dg.AssetExecutionContext, duckdb: DuckDBResource, resync: bool):
        request = SyncRequest(
            ingest.SourceClients(config),
            partition_keys=[context.partition_key] if partitioned else None,
            resync=resync,
            progress=context.log.info,
        )
        with warehouse_connection(duckdb) as con:
            ingest.ensure_raw_tables(con)
            outcomes = [s.sync(con, request) for s in members if s.enabled(config)]
            counts = raw_row_counts(con)
        for outcome in outcomes:
            for message in outcome.messages:
                context.log.info(message)
            for error in outcome.errors:
                context.log.error(error)
        for table in tables:
            metadata = {"rows": counts.get(table.name, 0)}
            for outcome in outcomes:
                metadata.update(outcome.metadata)
                metadata.update(outcome.table_metadata.get(table.name, {}))
            yield dg.MaterializeResult(asset_key=["raw", table.name], metadata=metadata)

    if partitioned:

        @dg.multi_asset(
            name=name,
            specs=specs,
            partitions_def=source_partitions(members[0]),
            pool=WAREHOUSE_POOL,
        )
        def partitioned_asset(
            context: dg.AssetExecutionContext, duckdb: DuckDBResource, config: SourceSyncConfig
        ):
            yield from materialize(context, duckdb, config.resync)

        return partitioned_asset

    @dg.multi_asset(name=name, specs=specs, pool=WAREHOUSE_POOL)
    def unpartitioned_asset(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        yield from materialize(context, duckdb, False)

    return unpartitioned_asset


def discovery_sensor(config: Config, source: Source, job: dg.JobDefinition) -> dg.SensorDefinition:
    """Registers the partitions ``source`` newly discovers and backfills each new one once."""
    partitions = source_partitions(source)

    @dg.sensor(
        name=source.discovery_sensor,
        job=job,
        minimum_interval_seconds=6 * 3600,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Discover {source.name} partitions (one per {source.partitioning}).",
    )
    def discovery(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        keys = source.partition_keys(ingest.SourceClients(config))
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        new = [k for k in keys if k not in known]
        gone = sorted(known - set(keys))
        if gone:
            # Kept, not deleted: a partition's history stays in the warehouse and the UI.
            context.log.info(f"no longer discovered (kept): {gone}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=k, run_key=f"initial:{k}") for k in new],
            dynamic_partitions_requests=[partitions.build_add_request(new)] if new else [],
        )

    return discovery
