"""Incident sources through their production clients against a local HTTP server (127.0.0.1).

PagerDuty: pagination with ``more``, the 6-month window split, 429 handling, the service filter and
log entries. Real payloads (../shared, skipped where absent): DevLake's PagerDuty and Opsgenie items
and 1,282 githubstatus.com Statuspage incidents, landed and built by dbt into int_incidents_unified,
where every recovery time must equal resolved_at - started_at. File import validation.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import urllib.parse
from pathlib import Path

import pytest

from pipelines.errors import SourceError
from pipelines.http import RetryPolicy
from pipelines.incidents import files as incident_files
from pipelines.incidents import opsgenie, statuspage
from pipelines.ingest import ensure_raw_tables
from pipelines.pagerduty import sync as pagerduty_sync
from pipelines.pagerduty.client import PagerDutyClient
from pipelines.warehouse import open_warehouse
from tests.http_server import Reply, ScriptedServer
from tests.test_dbt_models import ORG_TABLES, failures, query, run_dbt

NOW = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)
NO_SLEEP = {"sleep": lambda s: None, "retry": RetryPolicy(max_retries=3, backoff_base=0.01)}


def _query(path: str) -> tuple[str, dict[str, list[str]]]:
    parsed = urllib.parse.urlsplit(path)
    return parsed.path, urllib.parse.parse_qs(parsed.query)


def _ts(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _pd_incident(n: int, created: dt.datetime, status: str = "resolved") -> dict:
    return {
        "id": f"Q{n:04d}",
        "incident_number": n,
        "title": f"incident {n}",
        "status": status,
        "urgency": "high",
        "service": {"id": "PSVC1"},
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "last_status_change_at": (created + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "assignments": [],
        "acknowledgements": [],
    }


def test_pagerduty_pages_windows_429_service_filter_and_log_entries(tmp_path: Path) -> None:
    # 250 incidents spread over 400 days: windows of <= 179 days, pages of 100, one 429 first.
    incidents = [
        _pd_incident(n, NOW - dt.timedelta(days=399) + dt.timedelta(days=n * 1.5))
        for n in range(250)
        if NOW - dt.timedelta(days=399) + dt.timedelta(days=n * 1.5) < NOW
    ]
    calls = {"incidents": 0, "429": 0}

    def handler(path: str, headers: dict[str, str]) -> Reply:
        assert headers["Authorization"] == "Token token=secret-token"
        route, q = _query(path)
        if route.endswith("/log_entries"):
            iid = route.split("/")[2]
            inc = next(i for i in incidents if i["id"] == iid)
            return Reply(
                body={
                    "log_entries": [
                        {"type": "acknowledge_log_entry", "created_at": inc["created_at"]},
                        {"type": "resolve_log_entry", "created_at": inc["last_status_change_at"]},
                    ],
                    "more": False,
                }
            )
        calls["incidents"] += 1
        if calls["incidents"] == 1:
            calls["429"] += 1
            return Reply(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
        assert q["service_ids[]"] == ["PSVC1"]
        since, until = _ts(q["since"][0]), _ts(q["until"][0])
        assert until - since <= dt.timedelta(days=180), "a window longer than 6 months"
        offset, limit = int(q["offset"][0]), int(q["limit"][0])
        inside = [i for i in incidents if since <= _ts(i["created_at"]) < until]
        page = inside[offset : offset + limit]
        return Reply(body={"incidents": page, "more": offset + limit < len(inside)})

    with ScriptedServer(handler) as server, open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        client = PagerDutyClient(server.url, token="secret-token", **NO_SLEEP)
        report = pagerduty_sync.sync_incidents(
            con, client, source="pagerduty", service_ids=["PSVC1"], backfill_days=400, now=NOW
        )
        windows = [_query(p)[1] for p, _ in server.requests if _query(p)[0] == "/incidents"][1:]
        assert report.windows == 3
        assert report.items == len(incidents)
        assert client.stats.rate_limit_waits == 1
        assert any(int(w["offset"][0]) == 100 for w in windows), "pagination with more"
        (count,) = con.execute("SELECT count(*) FROM raw.pagerduty_incidents").fetchone()
        assert count == len(incidents)
        (logged,) = con.execute(
            "SELECT count(*) FROM raw.pagerduty_incidents WHERE (payload -> '$.log_entries') IS NOT NULL"
        ).fetchone()
        assert logged == len(incidents)
        # A second run re-reads the overlap; log entries of unchanged incidents are not re-fetched.
        before = len([p for p, _ in server.requests if p.count("/log_entries")])
        pagerduty_sync.sync_incidents(
            con, client, source="pagerduty", service_ids=["PSVC1"], backfill_days=400, now=NOW
        )
        after = len([p for p, _ in server.requests if p.count("/log_entries")])
        assert after == before


def test_pagerduty_gives_up_with_one_line_when_429_persists(tmp_path: Path) -> None:
    def handler(path: str, headers: dict[str, str]) -> Reply:
        return Reply(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})

    with ScriptedServer(handler) as server, open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        client = PagerDutyClient(server.url, token="secret-token", **NO_SLEEP)
        with pytest.raises(SourceError) as info:
            pagerduty_sync.sync_incidents(
                con, client, source="pagerduty", backfill_days=30, now=NOW
            )
        assert "PagerDuty gave up" in str(info.value) and "secret-token" not in str(info.value)
        assert "\n" not in str(info.value)
        (count,) = con.execute("SELECT count(*) FROM raw.pagerduty_incidents").fetchone()
        assert count == 0


# --- real payloads ---------------------------------------------------------------------------


def _devlake_items(shared: Path, tool: str, table: str) -> list[dict]:
    csv.field_size_limit(1 << 30)
    path = shared / "devlake-e2e" / tool / "raw_tables" / f"_raw_{tool}_{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


def _statuspage_items(shared: Path) -> tuple[dict, list[dict]]:
    path = shared / "incidents-githubstatus" / "incidents.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return lines[0]["page"], [line["incident"] for line in lines]


def _land_real_incidents(shared: Path, warehouse: Path) -> dict:
    pd_items = _devlake_items(shared, "pagerduty", "incidents")
    og_items = _devlake_items(shared, "opsgenie", "incidents")
    page, sp_items = _statuspage_items(shared)
    newest = max(_ts(i["createdAt"]) for i in og_items)

    def handler(path: str, headers: dict[str, str]) -> Reply:
        route, q = _query(path)
        if route == "/incidents":  # PagerDuty: the items created in the window
            since, until = _ts(q["since"][0]), _ts(q["until"][0])
            inside = [i for i in pd_items if since <= _ts(i["created_at"]) < until]
            return Reply(body={"incidents": inside, "more": False})
        if route == "/v1/incidents":  # Opsgenie: one item per page, paging.next
            assert headers["Authorization"] == "GenieKey og-key"
            offset = int(q.get("offset", ["0"])[0])
            body = {"data": og_items[offset : offset + 1], "paging": {}, "took": 0.01}
            if offset + 1 < len(og_items):
                body["paging"]["next"] = f"/v1/incidents?offset={offset + 1}&limit=1"
            return Reply(body=body)
        if route == "/api/v2/incidents.json":  # Statuspage public API, page by page
            number, size = int(q["page"][0]), int(q["per_page"][0])
            chunk = sp_items[(number - 1) * size : number * size]
            return Reply(body={"page": page, "incidents": chunk})
        return Reply(404, {"error": {"message": "not found"}})

    with ScriptedServer(handler) as server, open_warehouse(warehouse) as con:
        ensure_raw_tables(con)
        for table, columns in ORG_TABLES.items():
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({columns})")
        pd_client = PagerDutyClient(server.url, token="t", **NO_SLEEP)
        # the items carry their log entries already (DevLake's shape): none are fetched
        pd = pagerduty_sync.sync_incidents(
            con,
            pd_client,
            source="pagerduty",
            backfill_days=3650,
            now=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        )
        og_client = opsgenie.OpsgenieClient(server.url, api_key="og-key", **NO_SLEEP)
        og = opsgenie.sync_incidents(
            con, og_client, source="opsgenie", backfill_days=30, now=newest + dt.timedelta(days=1)
        )
        sp_client = statuspage.StatuspageClient(server.url, **NO_SLEEP)
        sp = statuspage.sync_incidents(con, sp_client, source="githubstatus")
    return {"pd": (pd, pd_items), "og": (og, og_items), "sp": (sp, sp_items)}


def test_real_incidents_land_and_recovery_times_survive_dbt(
    shared_real: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    landed = _land_real_incidents(shared_real, warehouse)
    pd, pd_items = landed["pd"]
    og, og_items = landed["og"]
    sp, sp_items = landed["sp"]
    assert pd.items == len(pd_items) == 3
    assert og.items == len(og_items) == 2 and og.pages == 2
    assert sp.items == len(sp_items) == 1282

    result = run_dbt(["run", "--select", "+fct_incidents"], warehouse, tmp_path / "t")
    assert result.success, failures(result)
    tested = "int_incidents_unified stg_statuspage__incidents stg_opsgenie__incidents"
    result = run_dbt(["test", "--select", *tested.split()], warehouse, tmp_path / "t")
    assert result.success, failures(result)

    rows = query(
        warehouse,
        "select external_id, epoch(resolved_at) - epoch(started_at) from intermediate.int_incidents_unified "
        "where source = 'statuspage'",
    )
    got = dict(rows)
    assert len(got) == 1282
    for incident in sp_items:
        start = _ts(incident["started_at"] or incident["created_at"])
        expected = (_ts(incident["resolved_at"]) - start).total_seconds()
        assert got[incident["id"]] == pytest.approx(expected, abs=0.001), incident["id"]

    # fct_incidents (every counted incident, DORA): the same recovery time in hours, to the second.
    fct = dict(
        query(
            warehouse,
            "select incident_id, recovery_hours from marts.fct_incidents where source = 'statuspage'",
        )
    )
    assert len(fct) == 1282
    assert all(
        fct[f"githubstatus:{k}"] == pytest.approx(v / 3600, abs=1.001 / 3600)
        for k, v in got.items()
    )

    pd_rows = {
        r[0]: r[1:]
        for r in query(
            warehouse,
            "select external_id, status, started_at, acknowledged_at, resolved_at "
            "from intermediate.int_incidents_unified where source = 'pagerduty'",
        )
    }
    assert set(pd_rows) == {i["id"] for i in pd_items}
    for item in pd_items:
        _status, started, acked, resolved = pd_rows[item["id"]]
        assert started == _ts(item["created_at"])
        acks = [e for e in item.get("log_entries") or [] if e["type"] == "acknowledge_log_entry"]
        if acks:
            assert acked == min(_ts(e["created_at"]) for e in acks)
        if item["status"] == "resolved":
            assert resolved is not None
        else:
            assert resolved is None
    og_rows = dict(
        query(
            warehouse,
            "select external_id, title from intermediate.int_incidents_unified where source = 'opsgenie'",
        )
    )
    assert og_rows == {i["id"]: i["message"] for i in og_items}


# --- file import -----------------------------------------------------------------------------

COLUMNS = {
    "id": "Number",
    "title": "Short description",
    "service": "Configuration item",
    "severity": "Priority",
    "started_at": "Opened",
    "resolved_at": "Resolved",
    "commit_sha": "Caused by commit",
}
HEADER = "Number,Short description,Configuration item,Priority,Opened,Resolved,Caused by commit,Assigned to\n"


def test_file_import_maps_columns_and_lands_each_file_whole(tmp_path: Path) -> None:
    good = tmp_path / "snow.csv"
    good.write_text(
        HEADER
        + "INC001,Checkout down,checkout,1 - Critical,2024-03-05 12:00:00,2024-03-05T13:00:00Z,abc1234,ann@example.com\n"
        + "INC002,Slow search,search,3 - Moderate,2024-03-06T08:00:00+01:00,,,bob@example.com\n",
        encoding="utf-8",
    )
    jsonl = tmp_path / "jira.jsonl"
    jsonl.write_text(
        json.dumps({"key": "OPS-1", "created": "2024-03-07T10:00:00Z", "summary": "Queue stuck"})
        + "\n",
        encoding="utf-8",
    )
    with open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        report = incident_files.import_files(con, good, COLUMNS, source="servicenow")
        assert (report.files, report.items) == (1, 2)
        jira = {"id": "key", "started_at": "created", "title": "summary"}
        incident_files.import_files(con, jsonl, jira, source="jira")
        payloads = [
            json.loads(p)
            for (p,) in con.execute(
                "SELECT payload FROM raw.incident_file_rows ORDER BY natural_key"
            ).fetchall()
        ]
    assert payloads[0]["started_at"] == "2024-03-05T12:00:00+00:00"
    assert (
        payloads[1]["started_at"] == "2024-03-06T07:00:00+00:00"
        and payloads[1]["resolved_at"] is None
    )
    assert payloads[2]["id"] == "OPS-1"
    assert not any("example.com" in json.dumps(p) for p in payloads), (
        "unmapped columns are not kept"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "the file is empty"),
        (HEADER, "no rows"),
        (HEADER.replace("Opened", "Created"), "column 'Opened' (mapped to started_at) is missing"),
        (
            HEADER + "INC1,a,b,c,yesterday,,,x\n",
            "row 2, column 'Opened': 'yesterday' is not an ISO-8601",
        ),
        (
            HEADER + "INC1,a,b,c,2024-03-05,,,x\nINC1,a,b,c,2024-03-06,,,x\n",
            "row 3, column 'Number': id 'INC1' already on row 2",
        ),
        (HEADER + ",a,b,c,2024-03-05,,,x\n", "row 2, column 'Number': empty id"),
    ],
)
def test_bad_incident_file_lands_nothing_and_names_row_and_column(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        with pytest.raises(incident_files.IncidentFileError) as info:
            incident_files.import_files(con, path, COLUMNS, source="servicenow")
        (count,) = con.execute("SELECT count(*) FROM raw.incident_file_rows").fetchone()
    assert message in str(info.value) and str(path) in str(info.value)
    assert count == 0
