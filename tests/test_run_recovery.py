"""A crash never blocks the next run: dead runs are recovered at start-up, a run waiting for the
``warehouse`` pool says who holds it and stops on Ctrl-C/SIGTERM, organisations do not share a
Dagster home. Real processes, real Dagster instances on disk, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData

from assets import cli
from assets.run_recovery import (
    PID_TAG,
    PoolWait,
    held_slots,
    interruptible_pool_waits,
    recover_dead_runs,
)
from assets.runner import execute
from pipelines.config import load_config

PLATFORM_METRICS = str(Path(sys.executable).with_name("platform-metrics"))
REPO_ROOT = Path(__file__).resolve().parent.parent

# One repository, one month: the smallest organisation the demo's fake API serves.
TINY_ORG = """\
organisation:
  name: {name}
teams:
  - {{name: shop, engineers: 3, on_call: 1}}
services:
  - {{name: checkout-api, team: shop, tier: critical, repositories: [appstore/checkout-api]}}
sources:
  github:
    - name: github
      base_url: https://api.github.com
      organisations: [appstore]
      backfill_days: 60
demo:
  seed: 7
  months: 1
  activity: 0.3
"""

# A real process holding the warehouse pool: one in-process run (tagged as the CLI tags its runs)
# whose only step, in the pool, sleeps until the test is done with it.
HOLDER = textwrap.dedent(
    """
    import time
    import dagster as dg
    from assets.runner import execute

    @dg.asset(pool="warehouse")
    def hold_the_warehouse():
        print("holding", flush=True)
        time.sleep(300)

    defs = dg.Definitions(
        assets=[hold_the_warehouse],
        jobs=[dg.define_asset_job("hold_warehouse", [hold_the_warehouse])],
    )
    with dg.DagsterInstance.get() as instance:
        execute(defs.resolve_job_def("hold_warehouse"), instance)
    """
)


def tiny_org(folder: Path, name: str = "Tiny Shop") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "org.yaml"
    path.write_text(TINY_ORG.format(name=name), encoding="utf-8")
    return path


def environment(**extra: str) -> dict[str, str]:
    """This process's environment for a child run, less what would point it elsewhere: an
    in-process run earlier in the session (the demo fixture) leaves PLATFORM_METRICS_WAREHOUSE
    set to its own warehouse, which a child's config must not inherit."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DAGSTER_HOME", "PYTHONPATH"} and not k.startswith("PLATFORM_METRICS_")
    }
    return {**env, "PYTHONPATH": str(REPO_ROOT), **extra}


