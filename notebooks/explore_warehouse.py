"""Explore the analysts' snapshot: the data dictionary, example questions in SQL, charts.

    marimo edit --skip-update-check notebooks/explore_warehouse.py -- [--config org.yaml] [--warehouse snapshot.duckdb]
        [--manifest build/dbt-target/manifest.json]
    python notebooks/explore_warehouse.py      # headless

Reads the published snapshot read-only (never the pipeline's live file). SQL: pipelines/notebook_support.py.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full")

with app.setup:
    from pathlib import Path

    import marimo as mo
    import plotly.express as px

    from pipelines.notebook_support import (
        LEAD_TIME_GROWTH_SQL,
        REPO_ROOT,
        UNATTRIBUTED_SQL,
        connect_snapshot,
        data_dictionary,
        notebook_paths,
    )


@app.cell
def _():
    _config_path, warehouse_path = notebook_paths(mo.cli_args())
    manifest_path = Path(
        mo.cli_args().get("manifest") or REPO_ROOT / "build" / "dbt-target" / "manifest.json"
    )
    return manifest_path, warehouse_path


@app.cell
def _(warehouse_path):
    con = connect_snapshot(warehouse_path)
    mo.md(f"# The warehouse\n\nSnapshot: `{warehouse_path}` (read-only)")
    return (con,)


@app.cell
def _(con, manifest_path):
    dictionary = data_dictionary(manifest_path, con)
    table_picker = mo.ui.dropdown(
        options=sorted(dictionary["table"].unique()), value="fct_deployments", label="Table"
    )
    return dictionary, table_picker


@app.cell
def _(dictionary, table_picker):
    _rows = dictionary[dictionary["table"] == table_picker.value]
    mo.vstack(
        [
            mo.md("## Data dictionary (schema `marts`)"),
            table_picker,
            mo.md(_rows["table_description"].iloc[0] if len(_rows) else ""),
            mo.ui.table(_rows[["column", "type", "description"]], page_size=25),
        ]
    )
    return


@app.cell
def _(con):
    lead_time_growth = con.execute(LEAD_TIME_GROWTH_SQL).df()
    _top = lead_time_growth.head(1)
    _stages = ["coding_growth", "pickup_growth", "review_growth", "deploy_growth"]
    if len(_top):
        _row = _top.iloc[0]
        _why = max(_stages, key=lambda s: _row[s] if _row[s] == _row[s] else float("-inf"))
        _answer = (
            f"**{_row['team']}**: median lead time {_row['lead_time_p50_before']} h -> "
            f"{_row['lead_time_p50_now']} h; the stage that grew most: **{_why.removesuffix('_growth')}**."
        )
        _chart = px.bar(
            lead_time_growth.melt(id_vars="team", value_vars=_stages),
            x="team", y="value", color="variable", barmode="group",
            labels={"value": "median hours, change vs previous quarter"},
        )  # fmt: skip
    else:
        _answer, _chart = (
            "_Not enough history: two quarters with deployed changes are needed._",
            None,
        )
    mo.vstack(
        [
            mo.md("## Which team's lead time grew most this quarter, and why?"),
            mo.md(f"```sql\n{LEAD_TIME_GROWTH_SQL.strip()}\n```"),
            mo.md(_answer),
            mo.ui.table(lead_time_growth),
            _chart,
        ]
    )
    return (lead_time_growth,)


@app.cell
def _(con):
    unattributed = con.execute(UNATTRIBUTED_SQL).df()
    _reasons = unattributed.groupby("reason").size().rename("incidents").reset_index()
    mo.vstack(
        [
            mo.md("## Which incidents were not attributed to a deployment, and why?"),
            mo.md(f"```sql\n{UNATTRIBUTED_SQL.strip()}\n```"),
            mo.ui.table(_reasons),
            px.bar(_reasons, x="reason", y="incidents") if len(_reasons) else None,
            mo.ui.table(unattributed, page_size=10),
        ]
    )
    return (unattributed,)


@app.cell
def _(con):
    monthly = con.execute(
        "SELECT period_start, deployments, lead_time_p50_hours, change_failure_rate, "
        "recovery_time_p50_hours FROM marts.metrics_dora_monthly "
        "WHERE scope = 'org' AND is_complete ORDER BY period_start"
    ).df()
    _long = monthly.melt(id_vars="period_start", var_name="metric")
    mo.vstack(
        [
            mo.md("## The organisation's DORA metrics per complete month"),
            px.line(
                _long, x="period_start", y="value", facet_row="metric", height=700
            ).update_yaxes(matches=None),
        ]
    )
    return (monthly,)


@app.cell
def _():
    query = mo.ui.code_editor(
        value="SELECT team, count(*) AS deployments\nFROM marts.fct_deployments\nGROUP BY team",
        language="sql",
    )
    mo.vstack([mo.md("## Your own query"), query])
    return (query,)


@app.cell
def _(con, query):
    mo.ui.table(con.execute(query.value).df()) if query.value.strip() else None
    return


if __name__ == "__main__":
    app.run()
