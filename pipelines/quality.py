"""Data-quality expectations on raw payloads, run with Great Expectations (no Dagster here).

Each raw table has the fields a payload must carry and the timestamps that must parse and not lie
in the future. ``assets/checks.py`` turns each :class:`CheckOutcome` into a blocking asset check, so
a bad payload stops dbt and publishing instead of reaching the marts.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from pipelines import sources as source_registry

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# table -> (JSON paths that must be present, JSON paths that are timestamps): each source package
# declares its tables' expectations (``RawTable.required`` / ``.timestamps``); this is the built-in
# ones, and ``expectations()`` also has those of sources registered later.
RAW_EXPECTATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = (
    source_registry.raw_expectations()
)


def table_expectations() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return source_registry.raw_expectations()


# Clocks differ; a payload dated a little ahead of ours is not an error.
FUTURE_TOLERANCE = dt.timedelta(hours=1)


@dataclass(frozen=True)
class CheckOutcome:
    table: str
    passed: bool
    rows: int
    failures: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        if self.passed:
            return f"raw.{self.table}: {self.rows} rows, keys present, timestamps parse and are not in the future"
        return f"raw.{self.table}: " + "; ".join(self.failures)


def _column(path: str) -> str:
    return path.removeprefix("$.").replace(".", "__")


def payload_frame(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    """One row per raw row: the natural key, each required field, each timestamp parsed."""
    required, stamps = table_expectations()[table]
    selects = ["natural_key"]
    selects += [f"json_extract(payload, '{p}') AS {_column(p)}" for p in required]
    selects += [
        f"json_extract_string(payload, '{p}') AS {_column(p)}__raw, "
        f"TRY_CAST(json_extract_string(payload, '{p}') AS TIMESTAMPTZ) AS {_column(p)}"
        for p in stamps
    ]
    return con.execute(f"SELECT {', '.join(selects)} FROM raw.{table}").df()


@functools.cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Off in the context's own config too, not only through GX_ANALYTICS_ENABLED (offline.py).
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def check_raw_table(
    con: duckdb.DuckDBPyConnection, table: str, *, now: dt.datetime | None = None
) -> CheckOutcome:
    import great_expectations as gx

    now = now or dt.datetime.now(dt.UTC)
    frame = payload_frame(con, table)
    if frame.empty:
        return CheckOutcome(table, True, 0, metadata={"rows": 0})
    required, stamps = table_expectations()[table]
    expectations = [
        gx.expectations.ExpectColumnValuesToNotBeNull(column=_column(p)) for p in required
    ]
    latest = (now + FUTURE_TOLERANCE).astimezone(dt.UTC).replace(tzinfo=None)
    for p in stamps:
        col = _column(p)
        frame[col] = pd.to_datetime(frame[col], utc=True).dt.tz_localize(None)
        # A present timestamp must parse: compare the parsed column with the raw text.
        frame[f"{col}__parses"] = frame[f"{col}__raw"].isna() | frame[col].notna()
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeInSet(column=f"{col}__parses", value_set=[True])
        )
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeBetween(column=col, max_value=latest)
        )
    context = _context()
    name = f"{table}_{id(frame)}"
    batch = (
        context.data_sources.add_or_update_pandas(name)
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(gx.ExpectationSuite(name=name, expectations=expectations))
    context.data_sources.delete(name)
    failures = []
    for r in result.results:
        if r.success:
            continue
        column = r.expectation_config.kwargs["column"]
        unexpected = r.result.get("unexpected_count", 0)
        bad_keys = frame.loc[
            _unexpected_mask(frame, r.expectation_config.type, column, latest), "natural_key"
        ]
        failures.append(
            f"{r.expectation_config.type} on {column}: {unexpected} rows (e.g. {list(bad_keys[:3])})"
        )
    return CheckOutcome(
        table,
        bool(result.success),
        len(frame),
        failures,
        metadata={"rows": len(frame), "expectations": len(expectations), "failed": len(failures)},
    )


def _unexpected_mask(frame: pd.DataFrame, kind: str, column: str, latest: dt.datetime) -> pd.Series:
    if kind == "expect_column_values_to_not_be_null":
        return frame[column].isna()
    if kind == "expect_column_values_to_be_in_set":
        return ~frame[column].astype(bool)
    return frame[column] > latest