def start(args: list[str], cwd: Path, env: dict[str, str], log: str) -> subprocess.Popen:
    """A real process, its output in a file (no pipe to fill up and block it)."""
    out = open(cwd / log, "w")  # noqa: SIM115 - closed by finish()
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def finish(process: subprocess.Popen, timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout and process.stdout.close()


def wait_for(
    condition,
    timeout: float,
    what: str,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
):
    """Poll ``condition`` until it holds; fail at once, with the end of its ``log``, when the
    ``process`` it waits on has exited (nothing more can happen), not after the whole timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
            pytest.fail(f"exited ({process.returncode}) before {what}:\n{tail}")
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def instance_at(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def runs_of(instance: dg.DagsterInstance, pid: int) -> list[dg.DagsterRun]:
    return [
        r.dagster_run
        for r in instance.get_run_records()
        if r.dagster_run.tags.get(PID_TAG) == str(pid)
    ]


def slots_of(instance: dg.DagsterInstance, pid: int) -> list[str]:
    held = held_slots(instance)
    return [slot for run in runs_of(instance, pid) for slot in held.get(run.run_id, [])]


def write_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(cli.DAGSTER_YAML, encoding="utf-8")


@pytest.mark.e2e
def test_a_killed_run_is_marked_failed_and_its_pool_slot_freed_by_the_next_run(tmp_path):
    config = tiny_org(tmp_path)
    env = environment()
    home = tmp_path / "build" / "dagster_home" / "tiny-shop"
    victim = start([PLATFORM_METRICS, "run", "--config", str(config)], tmp_path, env, "victim.log")
    try:
        victim_log = tmp_path / "victim.log"
        wait_for(
            lambda: home.joinpath("dagster.yaml").exists(),
            120,
            "the victim's Dagster home",
            victim,
            victim_log,
        )
        with instance_at(home) as instance:
            # Stop it while it holds the pool (SIGSTOP, then check: a step may end in between),
            # then kill it as the OOM killer would.
            def holding() -> bool:
                if not slots_of(instance, victim.pid):
                    return False
                victim.send_signal(signal.SIGSTOP)
                if slots_of(instance, victim.pid):
                    return True
                victim.send_signal(signal.SIGCONT)
                return False

            wait_for(holding, 300, "the victim to hold the warehouse pool", victim, victim_log)
            victim.kill()
            victim.wait(timeout=30)
            (killed,) = [r for r in runs_of(instance, victim.pid) if not r.is_finished]
            assert killed.status == dg.DagsterRunStatus.STARTED  # what blocked every later run
            freed = slots_of(instance, victim.pid)
    finally:
        finish(victim, 30)

    second = start([PLATFORM_METRICS, "run", "--config", str(config)], tmp_path, env, "next.log")
    assert finish(second, 900) == 0, (tmp_path / "next.log").read_text()[-3000:]
    output = (tmp_path / "next.log").read_text()
    (line,) = [x for x in output.splitlines() if x.startswith(f"recovered run {killed.run_id[:8]}")]
    assert f"pid {victim.pid}" in line and "marked FAILURE" in line
    assert all(slot in line for slot in freed)
    with instance_at(home) as instance:
        assert instance.get_run_by_id(killed.run_id).status == dg.DagsterRunStatus.FAILURE
        assert held_slots(instance) == {}


def test_a_run_blocked_by_a_live_holder_says_who_and_stops_on_sigterm(tmp_path):
    """SIGTERM is what systemd and kill send; Ctrl-C (SIGINT) takes the same path in Dagster and
    is tested in process below."""
    home = tmp_path / "dagster_home"
    write_home(home)
    env = environment(DAGSTER_HOME=str(home))
    holder = start([sys.executable, "-c", HOLDER], tmp_path, env, "holder.log")
    blocked = None
    try:
        holder_log = tmp_path / "holder.log"
        wait_for(lambda: "holding" in holder_log.read_text(), 120, "the holder", holder, holder_log)
        config = tiny_org(tmp_path / "org")
        blocked = start(
            [PLATFORM_METRICS, "run", "--config", str(config)], tmp_path / "org", env, "run.log"
        )
        log = tmp_path / "org" / "run.log"
        waiting = wait_for(
            lambda: [x for x in log.read_text().splitlines() if "waiting for the" in x],
            300,
            "the waiting line",
            blocked,
            log,
        )
        with instance_at(home) as instance:
            (held,) = runs_of(instance, holder.pid)
        assert waiting == [
            f"waiting for the warehouse pool, held by run {held.run_id[:8]} (hold_warehouse, "
            f"pid {holder.pid}, started {waiting[0].split('started ')[1].split(')')[0]}); "
            "Ctrl-C stops this run"
        ]
        blocked.send_signal(signal.SIGTERM)
        # It stops while the slot is still held (the holder sleeps for minutes): before, the signal
        # was swallowed until the slot came free. Bounded, not timed: the machine may be busy.
        code = finish(blocked, 120)
        assert code == 130, log.read_text()[-2000:]
        assert log.read_text().splitlines()[-1] == "interrupted"
        with instance_at(home) as instance:
            stopped = runs_of(instance, blocked.pid)
            assert stopped and all(r.status == dg.DagsterRunStatus.FAILURE for r in stopped)
            # Its queued claim is gone; the live holder keeps its slot.
            assert slots_of(instance, blocked.pid) == []
            assert slots_of(instance, holder.pid) == ["warehouse slot of step hold_the_warehouse"]
        assert holder.poll() is None
    finally:
        if blocked is not None:
            finish(blocked, 0)
        holder.kill()
        finish(holder, 30)


def test_a_run_whose_process_is_alive_is_never_recovered(tmp_path):
    home = tmp_path / "dagster_home"
    write_home(home)
    holder = start(
        [sys.executable, "-c", HOLDER], tmp_path, environment(DAGSTER_HOME=str(home)), "h.log"
    )
    try:
        wait_for(lambda: "holding" in (tmp_path / "h.log").read_text(), 120, "the holder")
        with instance_at(home) as instance:
            assert recover_dead_runs(instance) == []
            (run,) = runs_of(instance, holder.pid)
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
            assert slots_of(instance, holder.pid) == ["warehouse slot of step hold_the_warehouse"]
            holder.kill()
            holder.wait(timeout=30)
            (recovered,) = recover_dead_runs(instance)
            assert recovered.run_id == run.run_id
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
            assert held_slots(instance) == {}
    finally:
        holder.kill()
        finish(holder, 30)


def test_a_run_with_a_reused_pid_is_recovered(tmp_path):
    """The pid tag alone is not proof: a live process with that pid but a later start time is
    another program, and the run's own process is gone."""
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run = instance.create_run_for_job(
            dg.GraphDefinition(name="g", node_defs=[]).to_job(),
            tags={PID_TAG: str(os.getpid()), "platform-metrics/process-started": "1000.0"},
        )
        instance.handle_run_event(
            run.run_id,
            dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
        )
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
        (recovered,) = recover_dead_runs(instance)
        assert recovered.pid == os.getpid()
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE


def test_the_serve_sensor_recovers_a_run_whose_worker_died(tmp_path):
    """Under serve a run worker can be killed while the daemon goes on; the sensor recovers it
    (pid recorded by Dagster's run launcher, no tags of ours)."""
    from assets.run_recovery import dead_run_recovery_sensor

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        run = instance.create_run_for_job(dg.GraphDefinition(name="g", node_defs=[]).to_job())
        instance.handle_run_event(
            run.run_id,
            dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name=run.job_name),
        )
        instance.report_engine_event(
            f"Started process for run (pid: {dead.pid}).",
            run,
            EngineEventData.in_process(dead.pid),
        )
        sensor = dead_run_recovery_sensor()
        result = sensor(dg.build_sensor_context(instance=instance))
        assert result.skip_message.startswith(f"recovered run {run.run_id[:8]} (g, pid {dead.pid}")
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        again = sensor(dg.build_sensor_context(instance=instance))
        assert again.skip_message == "no dead runs"


