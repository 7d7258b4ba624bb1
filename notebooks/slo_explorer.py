"""Pick an SLO; see attainment, error budget and burn over time; try another target or window.

    marimo edit --skip-update-check notebooks/slo_explorer.py -- [--config org.yaml] [--warehouse snapshot.duckdb]
    python notebooks/slo_explorer.py      # headless

Recomputed from marts.fct_sli_intervals with the formulas of pipelines/slo/budget.py (the ones the
SLO marts are tested against), so another target or window shows what the marts would say.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full")

with app.setup:
    import marimo as mo
    import plotly.express as px

    from pipelines.notebook_support import (
        connect_snapshot,
        notebook_paths,
        slo_catalogue,
        slo_series,
    )


@app.cell
def _():
    _config_path, warehouse_path = notebook_paths(mo.cli_args())
    return (warehouse_path,)


@app.cell
def _(warehouse_path):
    con = connect_snapshot(warehouse_path)
    catalogue = slo_catalogue(con)
    mo.md(f"# SLO explorer\n\nSnapshot: `{warehouse_path}`")
    return catalogue, con


@app.cell
def _(catalogue):
    slo_picker = mo.ui.dropdown(
        options=list(catalogue["slo"]), value=catalogue["slo"].iloc[0], label="SLO"
    )
    slo_picker  # noqa: B018 - the cell shows it
    return (slo_picker,)


@app.cell
def _(catalogue, slo_picker):
    _row = catalogue.set_index("slo").loc[slo_picker.value]
    target_input = mo.ui.number(
        start=0.5, stop=0.99999, step=0.0005, value=float(_row["target"]), label="Target"
    )
    window_input = mo.ui.slider(
        start=1, stop=90, step=1, value=max(1, round(_row["period_hours"] / 24)),
        label="Window (days)", show_value=True,
    )  # fmt: skip
    mo.hstack([target_input, window_input], justify="start")
    return target_input, window_input


@app.cell
def _(con, slo_picker, target_input, window_input):
    slo = slo_picker.value
    target = target_input.value
    window_days = window_input.value
    series = slo_series(con, slo, target=target, window_days=window_days)
    _last = series.iloc[-1] if len(series) else None
    mo.md(
        f"**{slo}** at target {target:.4%} over {window_days} days: attainment "
        f"**{_last['attainment']:.4%}**, budget remaining **{_last['budget_remaining']:.1%}**."
        if _last is not None and _last["attainment"] is not None
        else f"**{slo}**: no data."
    )
    return series, slo, target, window_days


@app.cell
def _(series, target):
    mo.vstack(
        [
            px.line(series, x="day", y="attainment", title="Attainment over the trailing window")
            .add_hline(y=target, line_dash="dot"),
            px.line(series, x="day", y="budget_remaining", title="Error budget remaining")
            .add_hline(y=0, line_dash="dot"),
            px.bar(series, x="day", y="burn_rate", title="Daily burn rate (1 = on budget)"),
        ]
    )  # fmt: skip
    return


if __name__ == "__main__":
    app.run()
