"""Runs that died, and runs that wait for the ``warehouse`` pool.

A run that is killed (SIGKILL, OOM, power loss) never reports its end: Dagster keeps it STARTED and
keeps the concurrency-pool slot its step had claimed, so with a pool limit of 1 every later run
waits forever. Dagster's run monitoring cannot see this with the default run launcher (it has no
run-worker health check), and ``platform-metrics run`` executes in process, without the daemon.
So every start (``run``, ``demo``, ``serve``) looks for in-progress runs whose process is gone,
marks them failed and frees their slots (:func:`recover_dead_runs`; under ``serve`` also the
``dead_run_recovery`` sensor, every minute), and a run that waits for a slot says who holds it and
stops on Ctrl-C or SIGTERM (:func:`interruptible_pool_waits`).

Who owns a run: the CLI tags its runs with its pid, host and process start time
(:func:`owner_tags`); runs launched by ``serve``'s daemon record their worker's pid in the
"Started process for run" engine event. A run with neither, or from another host, is never touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psutil
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.execution.plan.active import ActiveExecution
from dagster._utils.interrupts import pop_captured_interrupt

PID_TAG = "platform-metrics/pid"
HOST_TAG = "platform-metrics/host"
PROCESS_STARTED_TAG = "platform-metrics/process-started"
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
ENDED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}
# Process start times are recorded to the millisecond but read back from the OS with some jitter.
_START_TOLERANCE_SECONDS = 1.0
# How often a waiting run checks its wait (signals, dead holders); Dagster retries the claim itself
# at its own pace (1 s, rising to 15 s).
POLL_SECONDS = 0.5
REMIND_SECONDS = 60.0
HOLDER_CHECK_SECONDS = 5.0


def owner_tags() -> dict[str, str]:
    """Run tags that identify this process, so a later start can tell whether it is still alive."""
    me = psutil.Process()
    return {
        PID_TAG: str(me.pid),
        HOST_TAG: socket.gethostname(),
        PROCESS_STARTED_TAG: f"{me.create_time():.3f}",
    }


@dataclass(frozen=True)
class RunOwner:
    pid: int
    host: str | None  # None: recorded by Dagster's local run launcher, so this host
    process_started: float | None


@dataclass
class RecoveredRun:
    run_id: str
    job_name: str
    started: float | None
    pid: int | None
    status: str  # before recovery, or "ended" for a finished run that still held slots
    freed: list[str] = field(default_factory=list)  # "pool:step" per slot or queued claim

    def line(self) -> str:
        when = _format_time(self.started) if self.started else "start time unknown"
        owner = f"pid {self.pid}, " if self.pid else ""
        if self.status == "ended":
            what = "had ended but still held"
        else:
            what = f"was {self.status} but its process is gone; marked FAILURE, freed"
        slots = ", ".join(self.freed) if self.freed else "no pool slots"
        return (
            f"recovered run {self.run_id[:8]} ({self.job_name}, {owner}started {when}): "
            f"{what} {slots}"
        )


def run_owner(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunOwner | None:
    """Who runs ``run``: our tags, else the pid Dagster's run launcher recorded; None if unknown."""
    tags = run.tags
    if PID_TAG in tags:
        try:
            started = float(tags[PROCESS_STARTED_TAG]) if PROCESS_STARTED_TAG in tags else None
            return RunOwner(int(tags[PID_TAG]), tags.get(HOST_TAG), started)
        except ValueError:
            return None
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50
    ).records
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if not (event and entry.message.startswith("Started process for run")):
            continue
        pid = event.engine_event_data.metadata.get("pid") if event.engine_event_data else None
        if pid is not None and str(pid.value).isdigit():
            return RunOwner(int(pid.value), None, None)
    return None


