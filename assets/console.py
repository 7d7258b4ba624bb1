"""What ``platform-metrics run`` and ``demo`` show: one line per phase, a progress line per long
phase, and a closing summary; the full Dagster and dbt logs go to a file under ``build/logs/``.

Everything the libraries print while the pipeline runs (Dagster's console log, dbt's event lines,
Python warnings, subprocess output) goes to the log file: file descriptors 1 and 2 point at it for
the run. The console lines are written to a copy of the original standard output taken before.
A failure still prints its cause on the console (assets/cli.py); the log holds the detail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

LOG_DIR = Path("build") / "logs"
# A progress line at most this often on a console that is not a terminal (a CI log, a test).
_PLAIN_EVERY_SECONDS = 20.0
_POLL_SECONDS = 0.5
# The refresh run's steps, by the group of the assets they write: the phase a step belongs to.
_PHASES = {"ingest": "ingest", "publish": "publish"}


def log_path(config_name: str, now: dt.datetime | None = None) -> Path:
    """build/logs/<name>-<UTC time>.log (absolute: the run may change directory)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return (LOG_DIR / f"{config_name}-{stamp}.log").resolve()


class Console:
    """Lines for the person at the terminal. ``line`` stays; ``status`` is a progress line that a
    terminal overwrites in place and a plain stream gets at most every ``plain_every`` seconds."""

    def __init__(self, out: IO[str], *, tty: bool | None = None, plain_every: float | None = None):
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.plain_every = _PLAIN_EVERY_SECONDS if plain_every is None else plain_every
        self._status = ""
        self._last_plain: float | None = None
        self._lock = threading.Lock()
        self.lines = 0

    def line(self, text: str) -> None:
        with self._lock:
            self._clear()
            self.out.write(text + "\n")
            self.out.flush()
            self.lines += 1

    def status(self, text: str, *, force: bool = False) -> None:
        """A progress line; ``force`` prints it on a plain stream too (a phase's last count)."""
        with self._lock:
            if self.tty:
                width = 119
                self._clear()
                self._status = text[:width]
                self.out.write(self._status)
                self.out.flush()
                return
            now = time.monotonic()
            if force or self._last_plain is None or now - self._last_plain >= self.plain_every:
                self._last_plain = now
                self.out.write(text + "\n")
                self.out.flush()
                self.lines += 1

    def _clear(self) -> None:
        if self.tty and self._status:
            self.out.write("\r" + " " * len(self._status) + "\r")
            self._status = ""


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[IO[str]]:
    """Send file descriptors 1 and 2, and sys.stdout/sys.stderr, to ``path`` for the block; yields
    a stream on the original standard output for the console lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    log = path.open("a", encoding="utf-8", buffering=1)
    saved: dict[int, int] = {}
    console: IO[str] = sys.stdout
    try:
        try:
            original = sys.stdout.fileno()
            console = os.fdopen(os.dup(original), "w", buffering=1, encoding="utf-8")
            for fd in (1, 2):
                saved[fd] = os.dup(fd)
                os.dup2(log.fileno(), fd)
        except (OSError, ValueError, AttributeError):  # no real descriptors (an embedding host)
            console = sys.stdout
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield console
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        if console is not sys.stdout:
            console.close()
        log.close()


# ------------------------------------------------------------------------------ watching a run
@dataclass
class _RunView:
    step_started: dict[str, float] = field(default_factory=dict)
    dbt_models: int = 0
    dbt_tests: int = 0
    last_message: str = ""
    rows: dict[str, int] = field(default_factory=dict)


class RunWatcher:
    """Follows one in-process run through the instance's event log (a thread polls it) and says
    on ``console`` when each step finishes; a long step (dbt) gets progress lines."""

    def __init__(self, console: Console, instance: dg.DagsterInstance, groups: dict[str, str]):
        self.console = console
        self.instance = instance
        self.groups = groups  # step key -> phase name
        self._phase = ""

    @contextlib.contextmanager
    def watch(self, run_id: str) -> Iterator[None]:
        stop = threading.Event()
        view = _RunView()
        thread = threading.Thread(target=self._poll, args=(run_id, stop, view), daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=10)

    def _poll(self, run_id: str, stop: threading.Event, view: _RunView) -> None:
        cursor = None
        while True:
            stopping = stop.is_set()
            try:
                connection = self.instance.get_records_for_run(run_id, cursor=cursor)
            except Exception:  # the run is not stored yet, or storage is busy: try again
                connection = None
            if connection is not None:
                cursor = connection.cursor
                for record in connection.records:
                    self._see(record.event_log_entry, view)
            if stopping:
                return
            self._tick(view)
            stop.wait(_POLL_SECONDS)

    def _see(self, entry: Any, view: _RunView) -> None:
        event = entry.dagster_event
        step = entry.step_key or ""
        if event is None:
            if step and entry.user_message:
                view.last_message = entry.user_message.splitlines()[0][:90]
            return
        kind = event.event_type
        phase = self.groups.get(step, "dbt")
        if kind == dg.DagsterEventType.STEP_START:
            view.step_started[step] = time.monotonic()
            if phase != self._phase and phase != "checks":
                self._phase = phase
                self.console.line(f"{phase} ...")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            if phase == "dbt":
                view.dbt_models += 1
            else:
                view.rows[step] = view.rows.get(step, 0) + materialized_rows(event)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION and phase == "dbt":
            view.dbt_tests += 1
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            started = view.step_started.pop(step, time.monotonic())
            failed = kind == dg.DagsterEventType.STEP_FAILURE
            view.last_message = ""
            if phase == "checks" and not failed:
                return
            took = time.monotonic() - started
            extra = ""
            if phase == "dbt":
                extra = f": {view.dbt_models:,} models and seeds, {view.dbt_tests:,} tests"
            elif view.rows.get(step):
                extra = f": {view.rows[step]:,} rows"
            state = "FAILED" if failed else "done"
            self.console.line(f"  {step_label(step)} {state} in {took:,.0f} s{extra}")

    def _tick(self, view: _RunView) -> None:
        running = [s for s in view.step_started if s not in self.groups]
        if running and view.dbt_models + view.dbt_tests:
            self.console.status(
                f"  dbt build: {view.dbt_models:,} models and seeds built, "
                f"{view.dbt_tests:,} tests run"
            )
        elif view.step_started and view.last_message and self.console.tty:
            self.console.status(f"  {view.last_message}")


def materialized_rows(event: Any) -> int:
    """The ``rows`` metadata of a materialization event (0 when it has none)."""
    data = event.event_specific_data
    materialization = getattr(data, "materialization", None)
    value = (getattr(materialization, "metadata", None) or {}).get("rows")
    value = getattr(value, "value", value)
    return value if isinstance(value, int) else 0


def step_label(step_key: str) -> str:
    """``publish__site`` -> ``publish/site``; the dbt step is ``dbt build``."""
    if step_key == "dbt_models":
        return "dbt build"
    return step_key.replace("__", "/")


def step_phases(defs: dg.Definitions) -> dict[str, str]:
    """Step key -> phase (``ingest``, ``checks``, ``publish``) of every step dbt does not run: a
    step writing assets of the ingest or publish group, or a step running only asset checks."""
    phases: dict[str, str] = {}
    for assets_def in defs.assets or []:
        groups = set(getattr(assets_def, "group_names_by_key", {}).values())
        for group, phase in _PHASES.items():
            if group in groups:
                phases[assets_def.node_def.name] = phase
    for checks_def in defs.asset_checks or []:
        phases[checks_def.node_def.name] = "checks"
    return phases


# ------------------------------------------------------------------------------ closing summary
# Files the site publishes besides its pages, as the summary names them.
_PUBLISHED = (
    ("leadership reports", "leadership-*"),
    ("SLO report", "slo-*"),
    ("dbt docs", "dbt-docs*.html"),
    ("Prometheus metrics", "metrics.prom"),
    ("Grafana dashboards", "grafana"),
)


def summary_lines(
    outcome: Any,
    phases: dict[str, str],
    *,
    site: Path,
    snapshot: Path,
    warehouse: Path | None = None,
    log: Path | None,
) -> list[str]:
    """What was synced, which tests and checks ran, what was published and where, and what was
    skipped with the reason and the fix; the log file last."""
    lines = ["", "Summary"]
    synced = [
        f"{name} {count:,} {unit} ({rows:,} rows)"
        for name, (count, unit, rows) in outcome.partition_rows.items()
    ]
    result = outcome.refresh
    rows_by_step: dict[str, int] = {}
    published: dict[str, Any] = {}
    skipped: list[str] = []
    if result is not None:
        for event in result.get_asset_materialization_events():
            step = event.step_key or ""
            if phases.get(step) == "ingest":
                rows_by_step[step] = rows_by_step.get(step, 0) + materialized_rows(event)
            elif phases.get(step) == "publish":
                metadata = event.materialization.metadata
                published[step] = metadata
                why = _value(metadata.get("skipped")) or (
                    _value(metadata.get("reason"))
                    if _value(metadata.get("posted")) is False
                    else None
                )
                if why and why != "nothing":
                    skipped.append(f"{step_label(step)}: {why}")
    synced += [f"{step_label(step)} {rows:,} rows" for step, rows in rows_by_step.items()]
    lines.append(f"  Synced:    {'; '.join(synced) or 'nothing'}")
    if warehouse is not None:
        lines.append(f"  Warehouse: {warehouse}")
    if result is not None:
        evaluations = result.get_asset_check_evaluations()
        payload = [e for e in evaluations if e.check_name == "payloads_are_well_formed"]
        dbt_tests = [e for e in evaluations if e not in payload]
        failed = [e for e in evaluations if not e.passed]
        # A warn-level check (e.g. the delivery-regression check) reports a finding about the data,
        # not a broken run: it is counted and named as a warning, apart from the failures.
        warned = [e for e in failed if _severity(e) == "WARN"]
        errors = [e for e in failed if e not in warned]
        lines.append(
            f"  Checks:    {len(dbt_tests):,} dbt tests and asset checks, {len(payload)} raw payload "
            f"check{'' if len(payload) == 1 else 's'}: {len(evaluations) - len(failed):,} passed, "
            f"{len(errors)} failed"
            + (f", {len(warned)} warning{'' if len(warned) == 1 else 's'}" if warned else "")
        )
        named = [("failed", e) for e in errors] + [("warning", e) for e in warned]
        for word, evaluation in named[:10]:
            lines.append(
                f"    {word}: {evaluation.asset_key.to_user_string()} {evaluation.check_name}"
            )
        if len(named) > 10:
            lines.append(f"    ... and {len(named) - 10} more (data-quality page)")
    if published:
        index = site / "index.html"
        lines.append(f"  Published: site file://{index}")
        for label, pattern in _PUBLISHED:
            found = sorted(p.name for p in site.glob(pattern))
            if found:
                shown = ", ".join(found[:4]) + (f" +{len(found) - 4}" if len(found) > 4 else "")
                lines.append(f"             {label}: {shown}")
        lines.append(f"             analysts' snapshot: {snapshot}")
    for line in skipped:
        lines.append(f"  Skipped:   {line}")
    if log is not None:
        lines.append(f"  Full log:  {log}")
    return lines


def _value(metadata_value: Any) -> Any:
    return getattr(metadata_value, "value", metadata_value)


def _severity(evaluation) -> str:
    """The check's severity name (ERROR, WARN), empty when the evaluation carries none."""
    return str(getattr(getattr(evaluation, "severity", None), "value", "") or "").upper()
