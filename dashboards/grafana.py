"""Grafana dashboards as code, over the exporter's metric families (dashboards/prometheus_metrics.py).

Built with Grafana's own builder library (grafana-foundation-sdk, Grafana 11.6 schema), never
hand-edited JSON. Publishing writes the bundle into the site folder under ``grafana/``:

    grafana/dashboards/<uid>.json                     five dashboards
    grafana/provisioning/datasources/platform-metrics.yaml   a Prometheus datasource
    grafana/provisioning/dashboards/platform-metrics.yaml    a file provider for the folder above

ready to mount into Grafana (docs/grafana.md). Every panel's query is evaluated against a real
Prometheus scraping the real exporter in tests/test_end_to_end.py; units, thresholds and links are
checked from the JSON in tests/test_grafana.py.

DORA thresholds are the benchmark bands of ``dbt/seeds/dora_benchmarks.csv`` for the configured
benchmark, the same table the marts' levels come from.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus as gp
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import table as gtable
from grafana_foundation_sdk.builders import timeseries as gts
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as gm

from dashboards.prometheus_metrics import PREFIX

GRAFANA_DIR = "grafana"
DATASOURCE_UID = "platform-metrics-prometheus"
DASHBOARD_TAG = "platform-metrics"
BENCHMARKS_CSV = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "dora_benchmarks.csv"

UID_OVERVIEW = "pm-single-pane"
UID_DORA = "pm-dora"
UID_VALUE = "pm-platform-value"
UID_DEVEX = "pm-devex"
UID_SLO = "pm-slos"

# Colours of the DORA levels, best first (Grafana's named palette).
LEVEL_COLOURS = {"elite": "green", "high": "blue", "medium": "yellow", "low": "red"}
LEVEL_MAPPING = gm.ValueMap(
    options={
        "4": gm.ValueMappingResult(text="elite", color="green", index=0),
        "3": gm.ValueMappingResult(text="high", color="blue", index=1),
        "2": gm.ValueMappingResult(text="medium", color="yellow", index=2),
        "1": gm.ValueMappingResult(text="low", color="red", index=3),
        "0": gm.ValueMappingResult(text="insufficient data", color="text", index=4),
    }
)
DS = gm.DataSourceRef(type_val="prometheus", uid="${datasource}")


def metric(name: str) -> str:
    return f"{PREFIX}_{name}"


# --------------------------------------------------------------------------------- benchmark bands
@dataclass(frozen=True)
class Band:
    """One DORA metric's benchmark: ``(threshold, level)`` best first, and which way is better."""

    measure: str
    higher_is_better: bool
    steps: tuple[tuple[float, str], ...]


def benchmark_bands(benchmark: str, path: Path = BENCHMARKS_CSV) -> dict[str, Band]:
    """The bands of ``benchmark`` by DORA metric (deployment_frequency, lead_time, ...)."""
    rows: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["benchmark"] == benchmark and row["operator"] != "any":
                rows.setdefault(row["metric"], []).append(row)
    if not rows:
        raise ValueError(f"{path}: no benchmark named {benchmark!r}")
    bands = {}
    for name, items in rows.items():
        items.sort(key=lambda r: int(r["level_rank"]))
        steps = tuple((float(r["threshold"]), r["level"]) for r in items)
        bands[name] = Band(items[0]["measure"], items[0]["operator"].startswith(">"), steps)
    return bands


def band_thresholds(band: Band, scale: float = 1.0) -> gd.ThresholdsConfig:
    """Grafana thresholds that colour a value by its benchmark level (``scale``: to base units)."""
    if band.higher_is_better:
        # Base colour is the worst level; each step up is met at its threshold.
        steps = [gm.Threshold(value=None, color=LEVEL_COLOURS["low"])]
        for value, level in reversed(band.steps):
            steps.append(gm.Threshold(value=value * scale, color=LEVEL_COLOURS[level]))
    else:
        # Lower is better: the best level holds below its threshold, then worse levels above.
        ordered = list(band.steps)
        steps = [gm.Threshold(value=None, color=LEVEL_COLOURS[ordered[0][1]])]
        for (value, _), (_, worse) in zip(ordered, [*ordered[1:], (None, "low")], strict=True):
            steps.append(gm.Threshold(value=value * scale, color=LEVEL_COLOURS[worse]))
        steps = _monotonic(steps)
    return gd.ThresholdsConfig().mode(gm.ThresholdsMode.ABSOLUTE).steps(steps)


