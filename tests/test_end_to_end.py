"""The whole pipeline on a small demo organisation: ingest -> dbt -> site and snapshot, for real.

One run (real DuckDB file, real dbt build, real Dagster execution), shared with
tests/test_notebooks.py (tests/small_demo.py), then assertions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.project import DBT_TARGET_DIR
from dashboards.browser import find_browser
from pipelines.config import Config
from pipelines.dbt_runs import RUNS_KEPT, parse_cache
from pipelines.demo.mixed import on_gitlab
from tests.prometheus_server import (
    NOT_INSTALLED,
    PROMETHEUS,
    instant_query,
    running_prometheus,
    wait_for_series,
)
from tests.small_demo import run

pytestmark = pytest.mark.e2e


def github_repositories(config: Config) -> list[str]:
    """The demo's repositories on GitHub (the GitLab group's projects are not)."""
    return [r for s in config.services for r in s.repositories if not on_gitlab(config, r)]


@pytest.fixture(scope="module")
def quiet_run(small_demo_run):
    """The run as `platform-metrics demo` makes it (assets/cli.py run_quietly): its console lines
    and its summary; made once for this module and tests/test_notebooks.py (tests/small_demo.py)."""
    config, quiet = small_demo_run.config, small_demo_run.quiet
    outcome = quiet.outcome
    assert outcome.success, list(outcome.github_failed)
    # Every partition of every partitioned source: GitHub repositories and GitLab projects.
    assert sorted(outcome.github_synced) == sorted(
        r for s in config.services for r in s.repositories
    )
    return config, quiet, small_demo_run.console


@pytest.fixture(scope="module")
def pipeline(quiet_run):
    config, quiet, _ = quiet_run
    return config, quiet.defs, Path(config.warehouse_path()).parent


def test_the_console_shows_phases_progress_and_a_closing_summary_in_few_lines(quiet_run):
    config, quiet, console = quiet_run
    lines = console.splitlines() + quiet.summary
    assert len(lines) <= 150, "\n".join(lines)
    # One line per phase, in order, and no library chatter (dbt's START/OK lines, Dagster's log).
    phases = [line for line in console.splitlines() if line.endswith(" ...")]
    assert [p.split()[0] for p in phases[-4:]] == ["sync", "ingest", "dbt", "publish"]
    assert not [line for line in lines if " START " in line or "dagster - " in line]
    repositories = len(github_repositories(config))
    assert f"  github: {repositories} repositories synced" in console
    summary = "\n".join(quiet.summary)
    assert f"Synced:    github {repositories} repositories (" in summary
    assert re.search(r"Checks: +\d+ dbt tests and asset checks, \d+ raw payload checks?: ", summary)
    site = Path(config.publish.site_dir).absolute()
    assert f"Published: site file://{site / 'index.html'}" in summary
    # The leadership PDF is published, or the summary says it was skipped and how to get a browser.
    if find_browser(config.publish.chromium_path) is None:
        assert (
            "Skipped:   publish/leadership_report: leadership PDF and chart images skipped"
            in summary
        )
    else:
        assert "leadership-weekly.pdf" in summary or "leadership-monthly.pdf" in summary
    assert "Skipped:   publish/leadership_notification: no publish.webhook configured" in summary
    assert quiet.summary[-1].startswith("  Full log:")
    log = Path(config.warehouse_path()).parent / "run.log"
    assert quiet.summary[-1].endswith(str(log))


def query(config: Config, sql: str):
    with duckdb.connect(str(config.warehouse_path()), read_only=True) as con:
        return con.execute(sql).fetchall()


def raw_counts(config: Config) -> dict[str, int]:
    tables = query(
        config,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1",
    )
    return {t: query(config, f"SELECT count(*) FROM raw.{t}")[0][0] for (t,) in tables}


def test_raw_tables_hold_every_source_entity(pipeline):
    config, _, _ = pipeline
    counts = raw_counts(config)
    for table in (
        "github_repositories",
        "github_pull_requests",
        "github_pull_request_reviews",
        "github_pull_request_commits",
        "github_commits",
        "github_deployments",
        "github_deployment_statuses",
        "github_workflow_runs",
        "github_workflow_jobs",
        "pagerduty_incidents",
        "survey_responses",
        "org_services",
    ):
        assert counts.get(table, 0) > 0, f"raw.{table} is empty: {counts}"
    assert counts["github_repositories"] == len(github_repositories(config))
    # The mixed organisation: GitLab, Jenkins and Argo CD served by the demo's fake API too.
    for table in (
        "gitlab_projects",
        "gitlab_merge_requests",
        "gitlab_merge_request_approvals",
        "gitlab_commits",
        "jenkins_builds",
        "argocd_applications",
        "argocd_sync_history",
    ):
        assert counts.get(table, 0) > 0, f"raw.{table} is empty: {counts}"


def test_marts_hold_weekly_dora_metrics_for_the_organisation(pipeline):
    config, _, _ = pipeline
    rows = query(
        config,
        "SELECT count(*), sum(deployments) FROM marts.metrics_dora_weekly WHERE scope = 'org'",
    )
    weeks, deployments = rows[0]
    assert weeks >= 12
    assert deployments > 0
    n_deployments = query(config, "SELECT count(*) FROM marts.fct_deployments")[0][0]
    assert n_deployments > 0


def test_org_dora_counts_each_deployment_of_every_code_host_and_deployer_once(pipeline):
    """The mixed organisation: ledger-service (GitLab, deployed by Jenkins) and recommendations
    (GitHub, its Actions runs handing the commit to Argo CD) are deployments, changes with lead
    times and failures of the organisation like every GitHub service, each deployment once."""
    config, _, _ = pipeline
    by_source = dict(
        query(
            config,
            "SELECT service || ' ' || source, count(*) FROM marts.fct_deployments "
            "WHERE service IN ('ledger-service', 'recommendations') AND status = 'success' "
            "GROUP BY ALL",
        )
    )
    # Every successful deployment of recommendations is its Argo CD sync: the runs that handed
    # the commit over are not counted again.
    assert set(by_source) == {
        "ledger-service jenkins_deployment",
        "recommendations argocd_deployment",
    }, by_source
    assert all(n >= 10 for n in by_source.values()), by_source
    [(org_deployments, successful)] = query(
        config,
        "SELECT (SELECT sum(deployments) FROM marts.metrics_dora_weekly WHERE scope = 'org'), "
        "(SELECT count(*) FROM marts.fct_deployments WHERE status = 'success' "
        "AND deployed_at >= (SELECT min(period_start) FROM marts.metrics_dora_weekly))",
    )
    assert org_deployments == successful
    # Their merged changes have lead times (the Jenkins build's commit and the synced revision
    # reach them through the commit graph), and their incidents make failures.
    changes = dict(
        query(
            config,
            "SELECT service, count(lead_time_hours) FROM marts.fct_changes "
            "WHERE service IN ('ledger-service', 'recommendations') GROUP BY ALL",
        )
    )
    assert changes.get("ledger-service", 0) > 10 and changes.get("recommendations", 0) > 10
    failures = dict(
        query(
            config,
            "SELECT service, count(*) FROM marts.fct_deployments WHERE is_failure "
            "AND service IN ('ledger-service', 'recommendations') GROUP BY ALL",
        )
    )
    assert set(failures) == {"ledger-service", "recommendations"}, failures


def test_site_is_published_offline_with_one_plotly(pipeline):
    config, _, _ = pipeline
    site = Path(config.publish.site_dir)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert config.organisation.name in index
    assert len(list(site.rglob("plotly*.js"))) == 1
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"https?://", html), page.name


def test_analyst_snapshot_is_published_beside_the_site(pipeline):
    config, _, _ = pipeline
    snapshot = Path(config.publish.snapshot_dir)
    with duckdb.connect(str(snapshot / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM marts.fct_deployments").fetchone()[0] > 0
    assert (snapshot / "parquet" / "metrics_dora_weekly.parquet").exists()


def test_no_email_address_or_raw_respondent_reaches_the_warehouse(pipeline):
    config, _, _ = pipeline
    payloads = query(config, "SELECT payload FROM raw.survey_responses")
    assert payloads
    for (payload,) in payloads:
        assert "@" not in payload
        assert re.fullmatch(r"[0-9a-f]{32}", json.loads(payload)["respondent"])


def test_the_dbt_build_writes_a_folder_of_its_own_and_leaves_its_parse_for_the_next(pipeline):
    config, _, _ = pipeline
    warehouse = Path(config.warehouse_path()).resolve()
    cache = parse_cache(DBT_TARGET_DIR, warehouse)
    assert cache.is_file(), "the build left no parse for the next build of this warehouse"
    results = sorted(
        (DBT_TARGET_DIR / "runs").glob("dbt_models-*/run_results.json"),
        key=lambda p: p.stat().st_mtime,
    )
    assert results, f"no run folder under {DBT_TARGET_DIR / 'runs'}"
    assert len(results) <= RUNS_KEPT
    newest = json.loads(results[-1].read_text(encoding="utf-8"))
    assert newest["args"]["which"] == "build"
    assert newest["elapsed_time"] > 0
    assert cache.stat().st_mtime >= results[-1].stat().st_mtime - 600


def test_the_dbt_build_deletes_the_run_folders_older_builds_left_in_dbt_target(small_demo_run):
    assert not small_demo_run.legacy_run.exists(), small_demo_run.legacy_run


def test_second_ingest_changes_no_row_count(pipeline):
    config, defs, _ = pipeline
    before = raw_counts(config)
    assert run(defs, config, "ingest").success
    assert raw_counts(config) == before


def test_unreachable_source_exits_non_zero_with_one_line_and_lands_nothing(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "org.yaml"
    config.write_text(
        f"""
