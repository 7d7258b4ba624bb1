"""Try a metric definition on a scratch copy of the warehouse, see what it changes, write it back.

The logic behind ``notebooks/tune_definitions.py`` (no UI, no dagster, unit-tested):

- :class:`Knobs` are the organisation-wide definitions the platform team argues about;
  :func:`apply_knobs` makes a validated :class:`~pipelines.config.Config` with them.
- :func:`recompute` copies the warehouse file (the analysts' snapshot, never the live file) into a
  temporary folder, rebuilds the DORA marts there with ``dbt build --vars dbt_vars(config)`` and
  its own ``--target-path``, and compares the copy with the original: per team (before, after,
  delta) and row by row (:func:`diff_facts`: which deployments, changes and incidents changed).
- :func:`write_definitions` writes the knobs into the YAML file with ruamel.yaml's round trip,
  keeping its comments, order and quoting, and returns the unified diff.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd

from pipelines.config import Config, MetricDefinitions, parse_config
from pipelines.dbt_cli import DBT_PROJECT_DIR, run_dbt
from pipelines.definitions import dbt_vars

#: What the scratch build rebuilds: the DORA marts and everything upstream of them.
DORA_SELECT = ("+metrics_dora_weekly", "+metrics_dora_monthly", "+fct_incidents")
ORIGINAL = "original"


@dataclass(frozen=True)
class Knobs:
    """The organisation-wide definitions the notebook exposes (``metrics.*`` in the config)."""

    environment_regex: str
    workflow_regex: str
    exclude_regex: str
    incident_window_hours: float
    lead_time_start: Literal["first_commit", "pr_opened"]
    bot_authors_regex: str
    benchmark: Literal["dora_2024", "dora_2023", "dora_2021"]


#: Knob -> its path under ``metrics`` in the config file.
KNOB_PATHS: dict[str, tuple[str, ...]] = {
    "environment_regex": ("deployment", "environment_regex"),
    "workflow_regex": ("deployment", "workflow_regex"),
    "exclude_regex": ("deployment", "exclude_regex"),
    "incident_window_hours": ("incident_window_hours",),
    "lead_time_start": ("lead_time_start",),
    "bot_authors_regex": ("bot_authors_regex",),
    "benchmark": ("benchmark",),
}

#: Fact table -> (key, the columns that say how a row is classified).
FACTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "fct_deployments": (
        "deployment_id",
        ("status", "is_failure", "failure_reason", "is_rework", "rework_reason", "n_changes"),
    ),
    "fct_changes": ("change_id", ("deployment_id", "deployed_at", "lead_time_hours")),
    "fct_incidents": ("incident_id", ("deployment_id", "attribution")),
}


def _get(metrics: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        metrics = getattr(metrics, part)
    return metrics


def knobs_from_config(config: Config) -> Knobs:
    return Knobs(**{name: _get(config.metrics, path) for name, path in KNOB_PATHS.items()})


def changed_knobs(config: Config, knobs: Knobs) -> dict[str, Any]:
    """The knobs whose value differs from ``config``'s."""
    current = dataclasses.asdict(knobs_from_config(config))
    return {k: v for k, v in dataclasses.asdict(knobs).items() if current[k] != v}


def _metrics_dict(config: Config, knobs: Knobs) -> dict[str, Any]:
    data = config.metrics.model_dump(exclude_unset=False)
    for name, value in dataclasses.asdict(knobs).items():
        node = data
        *parents, leaf = KNOB_PATHS[name]
        for part in parents:
            node = node[part]
        node[leaf] = value
    return data


def apply_knobs(config: Config, knobs: Knobs) -> Config:
    """``config`` with the knobs' values, validated like the file (a bad regex raises)."""
    metrics = MetricDefinitions.model_validate(_metrics_dict(config, knobs))
    return config.model_copy(update={"metrics": metrics})


# --- the scratch build --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recomputed:
    teams: pd.DataFrame  # one row per team: <measure>_before, <measure>_after, <measure>_delta
    changes: dict[str, pd.DataFrame]  # fact table -> rows that changed classification
    variables: dict[str, Any]  # the --vars of the scratch build

    def counts(self) -> dict[str, int]:
        return {table: len(df) for table, df in self.changes.items()}


def scratch_copy(warehouse: Path, scratch_dir: Path) -> Path:
    """Copy ``warehouse`` (and a write-ahead log beside it) into ``scratch_dir``, same file name:
    dbt-duckdb names the catalog after the file's stem, and the snapshot's views refer to it."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse}: warehouse not found; run `platform-metrics demo`")
    target = Path(scratch_dir) / warehouse.name
    shutil.copyfile(warehouse, target)
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def rebuild(
    scratch: Path, config: Config, *, tests: bool = False, project_dir: Path = DBT_PROJECT_DIR
) -> None:
    """``dbt build`` of the DORA marts on the scratch file with ``config``'s definitions."""
    command = ["build", "--select", *DORA_SELECT]
    if not tests:
        command += ["--exclude-resource-type", "test", "unit_test"]
    run_dbt(
        command,
        warehouse=scratch,
        target_path=scratch.parent / "dbt-target",
        variables=dbt_vars(config),
        project_dir=project_dir,
    )


