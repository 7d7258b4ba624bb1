"""Run the dbt CLI of this venv against a given DuckDB file, outside Dagster (no dagster import).

Used by the definition-tuning notebook (a scratch copy of the warehouse) and by the dbt docs step.
Every call gets its own ``--target-path`` and ``--log-path``, so it never touches the pipeline's
``build/dbt-target`` (or ``dbt/target``) and can run beside a scheduled build.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import WAREHOUSE_ENV_VAR
from pipelines.errors import PlatformMetricsError
from pipelines.offline import tool_env

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"


class DbtError(PlatformMetricsError):
    """A dbt command failed; the message ends with the tail of its output."""


@dataclass(frozen=True)
class DbtResult:
    args: list[str]
    output: str


def dbt_executable() -> str:
    """The ``dbt`` next to this interpreter (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    command: Sequence[str],
    *,
    warehouse: Path,
    target_path: Path,
    variables: Mapping[str, Any] | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    timeout: float = 1800,
) -> DbtResult:
    """``dbt <command> --vars ...`` with the profile pointed at ``warehouse`` (an absolute path)."""
    target_path = Path(target_path).resolve()
    target_path.mkdir(parents=True, exist_ok=True)
    args = [
        dbt_executable(),
        *command,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
        "--no-use-colors",
    ]
    if variables is not None:
        args += ["--vars", json.dumps(dict(variables))]
    # No telemetry, no version check, and nothing off this machine (pipelines/offline.py).
    env = {**tool_env(), WAREHOUSE_ENV_VAR: str(Path(warehouse).resolve())}
    proc = subprocess.run(
        args, capture_output=True, text=True, env=env, timeout=timeout, cwd=target_path
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise DbtError(f"dbt {' '.join(command)} failed (exit {proc.returncode}):\n{tail}")
    return DbtResult(args=args, output=output)
