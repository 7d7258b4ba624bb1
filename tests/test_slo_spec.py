"""OpenSLO specs: the shipped ones load; each malformed spec gives its one-line named error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.config import load_config, parse_config
from pipelines.slo.definitions import definition_frames
from pipelines.slo.sources import config_slos
from pipelines.slo.spec import SloSpecError, load_slos

SPECS = Path(__file__).parents[1] / "pipelines" / "slo" / "specs"

DATASOURCE = """
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prom}
spec:
  type: Prometheus
  connectionDetails: {url: "http://prometheus:9090"}
"""
GOOD = 'sum(increase(http_requests_total{service="web",code!~"5.."}[1h]))'
TOTAL = 'sum(increase(http_requests_total{service="web"}[1h]))'


def slo_yaml(**overrides: str) -> str:
    fields = {
        "name": "web-availability",
        "service": "web",
        "window": "{duration: 28d, isRolling: true}",
        "method": "Occurrences",
        "objective": "{target: 0.99}",
        "indicator": f"""indicator:
    apiVersion: openslo/v1
    kind: SLI
    metadata: {{name: web-requests}}
    spec:
      ratioMetric:
        good: {{metricSource: {{metricSourceRef: prom, spec: {{query: '{GOOD}'}}}}}}
        total: {{metricSource: {{metricSourceRef: prom, spec: {{query: '{TOTAL}'}}}}}}""",
    }
    fields.update(overrides)
    return f"""---
apiVersion: openslo/v1
kind: SLO
metadata: {{name: {fields["name"]}}}
spec:
  service: {fields["service"]}
  {fields["indicator"]}
  timeWindow: [{fields["window"]}]
  budgetingMethod: {fields["method"]}
  objectives: [{fields["objective"]}]
