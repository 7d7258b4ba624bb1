"""The leadership report (HTML, PDF, Markdown), the webhook post and the Prometheus exposition file,
against a warehouse built by the tests, with real Chromium, pdftotext, promtool and a local server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboards.blocks import fmt_hours, fmt_int, fmt_pct
from dashboards.browser import find_browser
from dashboards.leadership import write_leadership_reports
from dashboards.notify import NotifyError, post_summary
from dashboards.site import build_site
from tests.mart_fixtures import BUILD_TIME, make_warehouse

LAST_WEEK, PREVIOUS_WEEK = "2025-02-24", "2025-02-17"


def _service_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Service rows for the last two weeks: checkout-api's failures drive the org's CFR change."""
    org = con.execute(
        "SELECT period_start, deployments FROM marts.metrics_dora_weekly "
        "WHERE scope = 'org' AND period_start IN (DATE '2025-02-17', DATE '2025-02-24')"
    ).fetchall()
    assert len(org) == 2
    con.execute(
        "UPDATE marts.metrics_dora_weekly SET n_failed_deployments = 3, "
        "change_failure_rate = 3.0 / deployments WHERE scope = 'org' AND period_start = '2025-02-24'"
    )
    rows = []
    for start, deployments in org:
        late = str(start) == LAST_WEEK
        half = deployments // 2
        for service, deps, failed in (
            ("checkout-api", half, 3 if late else 0),
            ("search-api", deployments - half, 0),
        ):
            rows.append(
                {"period_start": start, "scope": "service", "scope_name": service,
                 "deployments": deps, "n_failed_deployments": failed,
                 "change_failure_rate": failed / deps, "n_changes": deps * 2,
                 "lead_time_p50_hours": 20.0, "rework_rate": 0.0}
            )  # fmt: skip
    frame = pd.DataFrame(rows)
    con.register("_svc", frame)
    columns = ", ".join(frame.columns)
    con.execute(f"INSERT INTO marts.metrics_dora_weekly ({columns}) SELECT {columns} FROM _svc")
    con.unregister("_svc")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    path = make_warehouse(tmp_path_factory.mktemp("leadership") / "warehouse.duckdb")
    with duckdb.connect(str(path)) as con:
        _service_rows(con)
    return path