def recompute(
    warehouse: Path,
    config: Config,
    *,
    tests: bool = False,
    project_dir: Path = DBT_PROJECT_DIR,
) -> Recomputed:
    """Rebuild the DORA marts with ``config``'s definitions on a copy of ``warehouse`` and compare
    the copy with ``warehouse`` (opened read-only). The copy is deleted afterwards."""
    warehouse = Path(warehouse).resolve()
    if warehouse == Path(config.warehouse_path()).resolve():
        # Even a read-only opener of the live file blocks the pipeline's next write.
        raise ValueError(
            f"{warehouse} is the pipeline's live warehouse; use the analysts' snapshot "
            f"({Path(config.publish.snapshot_dir) / 'warehouse.duckdb'})"
        )
    with tempfile.TemporaryDirectory(prefix="pm-tuning-") as tmp:
        scratch = scratch_copy(warehouse, Path(tmp))
        rebuild(scratch, config, tests=tests, project_dir=project_dir)
        with duckdb.connect(str(scratch), read_only=True) as con:
            con.execute(f"ATTACH '{_sql(warehouse)}' AS {ORIGINAL} (READ_ONLY)")
            teams = team_comparison(con)
            changes = {table: diff_facts(con, table) for table in FACTS}
    return Recomputed(teams=teams, changes=changes, variables=dbt_vars(config))


def _sql(value: str | Path) -> str:
    return str(value).replace("'", "''")


# --- comparisons (a connection to the scratch copy with the original attached as `original`) -----

_TEAM_MEASURES = """
WITH d AS (
    SELECT team,
           count(*) FILTER (status = 'success') AS deployments,
           count(*) AS attempts,
           count(*) FILTER (is_failure) AS failed_deployments
    FROM {db}marts.fct_deployments WHERE team IS NOT NULL GROUP BY team
), c AS (
    SELECT team, count(*) FILTER (deployed_at IS NOT NULL) AS changes_deployed,
           median(lead_time_hours) AS lead_time_p50_hours
    FROM {db}marts.fct_changes WHERE team IS NOT NULL GROUP BY team
), i AS (
    SELECT team, count(*) AS incidents,
           count(*) FILTER (deployment_id IS NOT NULL) AS attributed_incidents
    FROM {db}marts.fct_incidents WHERE team IS NOT NULL GROUP BY team
)
SELECT coalesce(d.team, c.team, i.team) AS team,
       coalesce(deployments, 0) AS deployments,
       coalesce(failed_deployments, 0) AS failed_deployments,
       failed_deployments / nullif(attempts, 0) AS change_failure_rate,
       coalesce(changes_deployed, 0) AS changes_deployed,
       lead_time_p50_hours,
       coalesce(attributed_incidents, 0) AS attributed_incidents,
       coalesce(incidents, 0) AS incidents
FROM d FULL JOIN c ON c.team = d.team FULL JOIN i ON i.team = coalesce(d.team, c.team)
"""

TEAM_MEASURES = (
    "deployments",
    "failed_deployments",
    "change_failure_rate",
    "changes_deployed",
    "lead_time_p50_hours",
    "attributed_incidents",
    "incidents",
)


