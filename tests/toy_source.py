"""A toy CI source that lives only in the tests: one module, registered at run time, that must get
its config section, raw table, payload check, asset, partitions, jobs and CLI listing without any
module outside it being edited (tests/test_source_plugins.py).

It reads ``GET /projects`` (the partition keys) and ``GET /projects/<name>/builds`` from a server on
127.0.0.1, through the shared HTTP layer, and lands each build verbatim in ``raw.toyci_builds``.
"""

from __future__ import annotations

from pydantic import Field

from pipelines.config_model import ConfigModel
from pipelines.http import ApiClient, RetryPolicy
from pipelines.source import Partitioning, RawTable, Source, SyncOutcome, SyncRequest
from pipelines.warehouse import RawRecord, transaction, upsert_raw

TABLE = "toyci_builds"


class ToyCiConfig(ConfigModel):
    name: str = "toyci"
    base_url: str
    max_retries: int = Field(default=0, ge=0)


class ToyCiClient(ApiClient):
    service_name = "ToyCI"


def toy_client(clients, instance: ToyCiConfig) -> ToyCiClient:
    return ToyCiClient(
        instance.base_url,
        transport=clients.transport,
        retry=RetryPolicy(max_retries=instance.max_retries),
    )


def partition_keys(clients) -> list[str]:
    keys = []
    for instance in clients.config.sources.toyci:
        with toy_client(clients, instance) as client:
            keys += [f"{instance.name}:{p['name']}" for p in client.get("/projects").data]
    return keys


def sync(con, request: SyncRequest) -> SyncOutcome:
    instances = {i.name: i for i in request.clients.config.sources.toyci}
    landed = 0
    for key in request.partition_keys or []:
        name, _, project = key.partition(":")
        with toy_client(request.clients, instances[name]) as client:
            builds = client.get(f"/projects/{project}/builds").data
        with transaction(con):
            landed += upsert_raw(
                con,
                TABLE,
                name,
                [
                    RawRecord(f"{project}#{b['id']}", project, b, b.get("finished_at"))
                    for b in builds
                ],
            )
    return SyncOutcome(metadata={"items_landed": landed}, messages=[f"{landed} builds"])


SOURCE = Source(
    name="toyci",
    description="A toy CI server (tests only).",
    config_key="toyci",
    config_model=ToyCiConfig,
    raw_tables=(
        RawTable(
            TABLE,
            "Toy CI builds, verbatim.",
            required=("$.id", "$.status"),
            timestamps=("$.finished_at",),
        ),
    ),
    sync=sync,
    client=toy_client,
    partitioning=Partitioning.REPOSITORY,
    partition_keys=partition_keys,
    partitions_name="toyci_projects",
    job="toyci_sync",
    discovery_sensor="toyci_project_discovery",
)
