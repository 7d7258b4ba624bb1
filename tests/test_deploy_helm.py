"""deploy/helm/: values for Dagster's Helm chart and the Kubernetes objects they name, checked
offline: against the chart's schemas (tests/fixtures/helm/README.md), the Kubernetes 1.30 schemas,
the configuration loader and the single-writer rule; values-spark.yaml as Helm merges it over
values.yaml (the spark_build job's image, volumes and CPUs)."""

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
from assets.spark import spark_run_k8s_config
from dashboards.kubernetes_manifests import SNAPSHOT_CLAIM
from pipelines.config import CONFIG_ENV_VAR, load_config
from pipelines.offline import TELEMETRY_OFF
from pipelines.spark_build import local_session_cpus
from pipelines.spark_job import spark_settings

ROOT = Path(__file__).resolve().parent.parent
HELM = ROOT / "deploy" / "helm"
VALUES = HELM / "values.yaml"
SPARK_VALUES = HELM / "values-spark.yaml"
# What the overlay may change in the entries of values.yaml's lists it repeats (by list, by name).
SPARK_OVERLAY_CHANGES = {("dagster-user-deployments", "deployments"): {"image"}}
FIXTURES = ROOT / "tests" / "fixtures" / "helm"
KUBERNETES_VERSION = "1.30.0"
K8S_DEFINITIONS = "https://kubernetesjsonschema.dev/v1.18.0/_definitions.json"
SECRET_KEY = re.compile(r"(password|passwd|token|salt|api_?key|private_?key|webhook_?url)$", re.I)
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|SALT|API_?KEY|PRIVATE_?KEY|CREDENTIAL)")


def _values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