def team_measures(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> pd.DataFrame:
    """Per team, over the whole history: the DORA counts and rates from the fact tables."""
    db = f"{catalog}." if catalog else ""
    return con.execute(_TEAM_MEASURES.format(db=db)).df().set_index("team").sort_index()


def _latest_levels(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> pd.Series:
    db = f"{catalog}." if catalog else ""
    rows = con.execute(
        f"SELECT scope_name AS team, performance_level FROM {db}marts.metrics_dora_monthly "
        f"WHERE scope = 'team' QUALIFY row_number() OVER (PARTITION BY scope_name "
        f"ORDER BY period_start DESC) = 1"
    ).df()
    return rows.set_index("team")["performance_level"]


def team_comparison(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Before (the original), after (the scratch copy) and delta per team and measure, plus the
    latest month's DORA performance level before and after."""
    before, after = team_measures(con, ORIGINAL), team_measures(con)
    teams = before.index.union(after.index)
    before, after = before.reindex(teams), after.reindex(teams)
    out = pd.DataFrame(index=teams)
    for measure in TEAM_MEASURES:
        b = pd.to_numeric(before[measure], errors="coerce").astype("float64")
        a = pd.to_numeric(after[measure], errors="coerce").astype("float64")
        out[f"{measure}_before"] = b
        out[f"{measure}_after"] = a
        out[f"{measure}_delta"] = a - b
    out["level_before"] = _latest_levels(con, ORIGINAL).reindex(teams)
    out["level_after"] = _latest_levels(con).reindex(teams)
    out.index.name = "team"
    return out


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? "
            "AND table_schema = 'marts' AND table_name = ? ORDER BY ordinal_position",
            [catalog, table],
        ).fetchall()
    ]


def diff_facts(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """The rows of ``marts.<table>`` whose classification differs between the original and the
    copy, by key: ``change`` is added, removed or changed; ``changed_columns`` lists the columns
    that differ; ``<col>_before`` / ``<col>_after`` show the classification columns."""
    key, shown = FACTS[table]
    this = con.execute("SELECT current_database()").fetchone()[0]
    common = [c for c in _columns(con, ORIGINAL, table) if c in _columns(con, this, table)]
    compared = [c for c in common if c != key]
    distinct = [f'o."{c}" IS DISTINCT FROM n."{c}"' for c in compared] or ["false"]
    flags = ", ".join(
        f"""CASE WHEN o."{c}" IS DISTINCT FROM n."{c}" THEN '{c}' END""" for c in compared
    )
    context = [c for c in ("team", "service") if c in common]
    cols = ", ".join(
        [f'coalesce(n."{c}", o."{c}") AS "{c}"' for c in context]
        + [f'o."{c}" AS "{c}_before", n."{c}" AS "{c}_after"' for c in shown if c in common]
    )
    sql = f"""
        SELECT coalesce(n."{key}", o."{key}") AS "{key}",
               CASE WHEN o."{key}" IS NULL THEN 'added'
                    WHEN n."{key}" IS NULL THEN 'removed' ELSE 'changed' END AS change,
               list_filter([{flags}], lambda x: x IS NOT NULL) AS changed_columns,
               {cols}
        FROM {ORIGINAL}.marts.{table} AS o
        FULL JOIN marts.{table} AS n ON o."{key}" = n."{key}"
        WHERE o."{key}" IS NULL OR n."{key}" IS NULL OR {" OR ".join(distinct)}
        ORDER BY 1
    """
    return con.execute(sql).df()


# --- writing the definitions back ---------------------------------------------------------------


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "none", "~"}


def _scalar(value: Any, style: str | None = None) -> str:
    """``value`` as a YAML scalar, in the original's quoting style where that is safe."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value)
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style != '"' and _PLAIN.match(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


_TOKEN = {
    '"': re.compile(r'"(?:[^"\\]|\\.)*"'),
    "'": re.compile(r"'(?:[^']|'')*'"),
    None: re.compile(r"[^#]*?(?=\s+#|\s*$)"),
}


def _replace_value(line: str, col: int, value: Any) -> str:
    rest = line[col:]
    style = rest[:1] if rest[:1] in ("'", '"') else None
    token = _TOKEN[style].match(rest)
    if token is None:
        raise ValueError(f"cannot parse the value in {line!r}")
    return line[:col] + _scalar(value, style) + rest[token.end() :]


def render_definitions(text: str, changes: Mapping[str, Any]) -> str:
    """``text`` (a config file) with the knobs in ``changes`` set and every other byte kept.

    ruamel.yaml's round trip locates each key (line, column); the value is replaced in place on its
    line (a trailing comment stays), and a key the file does not set is inserted as the first key
    of its mapping, at that mapping's indentation. Re-dumping the whole document would re-indent it.
    """
    for name, value in changes.items():
        text = _render_one(text, name, value)
    return text


def _render_one(text: str, name: str, value: Any) -> str:
    from ruamel.yaml import YAML

    data = YAML().load(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    path = ("metrics", *KNOB_PATHS[name])
    node, depth = data, 0
    while depth < len(path) - 1 and isinstance(node.get(path[depth]), dict):
        node = node[path[depth]]
        depth += 1
    leaf = path[depth]
    if depth == len(path) - 1 and leaf in node:
        line, col = node.lc.value(leaf)
        lines[line] = _replace_value(lines[line], col, value)
        return "".join(lines)
    missing = path[depth:]
    if node is data:
        at, indent, step = len(lines), 0, 2
    else:
        if node.fa.flow_style():
            raise ValueError(f"{'.'.join(path[:depth])} is a flow mapping; edit it by hand")
        at, indent = node.lc.key(next(iter(node)))
        step = max(indent - _parent_indent(data, path[:depth]), 2)
    block = [" " * (indent + i * step) + f"{part}:\n" for i, part in enumerate(missing)]
    block[-1] = block[-1][:-1] + f" {_scalar(value)}\n"
    lines[at:at] = block
    return "".join(lines)


def _parent_indent(data: Any, path: tuple[str, ...]) -> int:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node.lc.key(path[-1])[1]


def definitions_diff(path: Path, config: Config, knobs: Knobs) -> tuple[str, str]:
    """(new text, unified diff) of writing ``knobs`` into the config file at ``path``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = render_definitions(text, changed_knobs(config, knobs))
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{path.name} (before)",
            tofile=f"{path.name} (after)",
        )
    )
    return new, diff


def write_definitions(path: Path, config: Config, knobs: Knobs) -> str:
    """Write the knobs that differ from ``config`` into the file at ``path`` (validated first,
    replaced atomically); returns the unified diff ('' when nothing changed)."""
    path = Path(path)
    new, diff = definitions_diff(path, config, knobs)
    if not diff:
        return ""
    parse_config(new, label=str(path), base_dir=path.parent)  # never write an invalid file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return diff