@pytest.fixture(scope="module")
def reports(warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "leadership"
    return write_leadership_reports(
        warehouse, out, organisation="Acme", now=BUILD_TIME, link="https://metrics.example/site/"
    )


def _org_week(warehouse: Path, start: str) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        df = con.execute(
            "SELECT * FROM marts.metrics_dora_weekly WHERE scope = 'org' AND period_start = ?",
            [start],
        ).df()
    return df.iloc[0].to_dict()


def test_weekly_and_monthly_reports_are_written_as_html_markdown_and_pdf(reports):
    names = sorted(p.name for p in reports.files)
    expected = [f"leadership-{c}.{e}" for c in ("monthly", "weekly") for e in ("html", "md", "pdf")]
    if find_browser() is None:
        expected = [n for n in expected if not n.endswith(".pdf")]
    assert names == expected
    html = (reports.folder / "leadership-weekly.html").read_text()
    assert "week of 2025-02-24 against week of 2025-02-17" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # self-contained


def test_markdown_summary_has_headlines_targets_movements_and_the_link(reports, warehouse):
    md = (reports.folder / "leadership-weekly.md").read_text()
    now = _org_week(warehouse, LAST_WEEK)
    assert f"| Deployments | {fmt_int(now['deployments'])} |" in md
    assert f"| Change failure rate | {fmt_pct(now['change_failure_rate'])} |" in md
    assert "target: not set" not in md  # no target configured: no target column at all
    assert "| metric | now | previous | change | sample |\n" in md
    assert "Full report: https://metrics.example/site/leadership-weekly.html" in md
    assert "Performance level: **high**" in md


def test_the_change_failure_rate_movement_names_the_service_that_drove_it(reports):
    weekly = reports.reports["weekly"]
    movement = next(m for m in weekly.movements if m.headline.metric.key == "change_failure_rate")
    assert "checkout-api" in movement.cause
    assert "3 failed" in movement.cause
    assert len(weekly.movements) <= 3


@pytest.mark.skipif(
    not shutil.which("pdftotext") or find_browser() is None, reason="poppler/chromium"
)
def test_pdf_headline_numbers_equal_the_warehouse(reports, warehouse):
    text = subprocess.run(
        ["pdftotext", "-layout", str(reports.folder / "leadership-weekly.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    now, before = _org_week(warehouse, LAST_WEEK), _org_week(warehouse, PREVIOUS_WEEK)
    rows = {
        "Deployments": (fmt_int(now["deployments"]), fmt_int(before["deployments"])),
        "Lead time p50": (
            fmt_hours(now["lead_time_p50_hours"]),
            fmt_hours(before["lead_time_p50_hours"]),
        ),
        "Change failure rate": (
            fmt_pct(now["change_failure_rate"]),
            fmt_pct(before["change_failure_rate"]),
        ),
        "Rework rate": (fmt_pct(now["rework_rate"]), fmt_pct(before["rework_rate"])),
    }
    for label, (current, previous) in rows.items():
        line = next(li for li in text.splitlines() if li.strip().startswith(label))
        cells = " ".join(line.split())  # "Label now previous change sample target"
        assert cells.startswith(f"{label} {current} {previous} "), cells
    assert f"n = {now['n_changes']} changes" in text
    assert "checkout-api" in text  # the cause is in the PDF too


def test_targets_come_from_the_scorecard_once_it_exists(warehouse, tmp_path):
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        # The scorecard's percentages are 0-100 (a 10% target is 10), org rows are org targets.
        con.execute(
            "CREATE TABLE marts.metrics_success_scorecard AS SELECT * FROM (VALUES "
            "('change_failure_rate', 'org', '%', '<', 10.0), "
            "('lead_time', 'team:payments', 'h', '<', 8.0)) AS t(metric, scope, unit, op, target)"
        )
    out = write_leadership_reports(copy, tmp_path / "r", organisation="Acme", now=BUILD_TIME, pdf=False, images=False)  # fmt: skip
    md = (out.folder / "leadership-weekly.md").read_text()
    assert "| target: < 10.0% |" in md
    assert "target: < 8.0 h" not in md  # a team's target is not the organisation's
    assert "target: not set" not in md  # the other metrics have none, and say nothing
    assert re.search(r"\| Rework rate \| .*\| n = [^|]+ \|  \|", md)


def test_an_empty_warehouse_gives_an_honest_no_data_report(tmp_path):
    bare = make_warehouse(tmp_path / "bare.duckdb", marts=False)
    out = write_leadership_reports(bare, tmp_path / "r", organisation="Acme", now=BUILD_TIME, pdf=False, images=False)  # fmt: skip
    assert "No data yet" in (out.folder / "leadership-monthly.md").read_text()
    assert "No data yet" in (out.folder / "leadership-monthly.html").read_text()


# ------------------------------------------------------------------------------------ exposition
@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (apt prometheus) not installed")
def test_metrics_prom_in_the_site_passes_promtool_and_holds_the_warehouse_numbers(
    warehouse, tmp_path
):
    site = build_site(warehouse, tmp_path / "site", organisation="Acme", now=BUILD_TIME).path
    prom = (site / "metrics.prom").read_text()
    done = subprocess.run(
        ["promtool", "check", "metrics"], input=prom, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(prom)
        for s in family.samples
    }

    def value(metric: str, /, **labels: str) -> float | None:
        return samples.get((f"platform_metrics_{metric}", tuple(sorted(labels.items()))))

    now = _org_week(warehouse, LAST_WEEK)
    org = {"window": "week", "scope": "org", "name": "acme"}
    assert value("dora_deployments", **org) == float(now["deployments"])
    week_start = dt.datetime(2025, 2, 24, tzinfo=dt.UTC).timestamp()
    assert value("dora_period_start_timestamp_seconds", **org) == week_start
    assert value("dora_level", **org, key="overall") == 3.0  # high
    assert value("dora_level_state", **org, level="high") == 1.0
    assert value("dora_level_state", **org, level="elite") == 0.0
    assert (
        value("dora_change_failure_ratio", window="week", scope="service", name="checkout-api")
        is not None
    )
    assert value("dora_deployments", window="week", scope="team", name="payments") is not None
    assert "NaN" not in prom


# --------------------------------------------------------------------------------------- webhook
SECRET_URL_PATH = "/services/T000/B000/s3cr3t-token-do-not-log"


class _Hook:
    """A webhook receiver on 127.0.0.1 answering each POST with the next scripted status."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, json.loads(body)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_URL_PATH}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook(request):
    server = _Hook(getattr(request, "param", []))
    yield server
    server.close()


def test_the_summary_reaches_a_local_slack_webhook(hook, reports, caplog):
    caplog.set_level(logging.DEBUG)
    text = (reports.folder / "leadership-weekly.md").read_text()

    result = post_summary(hook.url, text, kind="slack", sleep=lambda s: None)

    assert result.delivered and result.attempts == 1
    [(path, body)] = hook.received
    assert path == SECRET_URL_PATH
    assert body == {"text": text}
    assert SECRET_URL_PATH not in caplog.text and "s3cr3t" not in caplog.text


@pytest.mark.parametrize("hook", [[503, 502]], indirect=True)
def test_a_teams_webhook_that_fails_twice_is_retried(hook, caplog):
    caplog.set_level(logging.DEBUG)
    pauses: list[float] = []

    result = post_summary(hook.url, "hello", kind="teams", title="Weekly", sleep=pauses.append)

    assert result.attempts == 3 and len(hook.received) == 3 and len(pauses) == 2
    assert hook.received[-1][1]["@type"] == "MessageCard"
    assert hook.received[-1][1]["text"] == "hello"
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize("hook", [[500] * 10], indirect=True)
def test_a_failing_webhook_gives_up_bounded_and_the_error_never_names_the_url(hook, caplog):
    caplog.set_level(logging.DEBUG)

    with pytest.raises(NotifyError) as failure:
        post_summary(hook.url, "hello", max_retries=2, sleep=lambda s: None)

    assert len(hook.received) == 3
    assert "gave up after 3 attempt(s)" in str(failure.value)
    assert "s3cr3t" not in str(failure.value) and "s3cr3t" not in caplog.text


@pytest.mark.parametrize("hook", [[404]], indirect=True)
def test_a_wrong_webhook_url_is_not_retried(hook):
    with pytest.raises(NotifyError, match="HTTP 404"):
        post_summary(hook.url, "hello", sleep=lambda s: None)
    assert len(hook.received) == 1


def test_an_unreachable_webhook_error_names_no_url(caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(NotifyError) as failure:
        post_summary(f"http://127.0.0.1:9{SECRET_URL_PATH}", "x", max_retries=1, sleep=lambda s: None)  # fmt: skip
    assert "ConnectError" in str(failure.value)
    assert "s3cr3t" not in str(failure.value) and "s3cr3t" not in caplog.text