def _helm_merge(base: dict, overlay: dict) -> dict:
    """What Helm makes of ``-f base -f overlay``: maps merge key by key, anything else (a list
    too) is replaced whole, and a null removes the key."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _spark_overlay() -> dict:
    return yaml.safe_load(SPARK_VALUES.read_text(encoding="utf-8"))


def _spark_values() -> dict:
    return _helm_merge(_values(), _spark_overlay())


# The values a release can be installed with: alone, and with the spark_build overlay.
VALUE_SETS = pytest.mark.parametrize(
    "values", [_values(), _spark_values()], ids=["values", "values+spark"]
)


def _objects() -> list[dict]:
    return [
        obj
        for path in sorted(HELM.glob("*.yaml"))
        if not path.name.startswith("values")
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


def _subchart_validator(definition: str) -> jsonschema.Draft202012Validator:
    """A validator of one of the user-code subchart schema's ``$defs``, its Kubernetes
    references resolved offline."""
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
        {"$ref": f"urn:dagster-user-deployments#/$defs/{definition}"}, registry=registry
    )


def _user_deployment_errors(values: dict) -> list[str]:
    schema = json.loads(
        (FIXTURES / "dagster-user-deployments.values.schema.json").read_text(encoding="utf-8")
    )
    known = set(schema["$defs"]["UserDeployment"]["properties"])
    validator = _subchart_validator("UserDeployment")
    errors = []
    for deployment in values["dagster-user-deployments"]["deployments"]:
        # The generated schema leaves a deployment open; the chart ignores a misspelt key.
        errors += [f"unknown key {k!r}" for k in sorted(set(deployment) - known)]
        errors += [
            f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(deployment)
        ]
    return errors


def _run_launcher_errors(values: dict) -> list[str]:
    """The run pods' volumes and mounts, which the transcribed chart keys leave open, against the
    Kubernetes definitions the chart's models use for them (as for the user code's)."""
    launcher = _run_launcher(values)
    errors = []
    for key, definition in (("volumeMounts", "VolumeMount"), ("volumes", "Volume")):
        validator = _subchart_validator(definition)
        for i, item in enumerate(launcher.get(key, [])):
            errors += [f"{key}[{i}]: {e.message}" for e in validator.iter_errors(item)]
    return errors


def _chart_key_errors(values: dict) -> list[str]:
    schema = json.loads((FIXTURES / "dagster-chart-keys.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(values)]


@VALUE_SETS
def test_helm_values_validate_against_the_dagster_chart_schema(values):
    assert _user_deployment_errors(values) == []
    assert _chart_key_errors(values) == []
    assert _run_launcher_errors(values) == []


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
    broken = _values()
    mount = _run_launcher(broken)["volumeMounts"][0]
    mount["mountpath"] = mount.pop("mountPath")
    _run_launcher(broken)["volumes"][1]["persistentVolumeClaim"]["claimname"] = "x"
    errors = _run_launcher_errors(broken)
    assert any(e.startswith("volumeMounts[0]") and "mountpath" in e for e in errors)
    assert any(e.startswith("volumes[1]") and "claimname" in e for e in errors)


def test_helm_chart_version_is_the_pinned_dagster_version():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    dagster = re.search(r"^dagster==(\S+)$", lock, re.M).group(1)
    text = VALUES.read_text(encoding="utf-8")
    assert re.findall(r"--version (\S+)", text) == [dagster]
    scaling = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    assert set(re.findall(r"--version (\S+)", scaling)) == {dagster}


@VALUE_SETS
def test_helm_values_keep_one_warehouse_writer(values):
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


# The commented spark: section of config.example.yaml, and its indentation.
SPARK_SECTION = re.compile(r"^( *)# spark:\n(?:\1#  .*\n)+", re.M)


def _uncomment_spark(text: str) -> str:
    match = SPARK_SECTION.search(text)
    assert match, "config.example.yaml has no commented spark: section"
    indent = match.group(1)
    lines = match.group(0).splitlines(keepends=True)
    section = "".join(line.replace(f"{indent}# ", indent, 1) for line in lines)
    return text[: match.start()] + section + text[match.end() :]


def _example_config(tmp_path, monkeypatch, launcher: dict, *, spark: bool = False):
    """config.example.yaml's configuration, loaded as a run pod would from the ConfigMap the
    launcher mounts where the environment says (with its spark: section uncommented if asked)."""
    env = _object("ConfigMap", "platform-metrics-env")["data"]
    config_map = _object("ConfigMap", "platform-metrics-config")
    config_file = Path(env[CONFIG_ENV_VAR])
    # The configuration file is the ConfigMap's key, mounted where the environment says.
    config_mount = _mount_of(config_file, launcher["volumeMounts"])
    config_volume = next(v for v in launcher["volumes"] if v["name"] == config_mount["name"])
    assert config_volume["configMap"]["name"] == config_map["metadata"]["name"]
    assert config_file.relative_to(config_mount["mountPath"]).as_posix() in config_map["data"]
    # Load it as a run pod would (dummy secrets: only their names are in the repository).
    text = config_map["data"][config_file.name]
    copy_ = tmp_path / config_file.name
    copy_.write_text(_uncomment_spark(text) if spark else text, encoding="utf-8")
    for name in re.findall(r"\$\{(\w+)\}", text):
        monkeypatch.setenv(name, "dummy")
    return load_config(copy_)


def _claim_of(path: Path, launcher: dict) -> str:
    """The claim of the writable volume a run pod reaches ``path`` on."""
    mount = _mount_of(path, launcher["volumeMounts"])
    assert not mount.get("readOnly"), f"{path} is on a read-only mount"
    volume = next(v for v in launcher["volumes"] if v["name"] == mount["name"])
    return volume["persistentVolumeClaim"]["claimName"]


@VALUE_SETS
def test_run_pods_mount_the_warehouse_volume_the_config_points_at(values, tmp_path, monkeypatch):
    launcher = _run_launcher(values)
    config = _example_config(tmp_path, monkeypatch, launcher)

    def claim_of(path: Path) -> str:
        return _claim_of(path, launcher)

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


@VALUE_SETS
def test_every_config_map_secret_and_claim_the_values_name_is_in_deploy_helm(values):
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
    assert _secret_like_values(_spark_overlay()) == []
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


@VALUE_SETS
def test_telemetry_is_off_in_the_instance_and_in_every_pod(values):
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


def _list_paths(node, path: tuple = ()):
    """The key paths (through maps only) of the lists in ``node``: what Helm replaces whole."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _list_paths(value, (*path, key))
    elif isinstance(node, list):
        yield path


def _at(node, path: tuple):
    for key in path:
        node = node[key]
    return node