def process_alive(owner: RunOwner, run_started: float | None) -> bool | None:
    """True/False for a process on this host; None when it cannot be told (another host)."""
    if owner.host is not None and owner.host != socket.gethostname():
        return None
    try:
        process = psutil.Process(owner.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        created = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # someone else's process with that pid: not provably ours, not provably gone
    if owner.process_started is not None:
        # A different start time is a reused pid: the run's own process is gone.
        return abs(created - owner.process_started) <= _START_TOLERANCE_SECONDS
    if run_started is not None:
        return created <= run_started + _START_TOLERANCE_SECONDS
    return True


def held_slots(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """run id -> ["pool:step", ...] for every claimed slot and queued claim in the instance."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    held: dict[str, list[str]] = {}
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        claimed = {(slot.run_id, slot.step_key) for slot in info.claimed_slots}
        for slot in info.claimed_slots:
            held.setdefault(slot.run_id, []).append(f"{key} slot of step {slot.step_key}")
        for step in info.pending_steps:
            if (step.run_id, step.step_key) not in claimed:
                held.setdefault(step.run_id, []).append(f"{key} queued claim of {step.step_key}")
    return held


def recover_dead_runs(instance: dg.DagsterInstance) -> list[RecoveredRun]:
    """Mark in-progress runs whose process is gone as FAILURE and free their pool slots; free the
    slots that finished or deleted runs still hold. Runs whose process is alive are left alone."""
    recovered: list[RecoveredRun] = []
    with _recovery_lock(instance):
        held = held_slots(instance)
        records = instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS))
        for record in records:
            run = record.dagster_run
            started = record.start_time or record.create_timestamp.timestamp()
            owner = run_owner(instance, run)
            if owner is None or process_alive(owner, started) is not False:
                continue
            instance.report_run_failed(
                run,
                message=(
                    f"The run's process (pid {owner.pid}) is gone: it was killed or crashed. "
                    "Marked failed by platform-metrics at the next start, which freed its "
                    "concurrency-pool slots."
                ),
            )
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            recovered.append(
                RecoveredRun(
                    run.run_id,
                    run.job_name,
                    started,
                    owner.pid,
                    run.status.value,
                    held.pop(run.run_id, []),
                )
            )
        for run_id, slots in sorted(held.items()):
            record = next(iter(instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))), None)
            if record is not None and record.dagster_run.status not in ENDED:
                continue
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            job = record.dagster_run.job_name if record else "run no longer recorded"
            started = record.start_time if record else None
            recovered.append(RecoveredRun(run_id, job, started, None, "ended", slots))
    return recovered


@contextlib.contextmanager
def _recovery_lock(instance: dg.DagsterInstance) -> Iterator[None]:
    """Two starts at once recover each dead run once (the kernel drops the lock if we die)."""
    root = getattr(instance, "root_directory", None)
    if not root:
        yield
        return
    with open(Path(root) / "run-recovery.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dead_run_recovery_sensor() -> dg.SensorDefinition:
    """Under ``serve``: the same recovery every minute, for a run worker killed while the daemon
    keeps going (the default run launcher gives run monitoring no way to see it)."""

    @dg.sensor(
        name="dead_run_recovery",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks runs whose process is gone as failed and frees their pool slots.",
    )
    def dead_run_recovery(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        lines = [run.line() for run in recover_dead_runs(context.instance)]
        for line in lines:
            context.log.warning(line)
        return dg.SkipReason("; ".join(lines) or "no dead runs")

    return dead_run_recovery


class PoolWait:
    """What one waiting run says: a first line naming the holder, then one every REMIND_SECONDS."""

    def __init__(self, instance: dg.DagsterInstance, say: Callable[[str], None]):
        self.instance = instance
        self.say = say
        self.interrupted = False
        self._since: dict[str, float] = {}  # run id -> when it started waiting
        self._last_said: dict[str, float] = {}
        self._last_holder_check = 0.0

    def tick(self, run_id: str) -> None:
        now = time.monotonic()
        since = self._since.setdefault(run_id, now)
        if now - self._last_holder_check >= HOLDER_CHECK_SECONDS:
            self._last_holder_check = now
            # A holder that died after our start-up check would otherwise block us for good.
            for run in recover_dead_runs(self.instance):
                self.say(run.line())
        last = self._last_said.get(run_id)
        if last is not None and now - last < REMIND_SECONDS:
            return
        self._last_said[run_id] = now
        waited = "" if last is None else f"still ({_format_duration(now - since)}) "
        self.say(f"{waited}{self.describe(run_id)}; Ctrl-C stops this run")

    def describe(self, run_id: str) -> str:
        storage = self.instance.event_log_storage
        for key in sorted(storage.get_concurrency_keys()):
            info = storage.get_concurrency_info(key)
            if not any(s.run_id == run_id for s in info.pending_steps):
                continue
            holders = [s.run_id for s in info.claimed_slots if s.run_id != run_id]
            held_by = "; ".join(self._holder(h) for h in dict.fromkeys(holders))
            return f"waiting for the {key} pool, held by {held_by or 'runs ahead in its queue'}"
        return "waiting for a concurrency pool slot"

    def _holder(self, run_id: str) -> str:
        record = next(iter(self.instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))), None)
        if record is None:
            return f"run {run_id[:8]} (no longer recorded)"
        owner = run_owner(self.instance, record.dagster_run)
        started = record.start_time or record.create_timestamp.timestamp()
        pid = f"pid {owner.pid}, " if owner else ""
        return f"run {run_id[:8]} ({record.dagster_run.job_name}, {pid}started {_format_time(started)})"


@contextlib.contextmanager
def interruptible_pool_waits(wait: PoolWait) -> Iterator[PoolWait]:
    """While in effect, an in-process run that waits for a pool slot sleeps, reports, and stops on
    Ctrl-C/SIGTERM.

    Why a patch: Dagster 1.13's in-process executor waits for a slot in a loop that (1) never sleeps,
    because ``InstanceConcurrencyContext.interval_to_next_pending_claim_check`` returns
    ``min(0, ...)``, so it spins a CPU, and (2) never looks at the interrupt flag that its
    ``capture_interrupts`` handler sets for SIGINT and SIGTERM (only the multiprocess and
    step-delegating executors do), so the signals are swallowed until a slot frees up.
    ``ActiveExecution.sleep_til_ready`` is the one place that loop waits; we replace it for the
    in-process runs of this process only and restore it on exit. tests/test_run_recovery.py fails
    if a Dagster upgrade moves it.
    """
    original = ActiveExecution.sleep_til_ready

    def sleep_til_ready(self: ActiveExecution) -> None:
        context = self._instance_concurrency_context
        if context is None or not context.has_pending_claims():
            return original(self)
        if pop_captured_interrupt():
            wait.interrupted = True
            raise DagsterExecutionInterruptedError()
        wait.tick(context._run_id)
        time.sleep(POLL_SECONDS)
        return None

    ActiveExecution.sleep_til_ready = sleep_til_ready
    try:
        yield wait
    finally:
        ActiveExecution.sleep_til_ready = original


def _format_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
