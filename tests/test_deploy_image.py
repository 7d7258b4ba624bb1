"""deploy/docker/Dockerfile, read statically (no Docker engine on the test machines): the image runs
as a non-root user, turns every telemetry switch off, copies only what exists, parses the dbt
manifest where the code server reads it, and its code-server command names a module that imports;
the dagster-spark target adds Java 17 and the spark extra; exporter stays the default target.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.offline import TELEMETRY_OFF

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
USER_CODE_TARGET = "dagster"
# The user code with Java and the spark extra, for the spark_build job (deploy/helm/values-spark.yaml).
SPARK_TARGET = "dagster-spark"
USER_CODE_TARGETS = (USER_CODE_TARGET, SPARK_TARGET)
DEFAULT_TARGET = "exporter"
JAVA_PACKAGE = "openjdk-17-jre-headless"


@dataclass
class Instruction:
    stage: str
    parent: str
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form CMD/ENTRYPOINT, or the shell words of the shell form."""
        text = self.arguments.strip()
        return json.loads(text) if text.startswith("[") else shlex.split(text)


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their stage (``FROM <image> AS <stage>``) and the stage's parent image."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    instructions, stage, parent = [], "", ""
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            parent = words[0]
            stage = words[2] if len(words) > 2 and words[1].upper() == "AS" else parent
        instructions.append(Instruction(stage, parent, keyword, arguments.strip()))
    return instructions


def _instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def _stages(instructions: list[Instruction]) -> dict[str, str]:
    return {i.stage: i.parent for i in instructions if i.keyword == "FROM"}


def _lineage(stage: str, stages: dict[str, str]) -> list[str]:
    """The stage and the stages it is built FROM, oldest first."""
    chain = [stage]
    while stages.get(chain[-1]) in stages:
        chain.append(stages[chain[-1]])
    return list(reversed(chain))


def _effective(keyword: str, stage: str, instructions: list[Instruction]) -> Instruction | None:
    """The last ``keyword`` instruction in force in ``stage`` (inherited from the stages above)."""
    lineage = _lineage(stage, _stages(instructions))
    found = [i for s in lineage for i in instructions if i.stage == s and i.keyword == keyword]
    return found[-1] if found else None


