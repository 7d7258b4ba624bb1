"""The source interface: what a source package (``pipelines/<source>/source.py``) declares.

A source is a plugin. Its package declares one :class:`Source`: its name, its config model (the
``sources.<config_key>`` section of the configuration), its raw tables with their data-quality
expectations, its client factory, its sync entry point and its partitioning. The registry
(``pipelines/sources.py``) lists them; the configuration's ``sources:`` section, the raw tables,
the expectations, and in ``assets/`` the ingest assets, partitions, jobs, schedules, sensors and the
CLI are all built by looping over it. Nothing here imports Dagster or the configuration module, so
a source package can be imported by both.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import ConfigError

if TYPE_CHECKING:
    import duckdb
    from pydantic import BaseModel

    from pipelines.config import Config
    from pipelines.ingest import SourceClients


class Partitioning(enum.StrEnum):
    """How a source's runs are split. Anything but ``none`` becomes one Dagster dynamic partition
    per key the source's ``partition_keys`` discovers (a failing key fails and retries alone)."""

    NONE = "none"
    REPOSITORY = "repository"  # one run per repository / project
    SERVICE = "service"  # one run per service


@dataclass(frozen=True)
class RawTable:
    """One ``raw.<name>`` table a source writes.

    Payload tables have the common raw columns (``pipelines/warehouse.py``: source, natural_key,
    scope, parent_key, payload, updated_at, fetched_at; primary key (source, natural_key)).
    ``required`` and ``timestamps`` are the payload checks run before dbt (``pipelines/quality.py``):
    JSON paths that must be present, and JSON paths that must parse as timestamps not in the future.
    A table with neither has no check. ``payload=False`` marks a table of plain columns that the
    source's ``create_tables`` makes itself.
    """

    name: str
    description: str = ""
    required: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    payload: bool = True

    @property
    def checked(self) -> bool:
        return bool(self.required or self.timestamps)


@dataclass(frozen=True)
class SyncRequest:
    """What the orchestrator asks of one sync: everything, or some partitions."""

    clients: SourceClients
    partition_keys: list[str] | None = None
    resync: bool = False  # forget the partitions' cursors first and re-read their history
    progress: Callable[[str], None] | None = None


@dataclass
class SyncOutcome:
    """What a sync reports back: metadata for every table it wrote, per-table extras, log lines."""

    metadata: dict[str, Any] = field(default_factory=dict)
    table_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class SourceRunReport:
    """One source instance's sync, as the library functions (``pipelines.ingest.sync_*``) return it."""

    source: str
    scopes: int = 0
    items: int = 0
    by_entity: dict[str, int] = field(default_factory=dict)
    requests: dict[str, float | int] = field(default_factory=dict)
    # repository -> entity -> items, requests, not_modified, retries, waits (GitHub only)
    by_scope: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # What requests made for many scopes at once cost, by what they read (GitHub's batched
    # repository listings, api: graphql): items, requests, graphql_queries, graphql_points.
    batched: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Set when the sync stopped at the budget reserve (GitHub): the line saying so and when it resets.
    stopped: str | None = None
    # GitHub: "GitHub synced back to D; backfilling to T" while the progressive backfill runs.
    coverage: str = ""


@dataclass(frozen=True)
class FileDrop:
    """A source fed by files dropped in a folder: a sensor starts ``job`` once per new file content
    (run key ``<run_key_prefix>:<digest>``)."""

    job: str
    sensor: str
    folder: Callable[[Config], Path]
    pattern: str
    digest: Callable[[Path], str]
    what: str  # what the files are, for messages ("survey exports")
    run_key_prefix: str