def _monotonic(steps: list[gm.Threshold]) -> list[gm.Threshold]:
    """Drop steps whose value does not rise (benchmarks with two levels on one threshold)."""
    out = [steps[0]]
    for step in steps[1:]:
        if out[-1].value is None or step.value > out[-1].value:
            out.append(step)
        else:
            out[-1] = gm.Threshold(value=out[-1].value, color=step.color)
    return out


def _plain_thresholds(*pairs: tuple[float | None, str]) -> gd.ThresholdsConfig:
    return (
        gd.ThresholdsConfig()
        .mode(gm.ThresholdsMode.ABSOLUTE)
        .steps([gm.Threshold(value=v, color=c) for v, c in pairs])
    )


# ------------------------------------------------------------------------------------ panel makers
def _query(expr: str, legend: str = "", *, instant: bool = False, table: bool = False):
    q = gp.Dataquery().expr(expr).datasource(DS).ref_id("A")
    if legend:
        q = q.legend_format(legend)
    if instant or table:
        q = q.instant()
    if table:
        q = q.format("table")
    return q


def _site_link(title: str, page: str) -> gd.DashboardLink:
    return (
        gd.DashboardLink(title)
        .type(gm.DashboardLinkType.LINK)
        .url(f"${{site_url}}{page}")
        .target_blank(True)
        .tooltip(f"The rows behind this panel on the published site ({page})")
    )


def _stat(
    title: str,
    expr: str,
    *,
    unit: str,
    description: str,
    thresholds: gd.ThresholdsConfig | None = None,
    legend: str = "",
    page: str | None = None,
    width: int = 6,
    mappings: Sequence[gm.ValueMap] = (),
):
    panel = (
        gstat.Panel()
        .title(title)
        .description(description)
        .datasource(DS)
        .with_target(_query(expr, legend, instant=True))
        .unit(unit)
        .height(5)
        .span(width)
        .thresholds(thresholds or _plain_thresholds((None, "text")))
        .color_scheme(gd.FieldColor().mode(gm.FieldColorModeId.THRESHOLDS))
    )
    if mappings:
        panel = panel.mappings(list(mappings))
    if page:
        panel = panel.links([_site_link("Open on the site", page)])
    return panel


def _series(
    title: str,
    expr: str,
    *,
    unit: str,
    description: str,
    legend: str,
    page: str | None = None,
    thresholds: gd.ThresholdsConfig | None = None,
    width: int = 12,
):
    panel = (
        gts.Panel()
        .title(title)
        .description(description)
        .datasource(DS)
        .with_target(_query(expr, legend))
        .unit(unit)
        .height(8)
        .span(width)
    )
    if thresholds is not None:
        panel = panel.thresholds(thresholds)
    if page:
        panel = panel.links([_site_link("Open on the site", page)])
    return panel


def _table(title: str, expr: str, *, unit: str, description: str, page: str | None = None):
    panel = (
        gtable.Panel()
        .title(title)
        .description(description)
        .datasource(DS)
        .with_target(_query(expr, table=True))
        .unit(unit)
        .height(8)
        .span(24)
    )
    if page:
        panel = panel.links([_site_link("Open on the site", page)])
    return panel


# --------------------------------------------------------------------------------------- variables
def _datasource_variable() -> gd.DatasourceVariable:
    # Defaults to the provisioned datasource; a platform team can pick its own Prometheus.
    return (
        gd.DatasourceVariable("datasource")
        .label("Prometheus")
        .type("prometheus")
        .current(gm.VariableOption(selected=True, text="platform-metrics", value=DATASOURCE_UID))
    )


def _site_variable(site_url: str) -> gd.TextBoxVariable:
    return (
        gd.TextBoxVariable("site_url")
        .label("Site URL")
        .description("Where the published site is served; panel links open its pages.")
        .default_value(site_url)
    )