def _env(stage: str, instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for s in _lineage(stage, _stages(instructions)):
        for i in instructions:
            if i.stage == s and i.keyword == "ENV":
                for word in shlex.split(i.arguments):
                    name, _, value = word.partition("=")
                    env[name] = value
    return env


def _user_at(instruction: Instruction, instructions: list[Instruction]) -> str:
    """The user an instruction runs as: the last USER before it in its stage and those above."""
    lineage = _lineage(instruction.stage, _stages(instructions))
    user = "root"
    for i in instructions:
        if i is instruction:
            return user
        if i.stage in lineage and i.keyword == "USER":
            user = i.arguments.split(":")[0]
    raise ValueError(f"{instruction} is not in the Dockerfile")


def _targets(instructions: list[Instruction]) -> list[str]:
    """Stages one would build: the user-code targets and the default (last) stage."""
    return sorted({*USER_CODE_TARGETS, instructions[-1].stage})


def test_every_image_target_runs_as_a_non_root_user():
    instructions = _instructions()
    for target in _targets(instructions):
        user = _effective("USER", target, instructions)
        assert user is not None, f"target {target} runs as root: no USER"
        name = user.arguments.split(":")[0]
        assert name not in {"root", "0"}, f"target {target} runs as {user.arguments}"


def test_the_image_turns_every_telemetry_switch_off():
    instructions = _instructions()
    for target in _targets(instructions):
        env = _env(target, instructions)
        missing = {k: v for k, v in TELEMETRY_OFF.items() if env.get(k) != v}
        assert not missing, f"target {target} lacks {missing} (pipelines/offline.py TELEMETRY_OFF)"


def test_every_copy_source_in_the_dockerfile_exists_in_the_repository():
    for instruction in _instructions():
        if instruction.keyword not in {"COPY", "ADD"}:
            continue
        words = [w for w in shlex.split(instruction.arguments) if not w.startswith("--")]
        assert not instruction.arguments.startswith("--from"), "no multi-stage COPY expected"
        for source in words[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


@pytest.mark.parametrize("target", USER_CODE_TARGETS)
def test_the_user_code_target_leaves_the_command_to_the_run_launcher(target):
    # The K8sRunLauncher starts run pods with `dagster api execute_run ...` as the container's
    # arguments: an inherited ENTRYPOINT (platform-metrics) would swallow them.
    instructions = _instructions()
    entrypoint = _effective("ENTRYPOINT", target, instructions)
    assert entrypoint is None or entrypoint.exec_form() == []


@pytest.mark.parametrize("target", USER_CODE_TARGETS)
def test_the_code_server_module_in_the_image_command_imports(target):
    instructions = _instructions()
    cmd = _effective("CMD", target, instructions).exec_form()
    assert cmd[:3] == ["dagster", "code-server", "start"], cmd
    module = cmd[cmd.index("-m") + 1]
    # The Helm chart starts the code server with its own arguments: the same module.
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    deployment = values["dagster-user-deployments"]["deployments"][0]
    args = deployment["codeServerArgs"]
    assert args[args.index("-m") + 1] == module
    loaded = importlib.import_module(module)
    assert isinstance(loaded.defs, dg.Definitions)


def test_the_image_parses_the_dbt_manifest_where_the_code_server_reads_it(tmp_path):
    # The build step runs in the image's WORKDIR with PYTHONPATH=/app; here the same commands run
    # in an empty working directory with the repository on PYTHONPATH. chown needs root: skipped.
    instructions = _instructions()
    step = next(i for i in instructions if i.keyword == "RUN" and "dbt_project()" in i.arguments)
    workdir = _effective("WORKDIR", step.stage, instructions).arguments
    assert _env(step.stage, instructions)["PYTHONPATH"] == workdir
    commands = [c.strip() for c in step.arguments.split("&&") if not c.strip().startswith("chown")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PLATFORM_METRICS_WAREHOUSE", None)
    script = " && ".join(
        c.replace("python ", f"{shlex.quote(sys.executable)} ", 1) for c in commands
    )
    done = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((tmp_path / "build" / "dbt-target" / "manifest.json").read_text())
    assert any(n["resource_type"] == "model" for n in manifest["nodes"].values())


def _run_commands(stage: str, instructions: list[Instruction]) -> list[tuple[str, str]]:
    """(user, command) of every `&&`-joined command of the stage's own RUN instructions."""
    return [
        (_user_at(i, instructions), command.strip())
        for i in instructions
        if i.stage == stage and i.keyword == "RUN"
        for command in i.arguments.split("&&")
    ]


def test_the_spark_target_installs_java_17_and_the_spark_extra_then_drops_root():
    instructions = _instructions()
    assert _stages(instructions)[SPARK_TARGET] == USER_CODE_TARGET
    commands = _run_commands(SPARK_TARGET, instructions)
    # Java 17 from Debian, as root, without recommended packages, the apt lists removed after.
    installs = [
        (user, c) for user, c in commands if c.startswith("apt-get install") and JAVA_PACKAGE in c
    ]
    assert len(installs) == 1, f"no apt-get install {JAVA_PACKAGE} in {SPARK_TARGET}"
    user, install = installs[0]
    assert user == "root" and "--no-install-recommends" in install.split()
    assert "apt-get update" in [c for _, c in commands]
    assert ("root", "rm -rf /var/lib/apt/lists/*") in commands
    # pyspark finds Java through JAVA_HOME: the RUN links it there and runs it.
    assert _env(SPARK_TARGET, instructions).get("JAVA_HOME", "").startswith("/usr/lib/jvm/")
    assert any(c.startswith("ln -s") and c.endswith('"$JAVA_HOME"') for _, c in commands)
    assert ("root", '"$JAVA_HOME/bin/java" -version') in commands
    # The spark extra of pyproject.toml, with the lock's pins, and it imports.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(r.startswith("dbt-spark[session,") for r in extras["spark"])
    pip = [shlex.split(c) for user, c in commands if c.startswith("pip install") and user == "root"]
    assert ["pip", "install", "-c", "requirements.lock", ".[spark]"] in pip
    assert any("import pyspark" in c for _, c in commands)
    # Then back to the non-root user of the other targets.
    assert _effective("USER", SPARK_TARGET, instructions).arguments == (
        _effective("USER", USER_CODE_TARGET, instructions).arguments
    )


def test_the_exporter_stays_the_default_target_and_every_named_target_exists():
    instructions = _instructions()
    # `docker build` without --target builds the last stage.
    assert instructions[-1].stage == DEFAULT_TARGET
    stages = set(_stages(instructions))
    build = re.compile(
        r"docker build -f deploy/docker/Dockerfile\s+(?:\\\s*#?\s*)?--target ([\w.-]+)"
    )
    named = {
        path: build.findall((ROOT / path).read_text(encoding="utf-8"))
        for path in [
            "deploy/docker/Dockerfile",
            "deploy/helm/values-spark.yaml",
            "docs/scaling.md",
            "docs/operations.md",
        ]
    }
    assert SPARK_TARGET in named["deploy/docker/Dockerfile"]
    assert SPARK_TARGET in named["deploy/helm/values-spark.yaml"]
    missing = {path: set(targets) - stages for path, targets in named.items()}
    assert not any(missing.values()), f"--target of no Dockerfile stage: {missing}"
