"""deploy/kubernetes/: the generator's output, checked in; core objects valid against the Kubernetes
schemas (kubernetes-validate, offline); the Prometheus Operator objects carry the same rules and
the ConfigMap the same dashboards as the code."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from dashboards.alert_rules import alert_rules
from dashboards.grafana import build_dashboards
from dashboards.kubernetes_manifests import manifests, render

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
CORE_KINDS = {"Deployment", "Service", "ConfigMap"}


def _objects() -> list[dict]:
    return [
        obj
        for path in sorted(DEPLOY.glob("*.yaml"))
        for obj in yaml.safe_load_all(path.read_text(encoding="utf-8"))
    ]


def test_checked_in_manifests_are_the_generators_output():
    for name, objects in manifests().items():
        assert (DEPLOY / name).read_text(encoding="utf-8") == render(objects), (
            f"deploy/kubernetes/{name} differs: python -m dashboards.kubernetes_manifests "
            "deploy/kubernetes"
        )


@pytest.mark.parametrize(
    "obj",
    [o for o in _objects() if o["kind"] in CORE_KINDS],
    ids=lambda o: f"{o['kind']}/{o['metadata']['name']}",
)
def test_core_objects_are_valid_against_the_kubernetes_schema(obj):
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_schema_validation_catches_a_broken_deployment():
    broken = next(o for o in _objects() if o["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(broken))
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "metrics"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_operator_objects_carry_the_rules_and_scrape_the_exporter_service():
    objects = {o["kind"]: o for o in _objects()}
    assert objects["PrometheusRule"]["spec"] == alert_rules()
    service_port = objects["Service"]["spec"]["ports"][0]["name"]
    assert objects["ServiceMonitor"]["spec"]["endpoints"][0]["port"] == service_port
    selector = objects["ServiceMonitor"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= objects["Service"]["metadata"]["labels"].items()


def test_dashboards_config_map_is_labelled_for_the_grafana_sidecar():
    cm = next(o for o in _objects() if o["kind"] == "ConfigMap")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert set(cm["data"]) == {f"{uid}.json" for uid in build_dashboards()}


def test_exporter_reads_the_snapshot_read_only_and_is_probed_on_healthz():
    deployment = next(o for o in _objects() if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "exporter"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "snapshot")
    assert mount["readOnly"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
