"""Try a metric definition on a scratch copy of the warehouse, see what changes, then keep it.

    marimo edit --skip-update-check notebooks/tune_definitions.py -- --config org.yaml [--warehouse snapshot.duckdb]
        [--dbt-project other-checkout/dbt]
    python notebooks/tune_definitions.py --config org.yaml      # headless: current definitions

The logic is in pipelines/tuning.py; this notebook is the UI.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full")

with app.setup:
    from pathlib import Path

    import marimo as mo

    from pipelines import tuning
    from pipelines.config import load_config
    from pipelines.notebook_support import notebook_paths


@app.cell
def _():
    config_path, warehouse_path = notebook_paths(mo.cli_args())
    # --dbt-project: try the models of another checkout (default: this repository's dbt/).
    dbt_project = Path(mo.cli_args().get("dbt-project") or tuning.DBT_PROJECT_DIR)
    return config_path, dbt_project, warehouse_path


@app.cell
def _(config_path, warehouse_path):
    config = load_config(config_path)
    current = tuning.knobs_from_config(config)
    mo.md(
        f"""
    # Tune the metric definitions

    Definitions from **`{config_path}`**; the marts are rebuilt on a *scratch copy* of
    **`{warehouse_path}`** (deleted afterwards; the live warehouse is never touched).
    Change a knob and press **Recompute**.
    {"(This is the embedded demo's file: writing back edits the repository's demo.)" if config.is_demo else ""}
    """
    )
    return config, current


@app.cell
def _(current):
    controls = mo.ui.dictionary(
        {
            "environment_regex": mo.ui.text(
                value=current.environment_regex,
                label="Production environment regex",
                full_width=True,
            ),
            "workflow_regex": mo.ui.text(
                value=current.workflow_regex, label="Deployment workflow regex", full_width=True
            ),
            "exclude_regex": mo.ui.text(
                value=current.exclude_regex, label="Exclude workflows regex", full_width=True
            ),
            "incident_window_hours": mo.ui.number(
                start=1,
                stop=24 * 14,
                step=1,
                value=current.incident_window_hours,
                label="Incident attribution window (hours)",
            ),
            "lead_time_start": mo.ui.dropdown(
                options=["first_commit", "pr_opened"],
                value=current.lead_time_start,
                label="Lead time starts at",
            ),
            "bot_authors_regex": mo.ui.text(
                value=current.bot_authors_regex,
                label="Bot authors regex (not changes)",
                full_width=True,
            ),
            "benchmark": mo.ui.dropdown(
                options=["dora_2024", "dora_2023", "dora_2021"],
                value=current.benchmark,
                label="Benchmark preset",
            ),
        }
    ).form(submit_button_label="Recompute on a scratch copy")
    controls  # noqa: B018 - the cell shows it
    return (controls,)


@app.cell
def _(controls, current):
    # Headless (a script, a test) the form is never submitted: the current definitions.
    knobs = tuning.Knobs(**controls.value) if controls.value else current
    return (knobs,)


@app.cell
def _(config, dbt_project, knobs, warehouse_path):
    tuned_config = tuning.apply_knobs(config, knobs)
    changed = tuning.changed_knobs(config, knobs)
    with mo.status.spinner("dbt build on a scratch copy ..."):
        result = tuning.recompute(warehouse_path, tuned_config, project_dir=dbt_project)
    mo.md(
        "**Changed knobs:** "
        + (", ".join(f"`{k}` = `{v!r}`" for k, v in changed.items()) or "none")
    )
    return changed, result


@app.cell
def _(result):
    measures = ["deployments", "change_failure_rate", "lead_time_p50_hours", "attributed_incidents"]
    team_table = result.teams[
        [f"{m}_{s}" for m in measures for s in ("before", "after", "delta")]
        + ["level_before", "level_after"]
    ].round(3)
    mo.vstack([mo.md("## Before and after, per team"), mo.ui.table(team_table.reset_index())])
    return (team_table,)


@app.cell
def _(result):
    counts = result.counts()
    mo.vstack(
        [
            mo.md(
                "## Rows that changed classification\n\n"
                + ", ".join(f"{table}: **{n}**" for table, n in counts.items())
            ),
            mo.ui.tabs(
                {
                    table: mo.ui.table(df.astype({"changed_columns": str}), page_size=10)
                    for table, df in result.changes.items()
                }
            ),
        ]
    )
    return (counts,)


@app.cell
def _(config, config_path, knobs):
    _new_text, preview = tuning.definitions_diff(config_path, config, knobs)
    save = mo.ui.run_button(label=f"Write these definitions to {config_path.name}")
    mo.vstack(
        [
            mo.md("## Keep it"),
            mo.md(f"```diff\n{preview}\n```" if preview else "_The definitions are unchanged._"),
            save,
        ]
    )
    return preview, save


@app.cell
def _(config, config_path, knobs, save):
    written = tuning.write_definitions(config_path, config, knobs) if save.value else None
    mo.md(f"Written to `{config_path}`:\n```diff\n{written}\n```") if written else None
    return (written,)


if __name__ == "__main__":
    app.run()