def _label_variable(name: str, label: str, expr: str, label_name: str) -> gd.QueryVariable:
    return (
        gd.QueryVariable(name)
        .label(label)
        .datasource(DS)
        .query({"query": f"label_values({expr}, {label_name})", "refId": "variable"})
        .refresh(gm.VariableRefresh.ON_DASHBOARD_LOAD)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .sort(gm.VariableSort.ALPHABETICAL_ASC)
    )


def _window_variable() -> gd.CustomVariable:
    return (
        gd.CustomVariable("window")
        .label("Period")
        .values("week,month")
        .current(gm.VariableOption(selected=True, text="week", value="week"))
    )


def _dashboard(uid: str, title: str, description: str, site_url: str) -> gd.Dashboard:
    links = [
        gd.DashboardLink("Platform metrics")
        .type(gm.DashboardLinkType.DASHBOARDS)
        .tags([DASHBOARD_TAG])
        .as_dropdown(True)
        .include_vars(False)
        .keep_time(True),
        gd.DashboardLink("Published site")
        .type(gm.DashboardLinkType.LINK)
        .url("${site_url}index.html")
        .target_blank(True),
    ]
    return (
        gd.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([DASHBOARD_TAG])
        .editable()
        .time("now-90d", "now")
        .refresh("15m")
        .timezone("browser")
        .links(links)
        .with_variable(_datasource_variable())
        .with_variable(_site_variable(site_url))
    )


# ------------------------------------------------------------------- headlines shown on two boards
# The single pane shows the same panels as the family dashboards, so one number has one definition.
def _deployments_per_week(bands: dict[str, Band], *, page: str | None, width: int):
    band = bands["deployment_frequency"]
    return _stat(
        "Deployments per week",
        metric('dora_deployments{scope="org",window="week"}'),
        unit="short",
        description="Successful production deployments in the latest complete week.",
        thresholds=band_thresholds(band) if band.measure == "deployments_per_week" else None,
        page=page,
        width=width,
    )


def _slos_meeting_objective(*, page: str | None, width: int):
    return _stat(
        "SLOs meeting their objective",
        f"sum({metric('slo_met')}) / count({metric('slo_met')})",
        unit="percentunit",
        description="Share of SLOs meeting their objective in the current window so far.",
        thresholds=_plain_thresholds((None, "red"), (1, "green")),
        page=page,
        width=width,
    )


def _devex_index(*, page: str | None, width: int):
    return _stat(
        "DevEx index",
        metric('devex_index{group_kind="org"}'),
        unit="none",
        description="DevEx index of the latest survey wave (0-100).",
        thresholds=_plain_thresholds((None, "red"), (50, "yellow"), (70, "green")),
        page=page,
        width=width,
    )


def _golden_path_share(*, page: str | None, width: int):
    return _stat(
        "Golden-path share",
        metric("platform_golden_path_share_ratio"),
        unit="percentunit",
        description="Deployments through the golden path / all deployments, latest complete month.",
        page=page,
        width=width,
    )