def test_spark_overlay_repeats_every_entry_of_the_lists_it_replaces():
    values, overlay = _values(), _spark_overlay()
    paths = list(_list_paths(overlay))
    assert set(SPARK_OVERLAY_CHANGES) <= set(paths)
    for path in paths:
        try:
            kept = _at(values, path)
        except KeyError:
            continue  # a list values.yaml does not set: nothing to repeat
        replaced = _at(overlay, path)
        changes = SPARK_OVERLAY_CHANGES.get(path, set())
        for entry in kept:
            if not (isinstance(entry, dict) and "name" in entry):
                assert entry in replaced, f"{'.'.join(path)}: {entry} of values.yaml is missing"
                continue
            same = [e for e in replaced if isinstance(e, dict) and e.get("name") == entry["name"]]
            assert same, f"{'.'.join(path)}: {entry['name']} of values.yaml is missing"
            differing = {k for k in {*entry, *same[0]} - changes if entry.get(k) != same[0].get(k)}
            assert not differing, f"{'.'.join(path)}: {entry['name']} differs in {differing}"


def test_spark_overlay_runs_the_code_location_on_the_image_its_header_builds():
    def image(values: dict) -> str:
        found = values["dagster-user-deployments"]["deployments"][0]["image"]
        return f"{found['repository']}:{found['tag']}"

    # The header's commands, continued lines joined.
    header = re.sub(r"\s*\\\n#\s*", " ", SPARK_VALUES.read_text(encoding="utf-8"))
    built = re.findall(r"--target dagster-spark -t (\S+)", header)
    assert built == [image(_spark_values())]
    assert image(_spark_values()) != image(_values())


def test_spark_run_pods_mount_the_volumes_the_config_spark_section_points_at(tmp_path, monkeypatch):
    values = _spark_values()
    launcher = _run_launcher(values)
    config = _example_config(tmp_path, monkeypatch, launcher, spark=True)
    # The job accepts the folders (spark.dir is not the export nor inside it).
    spark = spark_settings(config)
    # The session's metastore and tables persist across runs: a claim, not the pod's disk.
    spark_claim = _claim_of(Path(spark.dir), launcher)
    # The export is renamed into place beside its temporary copy: below its mount point.
    raw = Path(spark.raw_parquet)
    assert raw != Path(_mount_of(raw, launcher["volumeMounts"])["mountPath"]), (
        f"spark.raw_parquet {raw} is a mount point: the export cannot be renamed onto it"
    )
    raw_claim = _claim_of(raw, launcher)
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in _run_launcher(_values())["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert len({*claims, spark_claim, raw_claim}) == len(claims) + 2
    for claim in (spark_claim, raw_claim):
        assert _object("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]
        # Run pods only, one at a time: the code server never holds the ReadWriteOnce volume.
        for deployment in values["dagster-user-deployments"]["deployments"]:
            mounted = [v.get("persistentVolumeClaim", {}) for v in deployment["volumes"]]
            assert claim not in [m.get("claimName") for m in mounted]


def _cpus(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _deep_merge(base: dict, override: dict) -> dict:
    """dagster-k8s's K8sConfigMergeBehavior.DEEP for maps (the default for a job's
    ``dagster-k8s/config`` tag): nested maps merge, the tag's values win."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_only_spark_build_run_pods_request_the_cpus_of_the_local_spark_session():
    threads = local_session_cpus()  # the spark target's local[N]
    # The overlay leaves every run pod's resources as values.yaml has them ...
    base = _run_launcher(_values())["runK8sConfig"]
    assert _run_launcher(_spark_values())["runK8sConfig"] == base
    assert _cpus(base["containerConfig"]["resources"]["requests"]["cpu"]) < threads
    # ... and the job's tag asks for the session's CPUs, merged by the launcher into them
    # (container_config is containerConfig in snake case): the memory of values.yaml stays.
    tag = spark_run_k8s_config()
    resources = _deep_merge(
        {"resources": base["containerConfig"]["resources"]}, tag["container_config"]
    )["resources"]
    assert _cpus(resources["requests"]["cpu"]) >= threads
    assert (
        resources["requests"]["memory"]
        == base["containerConfig"]["resources"]["requests"]["memory"]
    )
    assert resources["limits"] == base["containerConfig"]["resources"]["limits"]
