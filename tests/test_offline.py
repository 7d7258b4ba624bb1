"""Offline means offline: dbt, the leadership PDF and the chart images attempt nothing off this
machine, and publishing finds a browser or says in one line why there is no PDF.

Evidence, not configuration reading: a Python audit hook in this process and in dbt's (which also
refuses what it records, so nothing leaves even when a test fails) and Chromium's own net-log of
every request, lookup and connection it attempted (tests/offline_audit.py).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from dashboards.browser import (
    BROWSER_ENV_VAR,
    NETLOG_ENV_VAR,
    OFFLINE_FLAGS,
    browser_missing,
    find_browser,
)
from dashboards.leadership import write_leadership_reports
from pipelines.dbt_cli import DBT_PROJECT_DIR, dbt_executable, run_dbt
from pipelines.offline import TELEMETRY_OFF, refusing_proxy, tool_env
from tests.mart_fixtures import BUILD_TIME, make_warehouse
from tests.offline_audit import (
    audit_records,
    audit_this_process,
    netlog_command_line,
    netlog_offsite,
    subprocess_audit,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
BROWSER = find_browser()
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no Chrome, Chromium or Edge (apt chromium)")  # fmt: skip


# ------------------------------------------------------------------------------ the environment
def test_the_makefile_exports_the_offline_environment():
    exports = dict(
        re.findall(r"^export (\w+) := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M)
    )
    assert {k: exports.get(k) for k in TELEMETRY_OFF} == TELEMETRY_OFF


def test_dbt_project_turns_usage_stats_and_version_check_off():
    import yaml

    flags = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["flags"]
    assert flags["send_anonymous_usage_stats"] is False
    assert flags["version_check"] is False


def test_great_expectations_context_has_analytics_off():
    from pipelines.quality import _context

    assert _context().config.analytics_enabled is False


def test_refusing_proxy_is_undone_after_the_block(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.delenv("ALL_PROXY", raising=False)
    with refusing_proxy():
        assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:9"
    assert os.environ["HTTPS_PROXY"] == "http://proxy.corp:3128"
    assert "ALL_PROXY" not in os.environ


# ------------------------------------------------------------------------------------------- dbt
@pytest.fixture
def dbt_audit(tmp_path, monkeypatch) -> Path:
    env, log = subprocess_audit(tmp_path / "audit")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return log


def test_the_audit_sees_dbt_asking_the_package_index_without_the_offline_environment(
    dbt_audit, tmp_path
):
    # `dbt --version` (dagster-dbt runs it before every command) asks pypi.org for the latest
    # release. Without pipelines/offline.py's environment the hook catches (and refuses) it:
    # proof that the next tests' empty records mean something.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    subprocess.run([dbt_executable(), "--version"], env=env, capture_output=True, timeout=120)
    assert any("pypi.org" in r["what"] for r in audit_records(dbt_audit)), audit_records(dbt_audit)


def test_dbt_through_dbt_cli_looks_up_and_connects_to_nothing_off_the_machine(dbt_audit, tmp_path):
    # `dbt --version` with the environment run_dbt gives dbt, then a real command through run_dbt.
    version = subprocess.run(
        [dbt_executable(), "--version"], env=tool_env(), capture_output=True, text=True, timeout=120
    )
    run_dbt(["parse"], warehouse=tmp_path / "warehouse.duckdb", target_path=tmp_path / "target")
    assert "Core:" in version.stdout
    assert audit_records(dbt_audit) == []


def test_dagster_dbt_invocations_look_up_and_connect_to_nothing_off_the_machine(
    dbt_audit, tmp_path, monkeypatch
):
    from dagster_dbt import DbtCliResource

    resource = DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
    monkeypatch.setenv("PLATFORM_METRICS_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    # As assets/dbt.py calls it: `dbt --version` and the command's environment inside the block.
    with refusing_proxy():
        invocation = resource.cli(["debug", "--config-dir"], target_path=tmp_path / "target")
    invocation.wait()
    assert invocation.is_successful()
    assert audit_records(dbt_audit) == []


def test_tool_env_keeps_loopback_direct():
    env = tool_env({})
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1"
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == "http://127.0.0.1:9"


# ------------------------------------------------------------------------------------- Chromium
@needs_browser
def test_the_netlog_sees_chromium_calling_home_without_the_offline_flags(tmp_path):
    # Only the two hard guards (refusing proxy, no name resolution): Chromium still *tries* Google
    # hosts, and the net-log reader reports them. Nothing leaves: the attempts fail on this box.
    page = tmp_path / "page.html"
    page.write_text("<p>hello</p>", encoding="utf-8")
    netlog = tmp_path / "bare.json"
    guards = [f for f in OFFLINE_FLAGS if f.startswith(("--proxy-server", "--host-resolver"))]
    subprocess.run(
        [str(BROWSER), "--headless", "--no-sandbox", "--disable-gpu", *guards,
         f"--user-data-dir={tmp_path / 'profile'}", f"--log-net-log={netlog}",
         f"--print-to-pdf={tmp_path / 'out.pdf'}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    attempts = netlog_offsite(netlog)
    assert any("google" in a for a in attempts), attempts


@needs_browser
def test_publishing_the_pdf_and_chart_images_attempts_nothing_off_the_machine(
    tmp_path, monkeypatch
):
    netlogs = tmp_path / "netlog"
    monkeypatch.setenv(NETLOG_ENV_VAR, str(netlogs))
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    with audit_this_process() as attempts:
        written = write_leadership_reports(
            warehouse, tmp_path / "leadership", organisation="Acme", now=BUILD_TIME
        )
    assert written.skipped is None
    for cadence in ("weekly", "monthly"):
        assert (written.folder / f"leadership-{cadence}.pdf").read_bytes()[:5] == b"%PDF-"
        html = (written.folder / f"leadership-{cadence}.html").read_text(encoding="utf-8")
        assert "data:image/png;base64," in html  # the chart image was drawn by kaleido
    assert attempts == []
    logs = sorted(netlogs.glob("*.json"))
    kinds = sorted(
        "kaleido" if "--remote-debugging-pipe" in netlog_command_line(p) else "pdf" for p in logs
    )
    assert kinds == ["kaleido", "kaleido", "pdf", "pdf"]  # every launch went through the launcher
    assert {p.name: netlog_offsite(p) for p in logs} == {p.name: [] for p in logs}


# ------------------------------------------------------------------------------- finding a browser
def _fake_browser(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_find_browser_prefers_the_configured_path_then_the_env_var_then_path(tmp_path):
    configured = _fake_browser(tmp_path / "cfg" / "chrome")
    from_env = _fake_browser(tmp_path / "env" / "chrome")
    on_path = _fake_browser(tmp_path / "bin" / "google-chrome")
    environ = {"PATH": str(on_path.parent), BROWSER_ENV_VAR: str(from_env)}
    assert find_browser(configured, environ=environ, locations=()) == configured
    assert find_browser(None, environ=environ, locations=()) == from_env
    environ.pop(BROWSER_ENV_VAR)
    assert find_browser(None, environ=environ, locations=()) == on_path


def test_find_browser_looks_in_the_usual_install_locations(tmp_path):
    app = _fake_browser(tmp_path / "Applications/Chromium.app/Contents/MacOS/Chromium")
    found = find_browser(None, environ={"PATH": ""}, locations=("/nonexistent/chrome", str(app)))
    assert found == app


def test_no_browser_anywhere_gives_none_and_a_line_saying_how_to_get_one(tmp_path):
    assert find_browser(None, environ={"PATH": str(tmp_path)}, locations=()) is None
    line = browser_missing(None, environ={})
    assert "\n" not in line
    assert "no Chrome, Chromium or Edge found" in line
    assert "apt install chromium" in line and "publish.chromium_path" in line


def test_a_configured_browser_that_is_not_there_is_named_in_the_line(tmp_path):
    missing = tmp_path / "nope" / "chrome"
    assert find_browser(missing, environ={"PATH": "/usr/bin"}) is None
    assert f"publish.chromium_path '{missing}' is not an executable file" in browser_missing(
        missing, environ={}
    )


def test_publishing_without_a_browser_skips_the_pdf_and_images_and_says_why(tmp_path):
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb")
    written = write_leadership_reports(
        warehouse, tmp_path / "leadership", organisation="Acme", now=BUILD_TIME,
        browser=tmp_path / "no-such-browser",
    )  # fmt: skip
    assert sorted(p.suffix for p in written.files) == [".html", ".html", ".md", ".md"]
    assert written.skipped == browser_missing(tmp_path / "no-such-browser")
    html = (written.folder / "leadership-weekly.html").read_text(encoding="utf-8")
    assert "data:image/png" not in html