# -------------------------------------------------------------------------------------- dashboards
def dora_dashboard(bands: dict[str, Band], site_url: str) -> gd.Dashboard:
    org = 'scope="org",window="$window"'
    team = 'scope="team",name=~"$team",window="$window"'
    service = 'scope="service",name=~"$service",window="$window"'
    return (
        _dashboard(
            UID_DORA,
            "DORA: software delivery performance",
            "DORA's keys per organisation, team and service for the latest complete week or month. "
            "Colours are the benchmark bands the levels come from.",
            site_url,
        )
        .with_variable(_window_variable())
        .with_variable(
            _label_variable("team", "Team", metric('dora_deployments{scope="team"}'), "name")
        )
        .with_variable(
            _label_variable(
                "service", "Service", metric('dora_deployments{scope="service"}'), "name"
            )
        )
        .with_row(gd.Row("Organisation: latest complete $window"))
        .with_panel(_deployments_per_week(bands, page="dora.html", width=4))
        .with_panel(
            _stat(
                "Change lead time p50",
                metric(f"dora_lead_time_p50_seconds{{{org}}}"),
                unit="s",
                description="Median time from first commit to production deployment.",
                thresholds=band_thresholds(bands["lead_time"], 3600),
                page="lead-time.html",
                width=5,
            )
        )
        .with_panel(
            _stat(
                "Change failure rate",
                metric(f"dora_change_failure_ratio{{{org}}}"),
                unit="percentunit",
                description="Deployments that caused a failure / deployments.",
                thresholds=band_thresholds(bands["change_failure_rate"]),
                page="deployments.html",
                width=5,
            )
        )
        .with_panel(
            _stat(
                "Failed deployment recovery time p50",
                metric(f"dora_recovery_time_p50_seconds{{{org}}}"),
                unit="s",
                description="Median time from a failed deployment's incident to recovery.",
                thresholds=band_thresholds(bands["recovery_time"], 3600),
                page="dora.html",
                width=5,
            )
        )
        .with_panel(
            _stat(
                "Overall level",
                metric(f'dora_level{{{org},key="overall"}}'),
                unit="none",
                description="The organisation's DORA benchmark level.",
                mappings=[LEVEL_MAPPING],
                page="dora.html",
                width=5,
            )
        )
        .with_row(gd.Row("Teams"))
        .with_panel(
            _series(
                "Deployments per team",
                metric(f"dora_deployments{{{team}}}"),
                unit="short",
                description="Deployments in the latest complete period, as each publish saw it.",
                legend="{{name}}",
                page="dora.html",
            )
        )
        .with_panel(
            _series(
                "Lead time p50 per team",
                metric(f"dora_lead_time_p50_seconds{{{team}}}"),
                unit="s",
                description="Median change lead time per team.",
                legend="{{name}}",
                page="lead-time.html",
                thresholds=band_thresholds(bands["lead_time"], 3600),
            )
        )
        .with_row(gd.Row("Services"))
        .with_panel(
            _table(
                "Service levels",
                metric(f"dora_level{{{service}}}"),
                unit="none",
                description="Each service's level per DORA key (4 elite ... 1 low, 0 too few).",
                page="dora.html",
            ).mappings([LEVEL_MAPPING])
        )
        .with_panel(
            _series(
                "Change failure rate per service",
                metric(f"dora_change_failure_ratio{{{service}}}"),
                unit="percentunit",
                description="Failed deployments / deployments per service.",
                legend="{{name}}",
                page="deployments.html",
                width=24,
            )
        )
    )


def value_dashboard(site_url: str) -> gd.Dashboard:
    return (
        _dashboard(
            UID_VALUE,
            "Platform value and adoption",
            "Adoption of the platform's capabilities and the value model, latest complete month.",
            site_url,
        )
        .with_row(gd.Row("Latest complete month"))
        .with_panel(_golden_path_share(page="platform-value.html", width=6))
        .with_panel(
            _stat(
                "Self-service ratio",
                metric("platform_self_service_ratio"),
                unit="percentunit",
                description="Self-service requests automated end to end.",
                page="platform-value.html",
            )
        )
        .with_panel(
            _stat(
                "Time to first deployment p50",
                metric("platform_time_to_first_deployment_p50_seconds"),
                unit="s",
                description="A new service's time from creation to its first production deployment.",
                thresholds=_plain_thresholds((None, "green"), (15 * 60, "red")),
                page="platform-value.html",
            )
        )
        .with_panel(
            _stat(
                "Value / cost",
                metric("platform_value_to_cost_ratio"),
                unit="none",
                description="Value of the time saved / the platform's cost (assumptions on the site).",
                thresholds=_plain_thresholds((None, "red"), (1, "green")),
                page="platform-value.html",
            )
        )
        .with_row(gd.Row("Adoption"))
        .with_panel(
            _series(
                "Adoption per capability",
                metric("platform_capability_adoption_ratio"),
                unit="percentunit",
                description="Eligible services using each capability.",
                legend="{{capability}}",
                page="platform-value.html",
                width=16,
            )
        )
        .with_panel(
            _stat(
                "Time saved",
                metric("platform_time_saved_seconds"),
                unit="s",
                description="Time the platform saved in the month.",
                page="platform-value.html",
                width=8,
            )
        )
    )


