"""The Grafana bundle, checked from its JSON: every panel has a query, a unit, a description and
a link; DORA thresholds are the benchmark bands; queries name only metrics the exporter serves.

Every panel's query is also evaluated on a real Prometheus scraping the real exporter over the demo
snapshot (tests/test_end_to_end.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dashboards import prometheus_metrics as pm
from dashboards.grafana import (
    DATASOURCE_UID,
    UID_DORA,
    UID_OVERVIEW,
    benchmark_bands,
    build_dashboards,
    panel_queries,
    write_grafana_bundle,
)


@pytest.fixture(scope="module")
def boards() -> dict[str, dict]:
    return build_dashboards(benchmark="dora_2024", site_url="https://metrics.example/site")


def _panels(model: dict) -> list[dict]:
    return [p for p in model["panels"] if p["type"] != "row"]


def _exported_metric_names() -> set[str]:
    names = {f"{pm.PREFIX}_{n}" for n, *_ in pm.DORA_SERIES}
    names |= {f"{pm.PREFIX}_{n}" for n, *_ in pm.SLO_SERIES}
    names |= {f"{pm.PREFIX}_{n}" for n, *_ in pm.DEVEX_SERIES}
    names |= {f"{pm.PREFIX}_{n}" for n, *_ in pm.PLATFORM_VALUE_SERIES}
    # The families named directly in the add(...) calls (the real check is a live Prometheus).
    source = Path(pm.__file__).read_text(encoding="utf-8")
    names |= {f"{pm.PREFIX}_{n}" for n in re.findall(r'"([a-z_]+)",\n\s+"', source)}
    return names


def test_there_are_five_dashboards_linked_to_each_other(boards):
    assert set(boards) == {"pm-single-pane", "pm-dora", "pm-platform-value", "pm-devex", "pm-slos"}
    overview_links = {
        link["url"] for p in _panels(boards[UID_OVERVIEW]) for link in p.get("links", [])
    }
    # The single pane links to every other dashboard.
    assert {f"/d/{uid}" for uid in boards if uid != UID_OVERVIEW} <= overview_links


def test_every_panel_has_a_query_a_unit_and_a_description(boards):
    for uid, model in boards.items():
        for panel in _panels(model):
            where = f"{uid}: {panel['title']}"
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"]), (
                where
            )
            assert panel["fieldConfig"]["defaults"].get("unit"), where
            assert panel.get("description"), where
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where


def test_queries_name_only_metrics_the_exporter_serves(boards):
    served = _exported_metric_names()
    for uid, model in boards.items():
        for title, expr in panel_queries(model):
            for name in re.findall(r"platform_metrics_[a-z0-9_]+", expr):
                assert name in served, f"{uid}: {title}: {name} is not exported"


def test_dora_thresholds_are_the_configured_benchmark_bands(boards):
    bands = benchmark_bands("dora_2024")
    panels = {p["title"]: p for p in _panels(boards[UID_DORA])}
    lead = panels["Change lead time p50"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    # dora_2024: elite < 24 h, high < 1 week, medium < 30 days (in seconds, the panel's unit).
    assert [s["value"] for s in lead] == [None, 24 * 3600, 168 * 3600, 720 * 3600]
    assert [s["color"] for s in lead] == ["green", "blue", "yellow", "red"]
    deploys = panels["Deployments per week"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert deploys[-1] == {"value": 7.0, "color": "green"}  # elite: 7 or more a week
    assert bands["lead_time"].steps[0] == (24.0, "elite")
    other = build_dashboards(benchmark="dora_2021")[UID_DORA]
    assert other != boards[UID_DORA]  # the benchmark reaches the thresholds


def test_panel_links_open_the_site_and_dora_has_team_and_service_variables(boards):
    dora = boards[UID_DORA]
    variables = {v["name"]: v for v in dora["templating"]["list"]}
    assert {"datasource", "site_url", "window", "team", "service"} <= set(variables)
    assert variables["site_url"]["query"] == "https://metrics.example/site/"
    assert variables["datasource"]["current"]["value"] == DATASOURCE_UID
    for panel in _panels(dora):
        urls = [link["url"] for link in panel.get("links", [])]
        assert urls and all(u.startswith("${site_url}") and u.endswith(".html") for u in urls)


def test_bundle_has_dashboards_and_provisioning_files(tmp_path):
    written = write_grafana_bundle(tmp_path / "grafana", prometheus_url="http://prom:9090")
    names = {p.relative_to(tmp_path / "grafana").as_posix() for p in written}
    assert "provisioning/datasources/platform-metrics.yaml" in names
    assert "provisioning/dashboards/platform-metrics.yaml" in names
    datasource = yaml.safe_load(
        (tmp_path / "grafana/provisioning/datasources/platform-metrics.yaml").read_text()
    )["datasources"][0]
    assert datasource["uid"] == DATASOURCE_UID and datasource["url"] == "http://prom:9090"
    provider = yaml.safe_load(
        (tmp_path / "grafana/provisioning/dashboards/platform-metrics.yaml").read_text()
    )["providers"][0]
    assert provider["type"] == "file" and provider["options"]["path"]
    for path in (tmp_path / "grafana" / "dashboards").glob("*.json"):
        model = json.loads(path.read_text())
        assert model["uid"] == path.stem and model["panels"]
