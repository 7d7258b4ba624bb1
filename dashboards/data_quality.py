"""The data-quality page: failed checks first, then what has landed and when (raw rows, sync
cursors, mart sizes); and the sync-coverage lines the overview also shows.
"""

from __future__ import annotations

from dashboards.blocks import (
    Block,
    Column,
    NoData,
    Note,
    Table,
    fmt_int,
    fmt_time,
    missing,
)
from dashboards.context import MARTS, NO_DATA, RAW, PageContext
from dashboards.definitions import DEFINITIONS
from dashboards.gate import CheckStatus
from pipelines.github.sync import coverage_line
from pipelines.surveys.loader import FILE_ENTITY as SURVEY_FILE_ENTITY
from pipelines.warehouse import STATE_TABLES


def sync_coverage_notes(ctx: PageContext) -> list[Block]:
    """ "GitHub synced back to D; backfilling to T" while a progressive backfill is under way:
    weeks and months before D are not complete yet (docs/sources/github.md#progressive-backfill)."""
    reader = ctx.reader
    if not reader.has(RAW, "sync_coverage"):
        return []
    sources = reader.con.execute(
        "SELECT DISTINCT source FROM raw.sync_coverage ORDER BY source"
    ).fetchall()
    lines = [coverage_line(reader.con, source) for (source,) in sources]
    return [Note(line + ".") for line in lines if line]


def _check_blocks(ctx: PageContext) -> list[Block]:
    blocks: list[Block] = []
    if ctx.gate is not None:
        names = ", ".join(f"{c.asset} · {c.check}" for c in ctx.gate.failed) or "a blocking check"
        blocks.append(
            Note(
                f"Publishing gate failed at {fmt_time(ctx.gate.at)}: {names}. The site was not "
                f"refreshed: every other page is the previous build ({ctx.gate.previous_build}); "
                "the failed checks are listed below."
            )
        )
    if not ctx.checks:
        blocks.append(
            NoData(
                "Checks",
                f"{NO_DATA}: no check outcomes were passed to this build (run through Dagster).",
            )
        )
        return blocks
    failed = sorted(
        (c for c in ctx.checks if c.passed is False),
        key=lambda c: (not c.blocking, c.asset, c.check),
    )
    not_run = sorted((c for c in ctx.checks if c.passed is None), key=lambda c: (c.asset, c.check))
    passed = sorted((c for c in ctx.checks if c.passed), key=lambda c: (c.asset, c.check))
    blocking = sum(1 for c in failed if c.blocking)
    blocks.append(
        Note(
            f"Checks: {len(failed)} failed ({blocking} blocking), {len(passed)} passed, "
            f"{len(not_run)} not run yet, of n = {len(ctx.checks)}. A failed blocking check stops "
            "dbt and publishing; a failed warning is listed here and the site is still published."
        )
    )
    columns = [
        Column("result", DEFINITIONS["check_result"]),
        Column("asset"),
        Column("check"),
        Column("blocking", DEFINITIONS["check_blocking"]),
        Column("checked (UTC)"),
        Column("detail"),
    ]

    def rows(checks: list[CheckStatus]) -> list[list[str]]:
        return [
            [
                {True: "passed", False: "FAILED", None: "not run"}[c.passed],
                c.asset,
                c.check,
                "yes" if c.blocking else "no",
                fmt_time(c.checked_at),
                c.description,
            ]
            for c in checks
        ]

    if failed or not_run:
        blocks.append(
            Table(
                f"Failed and not run: {len(failed)} failed, {len(not_run)} not run",
                columns,
                rows(failed + not_run),
            )
        )
    if passed:
        blocks.append(
            Table(f"Passed checks (n = {len(passed)})", columns, rows(passed), folded=True)
        )
    return blocks


def sync_scope_label(scope: object, entity: object, cursor: object) -> str:
    """The scope as a reader knows it: a survey file (its cursor is keyed by the file's SHA-256) by
    its name, which names the wave (``2026-Q1.csv``)."""
    if str(entity) == SURVEY_FILE_ENTITY and not missing(cursor):
        return f"{cursor} (file {str(scope)[:8]})"
    return str(scope)


def build_data_quality(ctx: PageContext) -> list[Block]:
    reader = ctx.reader
    blocks: list[Block] = [*sync_coverage_notes(ctx), *_check_blocks(ctx)]
    raw_tables = [t for t in reader.tables(RAW) if t not in STATE_TABLES]
    if raw_tables:
        blocks.append(
            Table(
                "Rows per raw table",
                [Column("table"), Column("rows", DEFINITIONS["raw_rows"], True)],
                [[f"raw.{t}", fmt_int(reader.row_count(RAW, t))] for t in raw_tables],
            )
        )
    else:
        blocks.append(NoData("Rows per raw table", f"{NO_DATA}: the raw schema is empty."))
    if reader.row_count(RAW, "sync_state"):
        sync = reader.frame(
            RAW,
            "sync_state",
            ["source", "scope", "entity", "cursor", "items_total", "last_synced_at"],
        ).sort_values(["source", "scope", "entity"])
        blocks.append(
            Table(
                "Last sync per source / scope / entity",
                [
                    Column("source"),
                    Column("scope"),
                    Column("entity"),
                    Column("items synced", DEFINITIONS["items_synced"], True),
                    Column("last sync (UTC)", DEFINITIONS["last_sync"]),
                ],
                [
                    [
                        str(r["source"]),
                        sync_scope_label(r["scope"], r["entity"], r["cursor"]),
                        str(r["entity"]),
                        fmt_int(r["items_total"]),
                        fmt_time(r["last_synced_at"]),
                    ]
                    for _, r in sync.iterrows()
                ],
            )
        )
    else:
        blocks.append(NoData("Last sync", f"{NO_DATA}: raw.sync_state is empty."))
    mart_tables = reader.tables(MARTS)
    if mart_tables:
        blocks.append(
            Table(
                "Rows per mart table",
                [Column("table"), Column("rows", DEFINITIONS["mart_rows"], True)],
                [[f"marts.{t}", fmt_int(reader.row_count(MARTS, t))] for t in mart_tables],
            )
        )
    else:
        blocks.append(NoData("Rows per mart table", f"{NO_DATA}: the marts schema does not exist."))
    return blocks