"""


def load(tmp_path: Path, text: str, *, with_datasource: bool = True):
    path = tmp_path / "slo.yaml"
    path.write_text((DATASOURCE if with_datasource else "") + text, encoding="utf-8")
    return load_slos([path], services=["web"])


def error_of(tmp_path: Path, text: str, **kw) -> str:
    with pytest.raises(SloSpecError) as info:
        load(tmp_path, text, **kw)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "slo.yaml") + ": ")
    return message


def test_the_shipped_specs_load_for_the_demo_organisation():
    slos = config_slos(load_config())
    by_name = {s.name: s for s in slos}
    assert {"frontend-availability", "backend-api-availability", "backend-api-latency"} <= set(
        by_name
    )
    assert "deployment-success" in by_name
    assert by_name["frontend-availability"].period_kind == "rolling_28d"
    assert by_name["backend-api-availability"].budgeting_method == "Timeslices"
    assert by_name["backend-api-latency"].indicator == "threshold"
    assert by_name["backend-api-latency"].period_kind == "quarter"
    assert by_name["deployment-success"].source_type == "Warehouse"
    assert by_name["mobile-bff-uptime"].source_type == "Incidents"
    assert by_name["mobile-bff-uptime"].budgeting_method == "RatioTimeslices"


def test_definitions_table_carries_every_slo_and_four_alert_windows_each():
    slos = load_slos([SPECS])
    frames = definition_frames(slos, default_time_zone="Europe/Berlin")
    assert len(frames["slo_definitions"]) == len(slos)
    assert len(frames["slo_alert_policies"]) == 4 * len(slos)
    row = frames["slo_definitions"].set_index("slo").loc["deployment-success"]
    assert row["mart_table"] == "fct_deployments" and row["good_filter"] == "not is_failure"


def test_a_valid_minimal_spec_resolves(tmp_path):
    (slo,) = load(tmp_path, slo_yaml())
    assert slo.good.spec["query"] == GOOD and slo.interval_seconds == 3600


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"objective": "{target: 1.5}"},
            r"SLO/web-availability: spec\.objectives\[0\]\.target: must be between 0 and 1",
        ),
        (
            {"window": "{duration: 30d, isRolling: true}"},
            r"SLO/web-availability: spec\.timeWindow\[0\]: duration: '30d' rolling is not supported",
        ),
        (
            {"window": "{duration: 1M, isRolling: true}"},
            r"spec\.timeWindow\[0\]: duration: '1M' rolling is not supported",
        ),
        ({"method": "Sometimes"}, r"SLO/web-availability: spec\.budgetingMethod: Input should be"),
        (
            {"method": "Timeslices"},
            r"SLO/web-availability: spec\.objectives\[0\]\.timeSliceWindow: Timeslices budgeting needs one",
        ),
        (
            {"method": "Timeslices", "objective": "{target: 0.99, timeSliceWindow: 1h}"},
            r"spec\.objectives\[0\]\.timeSliceTarget: Timeslices budgeting of a ratioMetric needs one",
        ),
        (
            {
                "method": "RatioTimeslices",
                "objective": "{target: 0.99, timeSliceWindow: 1h, timeSliceTarget: 0.9}",
            },
            r"spec\.objectives\[0\]\.timeSliceTarget: RatioTimeslices budgeting takes none",
        ),
        (
            {"objective": "{target: 0.99, timeSliceWindow: 1h}"},
            r"spec\.objectives\[0\]\.timeSliceWindow: time slices apply to Timeslices",
        ),
        (
            {
                "method": "Timeslices",
                "objective": "{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 7m}",
            },
            r"spec\.objectives\[0\]\.timeSliceWindow: '7m' must divide a day",
        ),
        (
            {"objective": "{target: 0.99, op: lte, value: 3}"},
            r"spec\.objectives\[0\]\.op: op/value apply to thresholdMetric SLIs only",
        ),
        (
            {"service": "nope"},
            r"SLO/web-availability: spec\.service: 'nope' is not a configured service",
        ),
        (
            {"name": "Web_Availability"},
            r"SLO/Web_Availability: metadata\.name: 'Web_Availability' must be lower-case",
        ),
        (
            {"indicator": "indicatorRef: missing-sli"},
            r"SLO/web-availability: spec\.indicatorRef: no SLI named 'missing-sli'",
        ),
        (
            {"indicator": "indicatorRef: x\n  indicatr: y"},
            r"SLO/web-availability: spec\.indicatr: unknown field",
        ),
    ],
)
def test_each_malformed_slo_names_file_object_and_field(tmp_path, overrides, expected):
    assert re.search(expected, error_of(tmp_path, slo_yaml(**overrides)))


def test_an_unknown_datasource_is_named_with_the_field_that_refers_to_it(tmp_path):
    message = error_of(tmp_path, slo_yaml(), with_datasource=False)
    assert re.search(
        r"SLO/web-availability: spec\.indicator \(SLI/web-requests\) ratioMetric\.good\.metricSource"
        r"\.metricSourceRef: no DataSource named 'prom'",
        message,
    )


def test_a_ratio_metric_needs_good_or_bad(tmp_path):
    text = slo_yaml(
        indicator=f"""indicator:
    apiVersion: openslo/v1
    kind: SLI
    metadata: {{name: web-requests}}
    spec:
      ratioMetric:
        total: {{metricSource: {{metricSourceRef: prom, spec: {{query: '{TOTAL}'}}}}}}"""
    )
    assert "spec.indicator.spec.ratioMetric: give exactly one of 'good' and 'bad'" in error_of(
        tmp_path, text
    )


def test_a_threshold_metric_needs_op_and_value(tmp_path):
    text = slo_yaml(
        method="Timeslices",
        objective="{target: 0.95, timeSliceWindow: 1h}",
        indicator=f"""indicator:
    apiVersion: openslo/v1
    kind: SLI
    metadata: {{name: p99}}
    spec:
      thresholdMetric: {{metricSource: {{metricSourceRef: prom, spec: {{query: '{TOTAL}'}}}}}}""",
    )
    assert "SLO/web-availability: spec.objectives[0].op: a thresholdMetric objective needs op" in (
        error_of(tmp_path, text)
    )


def test_a_prometheus_query_without_a_range_is_rejected(tmp_path):
    text = slo_yaml().replace("[1h]", "")
    assert "needs a range selector" in error_of(tmp_path, text)


def test_a_warehouse_source_must_name_a_known_mart(tmp_path):
    text = (
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: wh}\nspec: {type: Warehouse}\n"
        + slo_yaml(
            indicator="""indicator:
    apiVersion: openslo/v1
    kind: SLI
    metadata: {name: deploys}
    spec:
      ratioMetric:
        good: {metricSource: {metricSourceRef: wh, spec: {table: secrets, timestamp: at}}}
        total: {metricSource: {metricSourceRef: wh, spec: {table: secrets, timestamp: at}}}"""
        )
    )
    assert "ratioMetric.good.metricSource.spec: table: one of ['fct_deployments'" in error_of(
        tmp_path, text, with_datasource=False
    )


def test_wrong_api_version_and_kind_are_named(tmp_path):
    assert "SLO/web-availability: apiVersion: must be openslo/v1" in error_of(
        tmp_path,
        slo_yaml().replace("apiVersion: openslo/v1\nkind: SLO", "apiVersion: v2\nkind: SLO"),
    )
    assert "Alert/web-availability: kind: must be one of" in error_of(
        tmp_path, slo_yaml().replace("kind: SLO", "kind: Alert")
    )


def test_malformed_yaml_gives_line_and_column(tmp_path):
    assert re.search(r"line \d+, column \d+: malformed YAML", error_of(tmp_path, "a: [b\n"))


def test_two_objects_with_one_name_are_an_error(tmp_path):
    assert "SLO/web-availability: metadata.name: also defined in" in error_of(
        tmp_path, slo_yaml() + slo_yaml()
    )


def test_a_missing_spec_path_is_named(tmp_path):
    with pytest.raises(SloSpecError, match="SLO spec file or folder not found"):
        load_slos([tmp_path / "nope.yaml"])


def test_relative_slo_paths_resolve_against_the_config_file(tmp_path):
    demo = load_config()
    assert demo.slos and all(p.is_absolute() for p in demo.slos)
    config = parse_config(
        "organisation: {name: x}\nteams: [{name: t, engineers: 1}]\n"
        "services: [{name: web, team: t}]\nslos: [specs/]\n",
        base_dir=tmp_path,
    )
    assert config.slos == [tmp_path / "specs"]