def devex_dashboard(site_url: str) -> gd.Dashboard:
    group = 'group_kind=~"$group_kind"'
    return (
        _dashboard(
            UID_DEVEX,
            "Developer experience",
            "The latest survey wave, published groups only (groups under the anonymity threshold "
            "never leave the warehouse).",
            site_url,
        )
        .with_variable(
            _label_variable("group_kind", "Group kind", metric("devex_index"), "group_kind")
        )
        .with_row(gd.Row("Organisation"))
        .with_panel(_devex_index(page="devex.html", width=6))
        .with_panel(
            _stat(
                "Satisfaction",
                metric('devex_satisfaction_mean{group_kind="org"}'),
                unit="none",
                description="Mean satisfaction, 1-5.",
                thresholds=_plain_thresholds((None, "red"), (3, "yellow"), (4, "green")),
                page="devex.html",
            )
        )
        .with_panel(
            _stat(
                "Platform NPS",
                metric('devex_platform_nps{group_kind="org"}'),
                unit="none",
                description="Platform net promoter score, -100 to 100.",
                thresholds=_plain_thresholds((None, "red"), (0, "yellow"), (30, "green")),
                page="devex.html",
            )
        )
        .with_panel(
            _stat(
                "Response rate",
                metric('devex_response_ratio{group_kind="org"}'),
                unit="percentunit",
                description="Respondents / invited.",
                page="devex.html",
            )
        )
        .with_row(gd.Row("Groups"))
        .with_panel(
            _table(
                "DevEx index per group",
                metric(f"devex_index{{{group}}}"),
                unit="none",
                description="Published groups of the latest wave.",
                page="devex.html",
            )
        )
        .with_panel(
            _series(
                "Favourable share per construct (organisation)",
                metric('devex_favourable_ratio{group_kind="org"}'),
                unit="percentunit",
                description="Share of favourable answers per construct.",
                legend="{{construct}}",
                page="devex.html",
                width=24,
            )
        )
    )


def slo_dashboard(site_url: str) -> gd.Dashboard:
    slo = 'slo=~"$slo"'
    return (
        _dashboard(
            UID_SLO,
            "SLOs and error budgets",
            "Each SLO's current window so far: attainment, error budget left, burn rate.",
            site_url,
        )
        .with_variable(_label_variable("slo", "SLO", metric("slo_attainment_ratio"), "slo"))
        .with_panel(_slos_meeting_objective(page="slos.html", width=8))
        .with_panel(
            _stat(
                "Error budget left",
                metric(f"slo_error_budget_remaining_ratio{{{slo}}}"),
                unit="percentunit",
                description="Share of each SLO's error budget left (negative: overspent).",
                legend="{{slo}}",
                thresholds=_plain_thresholds((None, "red"), (0, "yellow"), (0.25, "green")),
                page="slos.html",
                width=16,
            )
        )
        .with_panel(
            _series(
                "Attainment against objective",
                metric(f"slo_attainment_ratio{{{slo}}}"),
                unit="percentunit",
                description="Good / total units in the current window.",
                legend="{{slo}}",
                page="slos.html",
            )
        )
        .with_panel(
            _series(
                "Burn rate",
                metric(f"slo_burn_rate{{{slo}}}"),
                unit="none",
                description="Error ratio of the last 24 hours / (1 - objective); 1 spends the budget "
                "exactly over the window.",
                legend="{{slo}}",
                thresholds=_plain_thresholds((None, "green"), (1, "yellow"), (6, "red")),
                page="slos.html",
            )
        )
    )