@dataclass(frozen=True)
class Source:
    """One source system, as the rest of the code sees it.

    - ``name``: what the CLI and ``platform-metrics sources`` call it.
    - ``config_key`` / ``config_model`` / ``many``: its section ``sources.<config_key>``, a list of
      instances (``many``) or one mapping. ``None`` for a source configured elsewhere (Prometheus
      reads the SLO specs).
    - ``raw_tables``: the tables it writes; all of them exist in every warehouse (empty when the
      source is not configured), so dbt always builds.
    - ``sync``: lands data for every configured instance (or the requested partitions).
    - ``client``: builds the client of one configured instance (real network or the demo's fake API).
    - ``partitioning`` / ``partition_keys``: the partitions to run, discovered from the config or the
      source's API; ``partitions_name``, ``job`` and ``discovery_sensor`` name the Dagster objects.
    - ``asset``: the Dagster multi-asset name; sources declaring the same one are synced together
      in one step (Opsgenie, Statuspage and incident files share ``incident_sources``).
    - ``always``: its asset exists whatever the configuration (the SLO definitions are rewritten even
      when there are none).
    - ``path_fields``: config fields holding paths, resolved against the configuration file's folder
      when written in it; a dotted name (``app.private_key_file``) reaches into a nested model.
    - ``service_map_field``: a config field mapping the source's services to the config's services,
      checked against them.
    - ``create_tables``: creates the tables of plain columns (``RawTable(payload=False)``).
    - ``file_drop``: a folder the source reads files from, watched by a sensor.
    - ``configured``: the names of its configured instances, for a source without a
      ``sources:`` section.
    - ``check_scope``: raises ``ConfigError`` when a scope (``platform-metrics resync
      --repository``) is not one of an instance's own.
    """

    name: str
    description: str
    raw_tables: tuple[RawTable, ...]
    sync: Callable[[duckdb.DuckDBPyConnection, SyncRequest], SyncOutcome]
    config_key: str | None = None
    config_model: type[BaseModel] | None = None
    many: bool = True
    client: Callable[[SourceClients, Any], Any] | None = None
    partitioning: Partitioning = Partitioning.NONE
    partition_keys: Callable[[SourceClients], list[str]] | None = None
    partitions_name: str | None = None
    job: str | None = None
    discovery_sensor: str | None = None
    asset: str | None = None
    always: bool = False
    path_fields: tuple[str, ...] = ()
    service_map_field: str | None = None
    create_tables: Callable[[duckdb.DuckDBPyConnection], None] | None = None
    file_drop: FileDrop | None = None
    configured: Callable[[Config], list[str]] | None = None
    check_scope: Callable[[Config, Any, str], None] | None = None

    def __post_init__(self) -> None:
        if (self.config_key is None) != (self.config_model is None):
            raise ValueError(
                f"source {self.name!r}: give both config_key and config_model, or neither"
            )
        if self.partitioning is not Partitioning.NONE and not (
            self.partition_keys and self.partitions_name and self.job and self.discovery_sensor
        ):
            raise ValueError(
                f"source {self.name!r}: a partitioned source needs partition_keys, "
                "partitions_name, job and discovery_sensor"
            )

    @property
    def asset_name(self) -> str:
        return self.asset or self.name

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.raw_tables)

    @property
    def partitioned(self) -> bool:
        return self.partitioning is not Partitioning.NONE

    def instances(self, config: Config) -> list[Any]:
        """The configured instances of this source (empty when it is not configured)."""
        if self.config_key is None:
            return []
        value = getattr(config.sources, self.config_key, None)
        if value is None:
            return []
        return list(value) if self.many else [value]

    def enabled(self, config: Config) -> bool:
        return self.always or bool(self.instances(config))

    def instance_names(self, config: Config) -> list[str]:
        """Names of the configured instances (``configured`` for a source set up elsewhere)."""
        if self.configured is not None:
            return self.configured(config)
        return [getattr(i, "name", self.name) for i in self.instances(config)]


# --- partition keys of sources partitioned by repository / project ------------------------------
# A key is the scope (``owner/name``, ``group/project``) for the instance with the source's default
# name, and ``<instance>:<scope>`` for any other, so two instances never share a key.


def scope_partition_key(default_instance: str, instance: str, scope: str) -> str:
    return scope if instance == default_instance else f"{instance}:{scope}"


def parse_scope_partition_key(default_instance: str, key: str) -> tuple[str, str]:
    """(instance name, scope) of a partition key."""
    instance, _, scope = key.rpartition(":")
    return instance or default_instance, scope


def scopes_by_instance(
    keys: Iterable[str], instances: Iterable[str], default_instance: str, what: str
) -> dict[str, list[str]]:
    """Instance name -> the scopes of ``keys``; a key of an instance not in the config (a stale
    partition) is a :class:`ConfigError` naming it. ``what``: "GitHub", "GitLab"."""
    known = set(instances)
    plan: dict[str, list[str]] = {}
    for key in keys:
        instance, scope = parse_scope_partition_key(default_instance, key)
        if instance not in known:
            raise ConfigError(
                f"partition {key!r}: {instance!r} is not a {what} source in the config "
                f"({sorted(known)}); remove the stale partition or restore the source"
            )
        plan.setdefault(instance, []).append(scope)
    return plan
