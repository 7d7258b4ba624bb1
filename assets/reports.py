"""Leadership report assets (thin): the report files for the site, and the optional webhook post.
The logic is in dashboards/leadership.py and dashboards/notify.py.
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.dbt import mart_keys
from assets.project import WAREHOUSE_POOL
from dashboards.gate import CheckStatus
from dashboards.gate_notice import publish_gate_notice
from dashboards.leadership import report_files, write_leadership_reports
from dashboards.notify import NotifyError, post_summary
from pipelines.config import Config

LEADERSHIP_KEY = dg.AssetKey(["publish", "leadership_report"])
SITE_KEY = dg.AssetKey(["publish", "site"])
# Set by the weekly_report / monthly_report schedules: which summary the webhook receives.
REPORT_TAG = "platform_metrics/report"


def leadership_dir(config: Config) -> Path:
    """Where the reports are staged before the site build copies them into the new site version."""
    site_dir = Path(config.publish.site_dir)
    return site_dir.parent / f"{site_dir.name}-leadership"


def pr_url_template(config: Config) -> str:
    """Pull-request links on the site: the first GitHub source's web host (github.com, or the
    Enterprise host in front of ``/api/v3``)."""
    host = "https://github.com"
    if config.sources.github:
        base = config.sources.github[0].base_url.rstrip("/")
        if base != "https://api.github.com":
            host = base.removesuffix("/api/v3")
    return host + "/{repository}/pull/{number}"


def build_report_assets(config: Config, warehouse_path: Path) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=LEADERSHIP_KEY,
        deps=mart_keys(),
        group_name="publish",
        pool=WAREHOUSE_POOL,
        description="Leadership report, weekly and monthly: HTML, PDF and a Markdown summary.",
    )
    def leadership_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        written = write_leadership_reports(
            warehouse_path,
            leadership_dir(config),
            organisation=config.organisation.name,
            link=config.publish.site_url,
            browser=config.publish.chromium_path,
        )
        for cadence, report in written.reports.items():
            context.log.info(f"{cadence} leadership report: {report.period_label}")
        if written.skipped:
            context.log.warning(written.skipped)
        return dg.MaterializeResult(
            metadata={
                "files": [p.name for p in written.files],
                "skipped": written.skipped or "nothing",
            }
        )

    @dg.asset(
        key=["publish", "leadership_notification"],
        deps=[SITE_KEY],
        group_name="publish",
        pool=WAREHOUSE_POOL,  # opens no warehouse, but every executable step shares the pool
        description="Posts the report summary to the configured webhook on report schedule runs.",
    )
    def leadership_notification(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        cadence = context.run.tags.get(REPORT_TAG)
        hook = config.publish.webhook
        if hook is None or cadence not in ("weekly", "monthly"):
            why = "no publish.webhook configured" if hook is None else "not a report run"
            context.log.info(f"leadership summary not posted: {why}")
            return dg.MaterializeResult(metadata={"posted": False, "reason": why})
        summary = Path(config.publish.site_dir) / report_files(cadence)[2]
        try:
            result = post_summary(
                hook.url.get_secret_value(),
                summary.read_text(encoding="utf-8"),
                kind=hook.kind,
                title=f"{config.organisation.name} {cadence} engineering report",
                max_retries=hook.max_retries,
            )
        except NotifyError as exc:
            if hook.required:
                raise
            context.log.warning(f"leadership summary not delivered (publish continues): {exc}")
            return dg.MaterializeResult(metadata={"posted": False, "reason": str(exc)})
        return dg.MaterializeResult(metadata={"posted": True, "attempts": result.attempts})

    return [leadership_report, leadership_notification]


# ------------------------------------------------------------------------------- quality gate
def asset_graph(context: dg.AssetExecutionContext):
    """The repository's asset graph; a run executed in process has only its job's."""
    try:
        return context.repository_def.asset_graph
    except Exception:  # "No repository definition was set on the step context"
        return context.job_def.asset_layer.asset_graph


def latest_checks(instance: dg.DagsterInstance, graph) -> list[CheckStatus]:
    """The latest outcome of every asset check in ``graph``, as plain data for dashboards/."""
    keys = sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name))
    if not keys:
        return []
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    out = []
    for key in keys:
        record = records.get(key)
        evaluation = None
        if record is not None and record.event is not None and record.event.dagster_event:
            data = record.event.dagster_event.event_specific_data
            evaluation = data if hasattr(data, "passed") else None
        blocking = bool(getattr(evaluation, "blocking", None))
        if evaluation is None:
            try:
                blocking = bool(graph.get_check_spec(key).blocking)
            except Exception:  # a check without a spec in this graph
                blocking = False
        out.append(
            CheckStatus(
                asset=key.asset_key.to_user_string(),
                check=key.name,
                passed=None if evaluation is None else bool(evaluation.passed),
                description=(getattr(evaluation, "description", None) or "")[:300],
                checked_at=None
                if record is None
                else dt.datetime.fromtimestamp(record.create_timestamp, dt.UTC),
                blocking=blocking,
            )
        )
    return out


def quality_gate_sensor(config: Config, warehouse_path: Path, jobs: list) -> dg.SensorDefinition:
    """After a failed refresh/publish run whose blocking checks failed: keep the previous site and
    replace its data-quality page with one that names the failed checks."""

    @dg.run_failure_sensor(
        name="quality_gate_notice",
        monitored_jobs=jobs,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A failed quality gate keeps the previous site and says why on data-quality.",
    )
    def quality_gate_notice(context: dg.RunFailureSensorContext):
        graph = context.repository_def.asset_graph
        checks = latest_checks(context.instance, graph)
        failed = [c for c in checks if c.passed is False and c.blocking]
        if not failed:
            return dg.SkipReason("the run failed, but not on a blocking check")
        version = publish_gate_notice(
            warehouse_path,
            Path(config.publish.site_dir),
            organisation=config.organisation.name,
            checks=checks,
            keep_copies=config.publish.keep_copies,
            min_sample=config.metrics.min_sample,
        )
        context.log.info(
            f"quality gate failed ({len(failed)} checks): "
            + (f"notice published as {version.name}" if version else "no previous site to keep")
        )

    return quality_gate_notice
