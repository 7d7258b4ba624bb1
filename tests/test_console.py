"""The quiet console of `platform-metrics run`/`demo` (assets/console.py): library output to the
log file, phase and progress lines to the terminal, and the closing summary from a real run."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg

from assets.console import Console, summary_lines
from assets.runner import PipelineOutcome

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_library_output_goes_to_the_log_file_and_the_console_keeps_only_its_lines(tmp_path):
    log = tmp_path / "logs" / "run.log"
    script = textwrap.dedent(
        f"""
        import os, subprocess, sys, warnings
        from pathlib import Path
        from assets.console import Console, output_to

        with output_to(Path({str(log)!r})) as stream:
            console = Console(stream)
            console.line("ingest ...")
            print("a library's print")
            sys.stderr.write("a library's stderr\\n")
            os.write(1, b"descriptor one\\n")
            os.write(2, b"descriptor two\\n")
            warnings.warn("a deprecated option", UserWarning)
            subprocess.run([sys.executable, "-c", "print('a child process')"], check=True)
            console.line("  done")
        print("after the run")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ingest ...\n  done\nafter the run\n"
    assert result.stderr == ""
    written = log.read_text(encoding="utf-8")
    for text in (
        "a library's print",
        "a library's stderr",
        "descriptor one",
        "descriptor two",
        "a deprecated option",
        "a child process",
    ):
        assert text in written
    assert "ingest ..." not in written


def test_an_error_inside_the_run_still_reaches_the_terminal(tmp_path):
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from assets.console import output_to

        with output_to(Path({str(tmp_path / "run.log")!r})):
            raise RuntimeError("the warehouse is locked by process 42")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )
    assert result.returncode == 1
    assert "RuntimeError: the warehouse is locked by process 42" in result.stderr


def test_progress_lines_are_throttled_on_a_plain_stream_and_overwritten_on_a_terminal():
    plain = io.StringIO()
    console = Console(plain, tty=False, plain_every=3600)
    console.status("github 1 of 3 repositories, 10 items")
    console.status("github 2 of 3 repositories, 20 items")
    console.status("github 3 of 3 repositories, 30 items", force=True)
    assert plain.getvalue().splitlines() == [
        "github 1 of 3 repositories, 10 items",
        "github 3 of 3 repositories, 30 items",
    ]

    terminal = io.StringIO()
    console = Console(terminal, tty=True)
    console.status("github 1 of 3 repositories")
    console.status("github 2 of 3 repositories")
    console.line("ingest ...")
    text = terminal.getvalue()
    assert text.count("\n") == 1  # only the phase line ends a line
    assert text.endswith("\r" + " " * len("github 2 of 3 repositories") + "\ringest ...\n")


def _small_run(tmp_path) -> tuple[dg.ExecuteInProcessResult, dict[str, str]]:
    """A real in-process run shaped like refresh: an ingest asset, a publish asset that skipped
    its PDF, a passing and a failing (warn) check."""

    @dg.asset(key=["raw", "things"], group_name="ingest")
    def things() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"rows": 7})

    @dg.asset(key=["publish", "report"], group_name="publish", deps=[things])
    def report() -> dg.MaterializeResult:
        return dg.MaterializeResult(
            metadata={"skipped": "PDF skipped: no Chromium found; install chromium"}
        )

    @dg.asset_check(asset=things, name="payloads_are_well_formed")
    def well_formed() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=report, name="no_regression")
    def no_regression() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    defs = dg.Definitions(assets=[things, report], asset_checks=[well_formed, no_regression])
    from assets.console import step_phases

    job = defs.resolve_implicit_global_asset_job_def()
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
    return result, step_phases(defs)


def test_summary_names_what_was_synced_checked_published_and_skipped_with_the_fix(tmp_path):
    result, phases = _small_run(tmp_path)
    assert phases["raw__things"] == "ingest" and phases["publish__report"] == "publish"
    site = tmp_path / "site"
    site.mkdir()
    (site / "metrics.prom").write_text("", encoding="utf-8")
    outcome = PipelineOutcome(refresh=result, partition_rows={"github": (3, "repositories", 42)})
    lines = summary_lines(
        outcome, phases, site=site, snapshot=tmp_path / "snapshot", log=tmp_path / "run.log"
    )
    text = "\n".join(lines)
    assert "Synced:    github 3 repositories (42 rows); raw/things 7 rows" in text
    assert (
        "Checks:    1 dbt tests and asset checks, 1 raw payload check: 1 passed, 0 failed, "
        "1 warning" in text
    )
    assert "warning: publish/report no_regression" in text
    assert "failed: publish/report" not in text
    assert f"Published: site file://{site / 'index.html'}" in text
    assert "Prometheus metrics: metrics.prom" in text
    assert "Skipped:   publish/report: PDF skipped: no Chromium found; install chromium" in text
    assert lines[-1] == f"  Full log:  {tmp_path / 'run.log'}"


def test_a_failed_dbt_model_is_named_with_its_cause_in_the_error_line():
    """dagster-dbt's exception starts "The dbt CLI process with command ..." (a 5,000-character
    --vars line); the one error line the user sees names the model and dbt's cause instead."""
    from assets.cli import _dbt_error

    message = (
        "The dbt CLI process with command\n\n`dbt build --vars {...}`\n\nfailed with exit code `1`.\n\n"
        "Errors parsed from dbt logs:\n\n"
        "177 of 678 ERROR creating sql view model intermediate.int_pull_requests .... "
        "[\x1b[31mERROR\x1b[0m in 0.03s]\n\n"
        "\x1b[31mFailure in model int_pull_requests (models/int_pull_requests.sql)\x1b[0m\n\n"
        "  Runtime Error in model int_pull_requests (models/int_pull_requests.sql)\n"
        "  Binder Error: Set operations can only apply to expressions with the same number of "
        "result columns\n"
    )
    assert _dbt_error(message) == (
        "Runtime Error in model int_pull_requests (models/int_pull_requests.sql): Binder Error: "
        "Set operations can only apply to expressions with the same number of result columns"
    )
    assert _dbt_error("ValueError: something else") is None