organisation: {{name: Acme}}
teams: [{{name: web, engineers: 3}}]
services: [{{name: shop, team: web, repositories: [acme/shop]}}]
sources:
  github: [{{base_url: "http://127.0.0.1:{port}", repositories: [acme/shop], max_retries: 1}}]
warehouse: {{path: wh.duckdb}}
""",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "assets.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 3, result.stderr[-2000:]
    assert (
        f"error: github: GitHub gave up on http://127.0.0.1:{port}/repos/acme/shop" in result.stderr
    )
    assert "Traceback" not in result.stderr
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        landed = con.execute("SELECT count(*) FROM raw.github_repositories").fetchone()[0]
    assert landed == 0
    assert not (tmp_path / "build" / "site").exists()


def test_slo_marts_agree_with_the_budget_formulas(pipeline):
    from pipelines.slo.budget import budget_remaining, time_to_exhaustion_hours

    config, _, _ = pipeline
    rows = query(
        config,
        "SELECT slo, good, total, target, budget_remaining, burn_rate, period_hours, "
        "time_to_exhaustion_hours FROM marts.metrics_slo_period WHERE total > 0",
    )
    assert {r[0] for r in rows} >= {"frontend-availability", "deployment-success"}
    for slo, good, total, target, remaining, rate, hours, tte in rows:
        assert remaining == pytest.approx(budget_remaining(good, total, target), abs=1e-9), slo
        expected = time_to_exhaustion_hours(remaining, hours, rate)
        assert (tte is None) == (expected is None), slo
        if expected is not None:
            assert tte == pytest.approx(expected, rel=1e-9), slo


def test_slo_report_is_published_in_the_site(pipeline):
    config, _, _ = pipeline
    site = Path(config.publish.site_dir)
    report = json.loads((site / "slo-report.json").read_text(encoding="utf-8"))
    names = {s["slo"] for s in report["slos"]}
    assert {"frontend-availability", "backend-api-availability", "deployment-success"} <= names
    assert all("attainment" in s for s in report["slos"] if s["status"] != "no_data")
    assert "| SLO |" in (site / "slo-report.md").read_text(encoding="utf-8")
    assert "groups:" in (site / "slo-rules.yaml").read_text(encoding="utf-8")
    page = (site / "slos.html").read_text(encoding="utf-8")
    assert "Attainment per month" in page and "No data yet</strong>" not in page.split("Error")[0]
    assert query(config, "SELECT count(*) FROM raw.prometheus_sli_samples")[0][0] > 0


def test_leadership_report_metrics_and_check_outcomes_are_published_in_the_site(pipeline):
    config, _, _ = pipeline
    site = Path(config.publish.site_dir)
    for cadence in ("weekly", "monthly"):
        for ext in ("html", "md", "pdf"):
            assert (site / f"leadership-{cadence}.{ext}").stat().st_size > 0, (cadence, ext)
    weekly = (site / "leadership-weekly.md").read_text(encoding="utf-8")
    [(deployments,)] = query(
        config,
        "SELECT deployments FROM marts.metrics_dora_weekly WHERE scope = 'org' "
        "AND period_start + INTERVAL 7 DAY <= current_date ORDER BY period_start DESC LIMIT 1",
    )
    assert f"| Deployments | {deployments:,} |" in weekly
    assert "platform_metrics_dora_deployments{" in (site / "metrics.prom").read_text()
    quality = (site / "data-quality.html").read_text(encoding="utf-8")
    assert "payloads_are_well_formed" in quality
    assert re.search(r"Checks: \d+ failed \(0 blocking\), [1-9]\d* passed", quality)


def test_published_tables_and_pages_hide_every_survey_group_under_the_threshold(pipeline):
    """The anonymity rules hold in everything published: the analysts' snapshot (every table and
    Parquet file) and the site (every page, report and file): no score of a group under the
    threshold or hidden by complementary suppression, no free text of such a group, no respondent
    hash, no e-mail address or phone number, no identifier of a respondent of the survey files."""
    from tests.privacy_scan import (
        identities_from_exports,
        scan_database,
        scan_files,
        scan_parquet,
        secrets_from_warehouse,
    )

    config, _, _ = pipeline
    surveys = config.sources.surveys
    threshold = surveys.anonymity_threshold
    secrets = secrets_from_warehouse(config.warehouse_path(), threshold)
    secrets.identities = identities_from_exports(
        Path(surveys.inbox).glob("*/*.csv"), columns=surveys.columns
    )
    hidden = query(
        config, "SELECT count(*) FROM marts.metrics_devex_wave WHERE suppressed AND respondents > 0"
    )[0][0]
    assert hidden > 0, "the demo should hide at least one group, or this scan proves nothing"
    assert secrets.respondents and secrets.identities
    snapshot = Path(config.publish.snapshot_dir)
    site = Path(config.publish.site_dir).resolve()
    assert (site / "devex.html").exists()
    parquet = sorted(snapshot.joinpath("parquet").glob("*.parquet"))
    assert any(p.name == "metrics_devex_comments.parquet" for p in parquet)
    problems = (
        scan_database(snapshot / "warehouse.duckdb", secrets)
        + scan_parquet(parquet, secrets)
        + scan_files(site.rglob("*"), secrets)
    )
    assert problems == []


def test_platform_adoption_rises_and_golden_path_share_is_a_fraction(pipeline):
    config, _, _ = pipeline
    adoption = query(
        config,
        "SELECT adoption_rate FROM marts.metrics_platform_adoption "
        "WHERE capability = 'golden_path_deploy' ORDER BY month",
    )
    rates = [rate for (rate,) in adoption]
    assert len(rates) >= 3 and all(0 <= rate <= 1 for rate in rates)
    assert rates[0] <= 0.45 and rates[-1] >= 0.75 and rates == sorted(rates)
    rows = query(
        config,
        "SELECT golden_path_share, deployments, golden_path_deployments, assumptions "
        "FROM marts.metrics_platform_value ORDER BY month",
    )
    shares = [share for share, *_ in rows if share is not None]
    assert shares and all(0 < share <= 1 for share in shares)
    assert all(golden <= total for _, total, golden, _ in rows)
    assumptions = json.loads(rows[-1][3])
    assert (assumptions["loaded_hourly_rate"], assumptions["attribution_factor"]) == (95, 0.5)
    onboarded = query(
        config, "SELECT time_to_first_deployment_minutes FROM marts.fct_service_onboarding"
    )
    assert onboarded and all(minutes > 0 for (minutes,) in onboarded)


def test_every_registered_scorecard_measure_is_computed(pipeline):
    """A measure listed in dbt/seeds/scorecard_measures.csv (which the config accepts) has a row in
    int_scorecard_measures for the organisation, so a scorecard entry never silently reads nothing."""
    from pipelines.config import SCORECARD_MEASURES

    config, _, _ = pipeline
    computed = {
        m
        for (m,) in query(
            config, "SELECT measure FROM intermediate.int_scorecard_measures WHERE scope = 'org'"
        )
    }
    assert computed == set(SCORECARD_MEASURES)
    rows = query(
        config, "SELECT count(*), count(DISTINCT position) FROM marts.metrics_success_scorecard"
    )
    assert rows == [(len(config.scorecard), len(config.scorecard))]


@pytest.mark.skipif(PROMETHEUS is None, reason=NOT_INSTALLED)
def test_a_real_prometheus_scrapes_the_exporter_and_every_grafana_panel_has_data(
    pipeline, tmp_path
):
    """The exporter serves the demo snapshot; Prometheus scrapes it; every panel's PromQL, with
    its variables set to "all", returns at least one series."""
    import threading

    from dashboards.exporter import make_exporter_server, snapshot_file
    from dashboards.grafana import build_dashboards, panel_queries

    config, _, _ = pipeline
    server, collector = make_exporter_server(
        snapshot_file(config.publish.snapshot_dir), "127.0.0.1", 0
    )
    assert collector.loaded, collector.problem
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scrape = (
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: platform-metrics\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{server.server_port}']\n"
    )
    variables = {"$window": "week", "$team": ".*", "$service": ".*", "$slo": ".*"}
    variables["$group_kind"] = ".*"
    try:
        with running_prometheus(tmp_path / "prometheus", config=scrape) as url:
            assert wait_for_series(url, 'up{job="platform-metrics"} == 1'), "no scrape"
            assert wait_for_series(url, "platform_metrics_exporter_snapshot_age_seconds")
            # A short demo's value model has no month after its baseline: the mart says so (null
            # with a note), and then, and only then, those panels must be empty too.
            unmeasured = _value_model_nulls(config)
            empty, disagree = [], []
            for uid, model in build_dashboards(benchmark=config.metrics.benchmark).items():
                for title, expr in panel_queries(model):
                    for name, value in variables.items():
                        expr = expr.replace(name, value)
                    has_data = bool(instant_query(url, expr))
                    if expr in unmeasured:
                        if has_data:
                            disagree.append(f"{uid}: {title}: the mart has no value, the panel has")
                    elif not has_data:
                        empty.append(f"{uid}: {title}: {expr}")
            assert not empty, "panels without data:\n" + "\n".join(empty)
            assert not disagree, "\n".join(disagree)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _value_model_nulls(config: Config) -> set[str]:
    """The platform-value series whose latest complete month is null in the mart."""
    columns = {
        "platform_metrics_platform_value_to_cost_ratio": "value_to_cost_ratio",
        "platform_metrics_platform_time_saved_seconds": "hours_saved",
    }
    latest_complete = dt.date.today().replace(day=1)
    row = query(
        config,
        f"SELECT {', '.join(columns.values())} FROM marts.metrics_platform_value "
        f"WHERE month < DATE '{latest_complete}' ORDER BY month DESC LIMIT 1",
    )[0]
    return {name for name, value in zip(columns, row, strict=True) if value is None}


def _prom_samples(text: str) -> dict[tuple[str, frozenset], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _card(html: str, label: str) -> str:
    found = re.search(
        rf'<div class="card-label">{re.escape(label)}</div>\s*<div class="card-value">'
        r"(?:<a [^>]*>)?([^<]*)(?:</a>)?</div>",
        html,
    )
    assert found, label
    return found.group(1)


def test_every_headline_reads_the_same_in_every_output(pipeline):
    """One number, one model (issue 14): deployment frequency, SLO status, adoption and time to
    first deployment read the same on the site pages, in the leadership HTML / Markdown, the SLO
    report JSON and metrics.prom as in the marts they come from."""
    from dashboards.blocks import fmt_int, fmt_pct
    from dashboards.scorecard import fmt_measure
    from dashboards.value import _minutes

    config, _, _ = pipeline
    site = Path(config.publish.site_dir)
    prom = _prom_samples((site / "metrics.prom").read_text(encoding="utf-8"))

    def series(metric: str, **labels: str) -> float | None:
        return prom.get((f"platform_metrics_{metric}", frozenset(labels.items())))

    # Deployment frequency: the latest complete week of the organisation.
    [(week, deployments)] = query(
        config,
        "SELECT period_start, deployments FROM marts.metrics_dora_weekly "
        "WHERE scope = 'org' AND is_complete ORDER BY period_start DESC LIMIT 1",
    )
    overview = (site / "index.html").read_text(encoding="utf-8")
    weekly_cards = overview[overview.index("Latest complete week") :]
    assert weekly_cards.startswith(f"Latest complete week: week of {week:%Y-%m-%d}")
    assert _card(weekly_cards, "Deployments") == fmt_int(deployments)
    weekly_md = (site / "leadership-weekly.md").read_text(encoding="utf-8")
    assert f"week of {week:%Y-%m-%d}**" in weekly_md
    assert f"| Deployments | {fmt_int(deployments)} |" in weekly_md
    weekly_html = (site / "leadership-weekly.html").read_text(encoding="utf-8")
    assert f'data-metric="deployments">{fmt_int(deployments)}<' in weekly_html
    if shutil.which("pdftotext"):  # the PDF's text, where poppler is installed
        pdf = subprocess.run(
            ["pdftotext", "-layout", str(site / "leadership-weekly.pdf"), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        line = next(li for li in pdf.splitlines() if li.strip().startswith("Deployments "))
        assert line.split()[1] == fmt_int(deployments), line
    org_week = {"window": "week", "scope": "org", "name": "all"}
    assert series("dora_deployments", **org_week) == deployments
    start = dt.datetime(week.year, week.month, week.day, tzinfo=dt.UTC).timestamp()
    assert series("dora_period_start_timestamp_seconds", **org_week) == start

    # SLO status: each SLO's current window in the JSON, on the SLO page and in metrics.prom.
    report = json.loads((site / "slo-report.json").read_text(encoding="utf-8"))
    slo_page = (site / "slos.html").read_text(encoding="utf-8")
    current_view = slo_page[slo_page.index("Current window") :]
    services = dict(query(config, "SELECT slo, coalesce(service, '') FROM raw.slo_definitions"))
    for s in report["slos"]:
        if s["status"] == "no_data":
            continue
        assert _card(current_view, s["name"]) == fmt_pct(s["attainment"]), s["slo"]
        labels = {"slo": s["slo"], "service": services[s["slo"]], "window": s["period"]["kind"]}
        assert series("slo_met", **labels) == float(s["met"]), s["slo"]
        assert series("slo_attainment_ratio", **labels) == pytest.approx(s["attainment"], abs=1e-6)
    # The monthly report's SLO lines and its scorecard SLO compliance come from the same rows.
    monthly_md = (site / "leadership-monthly.md").read_text(encoding="utf-8")
    slo_line = re.search(r"SLOs: (\d+) of (\d+) meeting target", monthly_md)
    if slo_line:
        met, total = (int(x) for x in slo_line.groups())
        assert f"| SLO compliance | {100 * met / total:.1f}% (" in monthly_md
    # metrics.prom's scorecard SLO compliance is the latest complete windows the SLO page shows.
    [(done, met_done)] = query(
        config,
        "SELECT count(*), count_if(met) FROM (SELECT slo, met FROM marts.metrics_slo_period "
        "WHERE is_slo_window AND is_complete "
        "QUALIFY row_number() OVER (PARTITION BY slo ORDER BY period_end DESC) = 1)",
    )
    if done:
        compliance = series("scorecard_value", measure="slo_compliance", scope="org")
        assert compliance == pytest.approx(100 * met_done / done)

    # Adoption and time to first deployment: the latest complete month of platform value.
    value_page = (site / "platform-value.html").read_text(encoding="utf-8")
    rows = query(
        config,
        "SELECT month, adoption_rate FROM marts.metrics_platform_value WHERE is_complete "
        "ORDER BY month DESC LIMIT 1",
    )
    scorecard = {
        m: (v, p)
        for m, v, p in query(
            config,
            "SELECT metric, current_value, current_period FROM marts.metrics_success_scorecard "
            "WHERE scope = 'org'",
        )
    }
    if rows and rows[0][1] is not None:
        month, adoption = rows[0]
        assert _card(value_page, "Platform adoption") == fmt_pct(adoption)
        assert series("platform_adoption_ratio") == pytest.approx(adoption)
        if "platform_adoption" in scorecard:
            value, period = scorecard["platform_adoption"]
            assert (value, period) == (pytest.approx(100 * adoption), f"{month:%Y-%m}")
            assert f"| Platform adoption | {fmt_measure(value, '%')} ({period}" in monthly_md
    if scorecard.get("time_to_first_deployment", (None, None))[0] is not None:
        minutes, period = scorecard["time_to_first_deployment"]
        assert _card(value_page, "Time to first deployment p50") == _minutes(minutes)
        assert f"| Time to first deployment | {fmt_measure(minutes, 'min')} ({period}" in monthly_md
        ttfd = series("platform_time_to_first_deployment_p50_seconds")
        if ttfd is not None and ttfd == ttfd:  # the latest month has one (NaN: none)
            assert ttfd == pytest.approx(minutes * 60)


def test_each_weekly_headline_equals_the_rows_its_link_shows(pipeline, tmp_path):
    """In a real browser, on the site the pipeline published from a dbt-built warehouse: each of
    the overview's weekly cards opens rows that count to the card's own number and sample."""
    from dashboards.browser import find_browser
    from tests.cdp import Browser

    chromium = find_browser()
    if chromium is None:
        pytest.skip("no Chrome, Chromium or Edge (apt chromium)")
    config, _, _ = pipeline
    [(deployments, changes, failed, incidents)] = query(
        config,
        "SELECT deployments, n_changes, n_failed_deployments, n_incidents "
        "FROM marts.metrics_dora_weekly WHERE scope = 'org' AND is_complete "
        "ORDER BY period_start DESC LIMIT 1",
    )
    site = Path(config.publish.site_dir).resolve()
    browser = Browser(chromium, tmp_path / "profile")
    try:
        seen = {}
        for label, section in (
            ("Deployments", "deployments"),
            ("Lead time p50", "changes"),
            ("Change failure rate", "failed-deployments"),
            ("Recovery time p50", "incidents"),
        ):
            browser.open((site / "index.html").as_uri())
            href = browser.evaluate(
                "Array.from(document.querySelectorAll('.card')).find(c => c.querySelector("
                f"'.card-label').textContent === {json.dumps(label)})"
                ".querySelector('a.card-link').getAttribute('href')"
            )
            browser.click(f"a.card-link[href={json.dumps(href)}]")
            seen[label] = browser.evaluate(
                f"document.querySelectorAll('#{section} tbody tr:not([hidden])').length"
            )
    finally:
        browser.close()
    assert seen == {
        "Deployments": deployments,
        "Lead time p50": changes,
        "Change failure rate": failed,
        "Recovery time p50": incidents,
    }
