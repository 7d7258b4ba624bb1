"""deploy/helm/: values for Dagster's Helm chart and the Kubernetes objects they name, checked
offline: against the chart's schemas (tests/fixtures/helm/README.md), the Kubernetes 1.30 schemas,
the configuration loader and the single-writer rule."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from assets.cli import DAGSTER_YAML
from dashboards.kubernetes_manifests import SNAPSHOT_CLAIM
from pipelines.config import CONFIG_ENV_VAR, load_config
from pipelines.offline import TELEMETRY_OFF

ROOT = Path(__file__).resolve().parent.parent
HELM = ROOT / "deploy" / "helm"
VALUES = HELM / "values.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "helm"
KUBERNETES_VERSION = "1.30.0"
K8S_DEFINITIONS = "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"
SECRET_KEY = re.compile(r"(password|passwd|token|salt|api_?key|private_?key|webhook_?url)$", re.I)
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|SALT|API_?KEY|PRIVATE_?KEY|CREDENTIAL)")


def _values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def _objects() -> list[dict]:
    return [
        obj
        for path in sorted(HELM.glob("*.yaml"))
        if path != VALUES
        for obj in yaml.safe_load_all(path.read_text(encoding="utf-8"))
    ]


def _object(kind: str, name: str) -> dict:
    found = [o for o in _objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert found, f"no {kind} {name} in deploy/helm/"
    return found[0]


def _run_launcher(values: dict) -> dict:
    return values["runLauncher"]["config"]["k8sRunLauncher"]


def _kubernetes_definitions() -> dict:
    """kubernetes-validate's bundled Kubernetes definitions (strict), served under the address the
    chart's schema names, with its ``definitions`` spelling: no download."""
    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = folder / f"v{KUBERNETES_VERSION}-local-strict" / "_definitions.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document.pop("$id", None)
    document["definitions"] = document["$defs"]
    return document


def _user_deployment_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(
        (FIXTURES / "dagster-user-deployments.values.schema.json").read_text(encoding="utf-8")
    )
    schema["$id"] = "urn:dagster-user-deployments"
    registry = Registry().with_resources(
        [
            (schema["$id"], Resource.from_contents(schema, DRAFT202012)),
            (K8S_DEFINITIONS, Resource.from_contents(_kubernetes_definitions(), DRAFT202012)),
        ]
    )
    return jsonschema.Draft202012Validator(
        {"$ref": "urn:dagster-user-deployments#/$defs/UserDeployment"}, registry=registry
    )


def _user_deployment_errors(values: dict) -> list[str]:
    schema = json.loads(
        (FIXTURES / "dagster-user-deployments.values.schema.json").read_text(encoding="utf-8")
    )
    known = set(schema["$defs"]["UserDeployment"]["properties"])
    validator = _user_deployment_validator()
    errors = []
    for deployment in values["dagster-user-deployments"]["deployments"]:
        # The generated schema leaves a deployment open; the chart ignores a misspelt key.
        errors += [f"unknown key {k!r}" for k in sorted(set(deployment) - known)]
        errors += [
            f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(deployment)
        ]
    return errors


