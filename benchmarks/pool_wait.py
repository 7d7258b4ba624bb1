"""Benchmark: CPU a run spends waiting for the ``warehouse`` pool; prints one JSON object.

    .venv/bin/python benchmarks/pool_wait.py [--wait 8]

Another run holds the only slot for ``--wait`` seconds while a one-step in-process run waits for
it, once with Dagster's own wait loop and once with assets/run_recovery.py's replacement. CPU is
the waiting process's user + system time over the whole run (including about half a second of job
set-up). Not a test: nothing here asserts a number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")

import dagster as dg
import psutil

from assets.run_recovery import PoolWait, interruptible_pool_waits


@dg.asset(pool="warehouse")
def needs_the_warehouse() -> int:
    return 1


def measure(wait: float, *, replaced: bool) -> dict[str, float | bool]:
    job = dg.Definitions(
        assets=[needs_the_warehouse], jobs=[dg.define_asset_job("j", [needs_the_warehouse])]
    ).resolve_job_def("j")
    overrides = {"concurrency": {"pools": {"default_limit": 1}}}
    with (
        tempfile.TemporaryDirectory() as tmp,
        dg.instance_for_test(temp_dir=tmp, overrides=overrides) as instance,
    ):
        storage = instance.event_log_storage
        holder = instance.create_run_for_job(
            dg.GraphDefinition(name="holder", node_defs=[]).to_job()
        )
        instance.handle_run_event(
            holder.run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="holder")
        )
        storage.initialize_concurrency_limit_to_default("warehouse")
        storage.claim_concurrency_slot("warehouse", holder.run_id, "step")
        release = threading.Timer(wait, storage.free_concurrency_slots_for_run, [holder.run_id])
        me = psutil.Process()
        cpu0, t0 = sum(me.cpu_times()[:2]), time.monotonic()
        release.start()
        waits = (
            interruptible_pool_waits(PoolWait(instance, lambda line: None))
            if replaced
            else contextlib.nullcontext()
        )
        with waits:
            success = job.execute_in_process(instance=instance).success
        wall, cpu = time.monotonic() - t0, sum(me.cpu_times()[:2]) - cpu0
    return {"success": success, "wall_s": round(wall, 1), "cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait", type=float, default=8.0, help="seconds the slot stays held")
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "slot_held_s": args.wait,
                "dagster_wait_loop": measure(args.wait, replaced=False),
                "platform_metrics_wait": measure(args.wait, replaced=True),
                "load_average": [round(x, 1) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