def test_slots_an_ended_run_still_holds_are_freed(tmp_path):
    with dg.instance_for_test(
        temp_dir=str(tmp_path), overrides={"concurrency": {"pools": {"default_limit": 1}}}
    ) as instance:
        run = instance.create_run_for_job(dg.GraphDefinition(name="g", node_defs=[]).to_job())
        instance.report_run_failed(run)
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse")
        assert storage.claim_concurrency_slot("warehouse", run.run_id, "step_a").is_claimed
        (recovered,) = recover_dead_runs(instance)
        assert "had ended but still held warehouse slot of step step_a" in recovered.line()
        assert held_slots(instance) == {}


def test_a_waiting_in_process_run_stops_on_ctrl_c_and_releases_its_claim(tmp_path):
    """In this process (the CLI's case): the slot is held by another run; Ctrl-C while waiting
    stops the pipeline with KeyboardInterrupt instead of being swallowed until the slot frees."""

    @dg.asset(pool="warehouse")
    def needs_the_warehouse():
        pytest.fail("ran although the pool was held")

    job = dg.Definitions(
        assets=[needs_the_warehouse], jobs=[dg.define_asset_job("j", [needs_the_warehouse])]
    ).resolve_job_def("j")
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        os.kill(os.getpid(), signal.SIGINT)

    with dg.instance_for_test(
        temp_dir=str(tmp_path), overrides={"concurrency": {"pools": {"default_limit": 1}}}
    ) as instance:
        other = instance.create_run_for_job(dg.GraphDefinition(name="other", node_defs=[]).to_job())
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse")
        assert storage.claim_concurrency_slot("warehouse", other.run_id, "s").is_claimed
        with pytest.raises(KeyboardInterrupt):
            execute(job, instance, say=say)
        assert said and said[0].startswith(
            f"waiting for the warehouse pool, held by run {other.run_id[:8]} (other, started "
        )
        (stopped,) = [r for r in instance.get_runs() if r.job_name == "j"]
        assert stopped.status == dg.DagsterRunStatus.FAILURE
        assert held_slots(instance) == {other.run_id: ["warehouse slot of step s"]}


def test_the_dagster_wait_loop_is_restored_after_a_run(tmp_path):
    """The patch is for this process's in-process runs only; a Dagster upgrade that renames the
    method fails here rather than silently bringing the spin back."""
    from dagster._core.execution.plan.active import ActiveExecution
    from dagster._core.execution.plan.instance_concurrency_context import (
        InstanceConcurrencyContext,
    )

    original = ActiveExecution.sleep_til_ready
    assert hasattr(InstanceConcurrencyContext, "has_pending_claims")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        with interruptible_pool_waits(PoolWait(instance, print)):
            assert ActiveExecution.sleep_til_ready is not original
    assert ActiveExecution.sleep_til_ready is original


def test_each_organisation_gets_its_own_dagster_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    shop = load_config(tiny_org(tmp_path / "a", "Tiny Shop"))
    bank = load_config(tiny_org(tmp_path / "b", "Big Bank"))
    storage = load_config(tiny_org(tmp_path / "c", "Storage"))
    assert cli.dagster_home(shop) == tmp_path / "build" / "dagster_home" / "tiny-shop"
    assert cli.dagster_home(bank) == tmp_path / "build" / "dagster_home" / "big-bank"
    # Not inside Dagster's own folder of the parent home.
    assert cli.dagster_home(storage).name == "storage-org"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "mine"))
    assert cli.dagster_home(shop) == cli.dagster_home(bank) == tmp_path / "mine"


def test_serve_uses_the_organisations_dagster_home(tmp_path):
    config = tiny_org(tmp_path, "Big Bank")
    serve = subprocess.Popen(
        [PLATFORM_METRICS, "serve", "--config", str(config), "--port", "1"],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # dagster dev starts children: stop the whole group
    )
    try:
        first = serve.stdout.readline()
    finally:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(timeout=30)
        serve.stdout.close()
    home = tmp_path / "build" / "dagster_home" / "big-bank"
    assert first.strip().endswith(f"(DAGSTER_HOME={home})")
    assert (home / "dagster.yaml").read_text() == cli.DAGSTER_YAML
