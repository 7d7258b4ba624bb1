"""A plain-data description of the asset graph (assets, checks, jobs, schedules, sensors), checked
in as tests/fixtures/asset_graph.json and compared by tests/test_definitions.py: a renamed asset,
a new check or a changed schedule shows up as a diff in review.

Regenerate after an intended change:
    .venv/bin/python -m assets.graph_snapshot > tests/fixtures/asset_graph.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import dagster as dg


def describe(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "executable": node.is_executable,
            "partitioned": node.partitions_def is not None,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
        }
    checks = sorted(
        f"{k.asset_key.to_user_string()}:{k.name}"
        + (" (blocking)" if graph.get_check_spec(k).blocking else "")
        for k in graph.asset_check_keys
    )
    repository = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(j.name for j in repository.get_all_jobs() if not j.name.startswith("__")),
        "schedules": {
            s.name: {"job": s.job_name, "cron": s.cron_schedule}
            for s in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
        "sensors": sorted(s.name for s in repository.sensor_defs),
    }


def main() -> None:
    from assets.graph import build_definitions
    from pipelines.config import DEMO_CONFIG_PATH, load_config

    json.dump(describe(build_definitions(load_config(DEMO_CONFIG_PATH))), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