def single_pane_dashboard(bands: dict[str, Band], site_url: str) -> gd.Dashboard:
    def more(title: str, uid: str) -> gd.DashboardLink:
        return gd.DashboardLink(title).type(gm.DashboardLinkType.LINK).url(f"/d/{uid}")

    org = 'scope="org",window="week"'
    return (
        _dashboard(
            UID_OVERVIEW,
            "Platform: single pane of glass",
            "The headline of each family on one screen; each panel links to its dashboard.",
            site_url,
        )
        .with_row(gd.Row("Delivery (DORA, latest complete week)"))
        .with_panel(
            _deployments_per_week(bands, page=None, width=6).links(
                [more("DORA dashboard", UID_DORA)]
            )
        )
        .with_panel(
            _stat(
                "Lead time p50",
                metric(f"dora_lead_time_p50_seconds{{{org}}}"),
                unit="s",
                description="Median change lead time.",
                thresholds=band_thresholds(bands["lead_time"], 3600),
                width=6,
            ).links([more("DORA dashboard", UID_DORA)])
        )
        .with_panel(
            _stat(
                "Overall DORA level",
                metric(f'dora_level{{{org},key="overall"}}'),
                unit="none",
                description="The organisation's DORA benchmark level.",
                mappings=[LEVEL_MAPPING],
                width=6,
            ).links([more("DORA dashboard", UID_DORA)])
        )
        .with_panel(
            _stat(
                "Data freshness",
                f"time() - max({metric('source_last_sync_timestamp_seconds')})",
                unit="s",
                description="Seconds since the newest sync of any source.",
                thresholds=_plain_thresholds((None, "green"), (2 * 86400, "red")),
                width=6,
            )
        )
        .with_row(gd.Row("Reliability, experience, value"))
        .with_panel(
            _slos_meeting_objective(page=None, width=6).links([more("SLO dashboard", UID_SLO)])
        )
        .with_panel(
            _devex_index(page=None, width=6).links(
                [more("Developer experience dashboard", UID_DEVEX)]
            )
        )
        .with_panel(
            _golden_path_share(page=None, width=6).links(
                [more("Platform value dashboard", UID_VALUE)]
            )
        )
        .with_panel(
            _stat(
                "Scorecard measures met",
                f'sum({metric("scorecard_status")}{{status="met"}}) / '
                f'count({metric("scorecard_status")}{{status="met"}})',
                unit="percentunit",
                description="Share of the success scorecard's measures that are met.",
                width=6,
            ).links([more("Platform value dashboard", UID_VALUE)])
        )
    )


def build_dashboards(*, benchmark: str = "dora_2024", site_url: str = "") -> dict[str, dict]:
    """Every dashboard as Grafana JSON (a dict), by uid."""
    if site_url and not site_url.endswith("/"):
        site_url += "/"  # links are ${site_url}<page>
    bands = benchmark_bands(benchmark)
    built = [
        single_pane_dashboard(bands, site_url),
        dora_dashboard(bands, site_url),
        value_dashboard(site_url),
        devex_dashboard(site_url),
        slo_dashboard(site_url),
    ]
    out = {}
    for builder in built:
        model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
        out[model["uid"]] = model
    return out


DATASOURCE_YAML = """\
# Written by platform-metrics. Point url at the Prometheus that scrapes the exporter.
apiVersion: 1
datasources:
  - name: platform-metrics
    uid: {uid}
    type: prometheus
    access: proxy
    url: {url}
    isDefault: false
    editable: true
"""
PROVIDER_YAML = """\
# Written by platform-metrics: load the dashboards of this bundle into the "Platform metrics" folder.
apiVersion: 1
providers:
  - name: platform-metrics
    folder: Platform metrics
    type: file
    disableDeletion: false
    allowUiUpdates: false
    updateIntervalSeconds: 60
    options:
      path: {path}
"""


def write_grafana_bundle(
    folder: Path,
    *,
    benchmark: str = "dora_2024",
    site_url: str = "",
    prometheus_url: str = "http://prometheus:9090",
    dashboards_path: str = "/var/lib/grafana/dashboards/platform-metrics",
) -> list[Path]:
    """Write the dashboards and provisioning files under ``folder`` (``<site>/grafana``)."""
    written = []
    boards = folder / "dashboards"
    boards.mkdir(parents=True, exist_ok=True)
    for uid, model in build_dashboards(benchmark=benchmark, site_url=site_url).items():
        path = boards / f"{uid}.json"
        path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    datasources = folder / "provisioning" / "datasources"
    providers = folder / "provisioning" / "dashboards"
    datasources.mkdir(parents=True, exist_ok=True)
    providers.mkdir(parents=True, exist_ok=True)
    (datasources / "platform-metrics.yaml").write_text(
        DATASOURCE_YAML.format(uid=DATASOURCE_UID, url=prometheus_url), encoding="utf-8"
    )
    (providers / "platform-metrics.yaml").write_text(
        PROVIDER_YAML.format(path=dashboards_path), encoding="utf-8"
    )
    written += [datasources / "platform-metrics.yaml", providers / "platform-metrics.yaml"]
    return written


def panel_queries(model: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target of every panel, rows included."""
    out = []
    for panel in model.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []) or []:
                if target.get("expr"):
                    out.append((inner.get("title", ""), target["expr"]))
    return out
