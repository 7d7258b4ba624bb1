"""Which generated history a demo warehouse holds, and a fresh warehouse when that changes.

The demo's history is a function of (seed, months, activity, the organisation, the generator's
code) and of its horizon: without ``demo.end_date`` it ends at the last full hour, its window starts
``months`` before that day, and every repository's simulation is seeded with the horizon and draws
from one sequential random stream over the whole window. A run in another hour therefore serves a
*different* history, not a longer one: the same pull request numbers, run ids, deployment ids and
review ids name other items, and the commit SHAs are all new. The incremental ingest (ETags,
``since`` cursors, upserts on ``(source, natural_key)``) would mix rows of both histories in raw,
and dbt's tests (``no_deployment_before_its_commit``, ``pickup_hours`` >= 0) then fail.

So the demo records its history's identity in ``raw.sync_state`` (source ``demo``) when it runs,
and a demo run whose history differs from the recorded one starts from a fresh warehouse (and
removes the demo's survey waves from the inbox and ``processed/``, so that they are dropped and
loaded again). Within one hour, or with a fixed ``end_date``, the identity is the same and the run
is incremental. A warehouse that holds another organisation's repositories (another GitHub owner)
is never removed: the demo stops with an error instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from pipelines.config import Config
from pipelines.demo._common import iso
from pipelines.demo.generator import Organisation, generate_organisation, pinned_clock
from pipelines.errors import WarehouseError
from pipelines.warehouse import (
    SYNC_STATE_TABLE,
    get_sync_state,
    open_warehouse,
    raw_row_counts,
    set_cursor,
    transaction,
)

# raw.sync_state row: the history the warehouse was filled from (cursor = the identity as JSON).
HISTORY_SOURCE, HISTORY_SCOPE, HISTORY_ENTITY = "demo", "generator", "history"
# The survey files the demo drops (pipelines/surveys/source.py) and the loader files away into
# processed/.
_DEMO_WAVE_FILE = re.compile(r"^\d{4}-Q[1-4](\.\d{8}T\d{6}Z)?(\.csv|\.invited\.yaml)$")
_GENERATOR_DIR = Path(__file__).resolve().parent


def history_identity(org: Organisation) -> dict[str, Any]:
    """Everything the generated history depends on; two organisations with equal identities serve
    the same payloads."""
    demo_config = org.config
    organisation = json.dumps(
        [
            [t.model_dump(mode="json") for t in demo_config.teams],
            [s.model_dump(mode="json") for s in demo_config.services],
        ],
        sort_keys=True,
    )
    return {
        "seed": org.seed,
        "months": org.months,
        "activity": org.activity,
        "start": iso(org.start),
        "horizon": iso(org.horizon),
        "organisation": hashlib.sha256(organisation.encode()).hexdigest()[:16],
        "generator": _generator_digest(),
    }


def _generator_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(_GENERATOR_DIR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def recorded_identity(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    state = get_sync_state(con, HISTORY_SOURCE, HISTORY_SCOPE, HISTORY_ENTITY)
    if state is None or not state.cursor:
        return None
    try:
        value = json.loads(state.cursor)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def record_identity(con: duckdb.DuckDBPyConnection, identity: dict[str, Any]) -> None:
    with transaction(con):
        set_cursor(
            con,
            HISTORY_SOURCE,
            HISTORY_SCOPE,
            HISTORY_ENTITY,
            cursor=json.dumps(identity, sort_keys=True),
        )


def _has_data(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether anything was synced into the warehouse (tables written from the configuration and
    the demo's own record aside)."""
    counts = raw_row_counts(con)
    if any(n for table, n in counts.items() if not table.startswith(("org_", "slo_"))):
        return True
    (cursors,) = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'raw' AND table_name = 'sync_state'"
    ).fetchone()
    if not cursors:
        return False
    (rows,) = con.execute(
        f"SELECT count(*) FROM {SYNC_STATE_TABLE} WHERE source <> ?", [HISTORY_SOURCE]
    ).fetchone()
    return rows > 0


def _foreign(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """Repositories in the warehouse that no demo organisation has (another GitHub owner)."""
    owners = {r.split("/")[0] for s in config.services for r in s.repositories}
    owners |= {o for source in config.sources.github for o in source.organisations}
    found: set[str] = set()
    for table, column in (
        ("github_repositories", "natural_key"),
        ("org_repositories", "repository"),
    ):
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = ?",
            [table],
        ).fetchone()[0]
        if exists:
            rows = con.execute(f"SELECT DISTINCT {column} FROM raw.{table}").fetchall()
            found |= {name for (name,) in rows if str(name).split("/")[0] not in owners}
    return sorted(found)


def _describe(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    if old is None:
        return "holds demo data with no recorded history (an older version's)"
    changed = [k for k in sorted(new) if old.get(k) != new[k]]
    if set(changed) <= {"horizon", "start"}:
        return (
            f"holds the demo history generated up to {old.get('horizon')}; a run at another "
            f"hour generates a different one (up to {new['horizon']})"
        )
    changes = ", ".join(f"{k} {old.get(k)} -> {new[k]}" for k in changed)
    return f"holds another generated demo history ({changes})"


def _remove_demo_waves(inbox: Path) -> None:
    for folder in (inbox, inbox / "processed"):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file() and _DEMO_WAVE_FILE.match(path.name):
                    path.unlink()


def prepare_warehouse(config: Config, identity: dict[str, Any]) -> str | None:
    """Make the demo's warehouse hold ``identity``'s history; returns the line to print when it
    had to start from a fresh warehouse, else None.

    Raises WarehouseError, touching nothing, when the warehouse holds another organisation's data.
    """
    path = Path(config.warehouse_path())
    message = None
    if path.exists():
        with open_warehouse(path) as con:  # fails in one line if another process holds it
            old = recorded_identity(con)
            stale = old != identity and (old is not None or _has_data(con))
            foreign = _foreign(con, config) if stale else []
        if foreign:
            raise WarehouseError(
                f"{path}: holds another organisation's data ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}), not the demo's; the demo neither "
                "removes nor mixes into it. Move it away, or give the demo another warehouse "
                "(PLATFORM_METRICS_WAREHOUSE)"
            )
        if stale:
            message = (
                f"demo: {path} {_describe(old, identity)}: starting from a fresh demo "
                "warehouse and survey inbox"
            )
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
            if config.sources.surveys is not None:
                _remove_demo_waves(Path(config.sources.surveys.inbox))
    with open_warehouse(path) as con:
        record_identity(con, identity)
    return message


@contextlib.contextmanager
def demo_run(
    config: Config,
    *,
    now: dt.datetime | None = None,
    say: Callable[[str], None] = print,
) -> Iterator[dict[str, Any]]:
    """Around one demo pipeline run: pin the generator's clock (every asset generates the same
    history) and make the warehouse hold that history only. Yields the history's identity."""
    if not config.is_demo:
        raise ValueError("demo_run is for a configuration with a demo: section")
    with pinned_clock(now or dt.datetime.now(dt.UTC)):
        identity = history_identity(generate_organisation(config))
        message = prepare_warehouse(config, identity)
        if message:
            say(message)
        yield identity