def _chart_key_errors(values: dict) -> list[str]:
    schema = json.loads((FIXTURES / "dagster-chart-keys.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(values)]


def test_helm_values_validate_against_the_dagster_chart_schema():
    values = _values()
    assert _user_deployment_errors(values) == []
    assert _chart_key_errors(values) == []


def test_chart_schema_validation_catches_misspelt_and_mistyped_values():
    values = _values()
    deployment = values["dagster-user-deployments"]["deployments"][0]
    deployment["codeServerArg"] = deployment.pop("codeServerArgs")
    deployment["volumeMounts"][0]["mountpath"] = deployment["volumeMounts"][0].pop("mountPath")
    deployment["port"] = "3030"
    errors = _user_deployment_errors(values)
    assert any("codeServerArg" in e for e in errors)
    assert any("mountpath" in e or "mountPath" in e for e in errors)
    assert any("'3030' is not of type 'integer'" in e for e in errors)
    broken = _values()
    _run_launcher(broken)["volumeMount"] = _run_launcher(broken).pop("volumeMounts")
    broken["concurrency"]["pools"]["defaultlimit"] = 1
    errors = _chart_key_errors(broken)
    assert any("volumeMount" in e for e in errors)
    assert any("defaultlimit" in e for e in errors)


def test_helm_chart_version_is_the_pinned_dagster_version():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    dagster = re.search(r"^dagster==(\S+)$", lock, re.M).group(1)
    text = VALUES.read_text(encoding="utf-8")
    assert re.findall(r"--version (\S+)", text) == [dagster]
    scaling = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    assert set(re.findall(r"--version (\S+)", scaling)) == {dagster}


def test_helm_values_keep_one_warehouse_writer():
    values = _values()
    concurrency = values["concurrency"]
    assert concurrency["enabled"] is True
    # Steps: the `warehouse` pool at 1, per step (op), as in the dagster.yaml the CLI writes.
    cli_limit = yaml.safe_load(DAGSTER_YAML)["concurrency"]["pools"]["default_limit"]
    assert concurrency["pools"]["defaultLimit"] == cli_limit == 1
    assert concurrency["pools"]["granularity"] == "op"
    # Runs: one run pod at a time, so one pod mounts the ReadWriteOnce warehouse volume.
    assert concurrency["runs"]["maxConcurrentRuns"] == 1
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    # The chart refuses a run limit set both here and in the queued run coordinator's config.
    queued = coordinator.get("config", {}).get("queuedRunCoordinator", {})
    assert queued.get("maxConcurrentRuns") is None and not queued.get("tagConcurrencyLimits")
    claim = _claim_mounted_at(values, "/data/warehouse")
    assert _object("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]
    # Only run pods mount it: never the long-running code server.
    for deployment in values["dagster-user-deployments"]["deployments"]:
        claims = [
            v.get("persistentVolumeClaim", {}).get("claimName") for v in deployment["volumes"]
        ]
        assert claim not in claims


def _claim_mounted_at(values: dict, mount_path: str) -> str:
    launcher = _run_launcher(values)
    mount = next(m for m in launcher["volumeMounts"] if m["mountPath"] == mount_path)
    volume = next(v for v in launcher["volumes"] if v["name"] == mount["name"])
    return volume["persistentVolumeClaim"]["claimName"]


def _mount_of(path: Path, mounts: list[dict]) -> dict:
    matching = [m for m in mounts if path.is_relative_to(m["mountPath"])]
    assert matching, f"{path} is on no volume the run pods mount"
    return max(matching, key=lambda m: len(m["mountPath"]))


def test_run_pods_mount_the_warehouse_volume_the_config_points_at(tmp_path, monkeypatch):
    values = _values()
    launcher = _run_launcher(values)
    env = _object("ConfigMap", "platform-metrics-env")["data"]
    config_map = _object("ConfigMap", "platform-metrics-config")
    config_file = Path(env[CONFIG_ENV_VAR])
    # The configuration file is the ConfigMap's key, mounted where the environment says.
    config_mount = _mount_of(config_file, launcher["volumeMounts"])
    config_volume = next(v for v in launcher["volumes"] if v["name"] == config_mount["name"])
    assert config_volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert config_file.relative_to(config_mount["mountPath"]).as_posix() in config_map["data"]
    # Load it as a run pod would (dummy secrets: only their names are in the repository).
    copy_ = tmp_path / config_file.name
    copy_.write_text(config_map["data"][config_file.name], encoding="utf-8")
    for name in re.findall(r"\$\{(\w+)\}", config_map["data"][config_file.name]):
        monkeypatch.setenv(name, "dummy")
    config = load_config(copy_)

    def claim_of(path: Path) -> str:
        mount = _mount_of(path, launcher["volumeMounts"])
        assert not mount.get("readOnly"), f"{path} is on a read-only mount"
        volume = next(v for v in launcher["volumes"] if v["name"] == mount["name"])
        return volume["persistentVolumeClaim"]["claimName"]

    warehouse_claim = claim_of(Path(config.warehouse_path()))
    assert _object("PersistentVolumeClaim", warehouse_claim)["spec"]["accessModes"] == [
        "ReadWriteOnce"
    ]
    # The snapshot lands on the volume the exporter reads (deploy/kubernetes/exporter.yaml).
    assert claim_of(Path(config.publish.snapshot_dir)) == SNAPSHOT_CLAIM
    _object("PersistentVolumeClaim", SNAPSHOT_CLAIM)
    # The site's dated copies are siblings of site_dir: its parent must be on the volume too.
    site_claim = claim_of(Path(config.publish.site_dir).parent)
    _object("PersistentVolumeClaim", site_claim)
    assert len({warehouse_claim, SNAPSHOT_CLAIM, site_claim}) == 3


def test_every_config_map_secret_and_claim_the_values_name_is_in_deploy_helm():
    values = _values()
    deployments = values["dagster-user-deployments"]["deployments"]
    sources = [_run_launcher(values), *deployments]
    for source in sources:
        for ref in source.get("envConfigMaps", []):
            _object("ConfigMap", ref["name"])
        for ref in source.get("envSecrets", []):
            _object("Secret", ref["name"])
        for volume in source.get("volumes", []):
            if "configMap" in volume:
                _object("ConfigMap", volume["configMap"]["name"])
            if "persistentVolumeClaim" in volume:
                _object("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    _object("Secret", values["global"]["postgresqlSecretName"])


def _secret_like_values(node, path=()) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if SECRET_KEY.search(str(key)) and value not in ("", None):
                found.append(".".join(map(str, (*path, key))))
            found += _secret_like_values(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _secret_like_values(value, (*path, i))
    return found


def test_no_secret_value_is_in_the_helm_values_or_image():
    values = _values()
    assert _secret_like_values(values) == []
    assert values["generatePostgresqlPasswordSecret"] is False
    # The Secret templates name their keys only.
    for obj in _objects():
        if obj["kind"] == "Secret":
            filled = {
                k for k, v in {**obj.get("data", {}), **obj.get("stringData", {})}.items() if v
            }
            assert not filled, f"Secret {obj['metadata']['name']} holds values for {filled}"
    # The configuration refers to its secrets as ${VARIABLES}.
    for obj in _objects():
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "platform-metrics-config":
            config = yaml.safe_load(obj["data"]["config.yaml"])
            for where in _secret_like_values(config):
                value = config
                for part in where.split("."):
                    value = value[int(part)] if isinstance(value, list) else value[part]
                assert re.fullmatch(r"\$\{\w+\}", value), f"config.yaml {where} is not a ${{VAR}}"
    # The image: no ENV or ARG that holds a credential-like name with a value.
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", dockerfile)
    for line in joined.splitlines():
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() not in {"ENV", "ARG"}:
            continue
        for word in rest.split():
            name, _, value = word.partition("=")
            assert not (SECRET_NAME.search(name.upper()) and value), f"Dockerfile bakes in {name}"


def test_telemetry_is_off_in_the_instance_and_in_every_pod():
    values = _values()
    assert values["telemetry"]["enabled"] is False
    env = _object("ConfigMap", "platform-metrics-env")["data"]
    assert {k: env.get(k) for k in TELEMETRY_OFF} == TELEMETRY_OFF
    for source in [_run_launcher(values), *values["dagster-user-deployments"]["deployments"]]:
        assert {"name": "platform-metrics-env"} in source["envConfigMaps"]


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_helm_side_objects_are_valid_against_the_kubernetes_schema(obj):
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_kubernetes_validation_catches_a_broken_claim():
    claim = copy.deepcopy(_object("PersistentVolumeClaim", "platform-metrics-warehouse"))
    claim["spec"]["accessModes"] = "ReadWriteOnce"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(claim, KUBERNETES_VERSION, strict=True)
