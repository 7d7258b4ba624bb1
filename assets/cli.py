"""``platform-metrics``: run the pipeline, validate a config, serve the Dagster UI.

Errors a user can cause print one line (``error: <file>: <key>: <what>``) and exit non-zero; they
never print a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import (
    CONFIG_ENV_VAR,
    DEMO_CONFIG_PATH,
    WAREHOUSE_ENV_VAR,
    Config,
    load_config,
)
from pipelines.errors import ConfigError, PlatformMetricsError
from pipelines.sources import all_sources

DAGSTER_HOME_DEFAULT = Path("build") / "dagster_home"
# Names Dagster itself uses inside a home: an organisation called "storage" must not land in them.
_DAGSTER_HOME_ENTRIES = {"history", "storage", "schedules", "logs", "compute_logs"}
DAGSTER_YAML = """\
# Written by platform-metrics. No usage telemetry: the warehouse holds survey answers.
telemetry:
  enabled: false
# DuckDB has one writer process at a time: every asset that touches the warehouse is in the
# 'warehouse' pool, and pools run one step at a time.
concurrency:
  pools:
    default_limit: 1
# Under `serve` the daemon fails runs stuck starting or cancelling and frees the pool slots that
# ended runs still hold. The default run launcher cannot check a run's worker, so a run whose
# process died while STARTED is found by the dead_run_recovery sensor or the next start of
# platform-metrics (assets/run_recovery.py).
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
  free_slots_after_run_end_seconds: 60
"""
_EXIT_CODES = {
    "ConfigError": 2,
    "SurveyFileError": 2,
    "SourceError": 3,
    "SourceAuthError": 3,
    "SourceNotFoundError": 3,
    "WarehouseError": 4,
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except PlatformMetricsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-metrics",
        description="A warehouse of platform-engineering metrics (DORA, DevEx, platform value, SLOs).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole pipeline on the embedded demo organisation")
    demo.set_defaults(handler=_cmd_demo)

    run = sub.add_parser("run", help="run the whole pipeline for an organisation")
    run.add_argument("--config", required=True, type=Path, help="organisation YAML file")
    run.set_defaults(handler=_cmd_run)
    for command in (demo, run):
        command.add_argument(
            "--full-refresh",
            action="store_true",
            help="rebuild the incremental dbt models from the raw layer instead of adding the "
            "rows fetched since the last run",
        )

    init = sub.add_parser(
        "init",
        help="discover a GitHub organisation and write a proposed, commented configuration",
    )
    init.add_argument("--org", required=True, help="the GitHub organisation to discover")
    init.add_argument(
        "--token-env",
        default="GITHUB_TOKEN",
        help="environment variable holding a read-only token (default: GITHUB_TOKEN)",
    )
    init.add_argument(
        "--base-url",
        default="https://api.github.com",
        help="the GitHub API root (Enterprise Server: https://HOST/api/v3)",
    )
    init.add_argument(
        "--out", type=Path, help="where to write the configuration (default: build/<org>.yaml)"
    )
    init.add_argument("--force", action="store_true", help="replace an existing --out file")
    init.set_defaults(handler=_cmd_init)

    validate = sub.add_parser(
        "validate", help="check a configuration file and say what it describes"
    )
    validate.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    validate.set_defaults(handler=_cmd_validate)

    resync = sub.add_parser(
        "resync", help="forget a repository's sync cursors (next run re-reads it)"
    )
    resync.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    resync.add_argument("--repository", required=True, help="owner/name")
    resync.add_argument(
        "--source",
        default="github",
        help="name of a partitioned source instance, GitHub or GitLab (default: github)",
    )
    resync.set_defaults(handler=_cmd_resync)

    plan = sub.add_parser(
        "plan",
        help="estimate the GitHub requests, GraphQL points and token-hours a first sync will cost",
    )
    plan.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    plan.add_argument("--json", action="store_true", help="print JSON instead of the table")
    plan.set_defaults(handler=_cmd_plan)

    sources = sub.add_parser(
        "sources",
        help="list the registered sources, their raw tables, and what the configuration enables",
    )
    sources.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    sources.add_argument("--json", action="store_true", help="print JSON (one object per source)")
    sources.set_defaults(handler=_cmd_sources)

    exporter = sub.add_parser(
        "exporter",
        help="serve the metrics to Prometheus (/metrics, /healthz) from the analysts' snapshot",
    )
    exporter.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    exporter.add_argument(
        "--snapshot",
        type=Path,
        help="the snapshot's DuckDB file (default: <publish.snapshot_dir>/warehouse.duckdb)",
    )
    exporter.add_argument("--host", default="127.0.0.1", help="address to listen on")
    exporter.add_argument("--port", type=int, default=9464, help="port (default: 9464)")
    exporter.set_defaults(handler=_cmd_exporter)

    export_raw = sub.add_parser(
        "export-raw",
        help="write every raw table as Parquet (one folder per table) for dbt's spark target",
    )
    export_raw.add_argument(
        "--config", type=Path, help="organisation YAML file (default: the demo)"
    )
    export_raw.add_argument(
        "--format", choices=["parquet"], default="parquet", help="file format (default: parquet)"
    )
    export_raw.add_argument(
        "--out",
        required=True,
        type=Path,
        help="the export's folder: new, empty, or a previous export (replaced whole, atomically)",
    )
    export_raw.add_argument(
        "--warehouse",
        type=Path,
        help="the DuckDB file to read, opened read-only (default: the published snapshot, "
        "<publish.snapshot_dir>/warehouse.duckdb)",
    )
    export_raw.set_defaults(handler=_cmd_export_raw)

    spark = sub.add_parser(
        "spark-build",
        help="dbt build on a local Spark session (the spark target), commit ancestry included",
    )
    spark.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    spark.add_argument(
        "--raw-parquet",
        required=True,
        type=Path,
        help="the raw layer as written by export-raw",
    )
    spark.add_argument(
        "--spark-dir",
        required=True,
        type=Path,
        help="the session's metastore, tables and scratch files (created if missing)",
    )
    spark.add_argument(
        "--command", choices=["build", "run"], default="build", help="dbt command (default: build)"
    )
    spark.add_argument(
        "--select", nargs="+", default=[], metavar="SELECTOR", help="dbt selectors (default: all)"
    )
    spark.add_argument("--exclude", nargs="+", default=[], metavar="SELECTOR")
    spark.set_defaults(handler=_cmd_spark_build)

    serve = sub.add_parser("serve", help="Dagster UI and daemon (schedules run) on 127.0.0.1")
    serve.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(handler=_cmd_serve)
    return parser


def _config_path(given: Path | None) -> Path:
    """--config, else $PLATFORM_METRICS_CONFIG, else the embedded demo organisation."""
    return Path(given or os.environ.get(CONFIG_ENV_VAR) or DEMO_CONFIG_PATH)


def _cmd_init(args: argparse.Namespace) -> int:
    """Discover --org, write the proposed configuration (validated before it replaces anything),
    and print what it holds and what a first sync would cost."""
    from pipelines.github.client import GitHubClient
    from pipelines.github.init_org import discover, render_config
    from pipelines.github.plan import format_plan, plan_organisation
    from pipelines.http import RetryPolicy

    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", args.org):
        raise ConfigError(
            f"--org {args.org!r}: not a GitHub organisation name (letters, digits, -)"
        )
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.token_env):
        raise ConfigError(f"--token-env {args.token_env!r}: not an environment variable name")
    token = os.environ.get(args.token_env)
    if not token:
        raise ConfigError(
            f"--token-env {args.token_env}: ${args.token_env} is not set; export a token with read "
            "access to the organisation (docs/sources/github.md#token)"
        )
    out = args.out or Path("build") / f"{args.org.lower()}.yaml"
    if out.exists() and not args.force:
        raise ConfigError(f"--out {out}: already exists; pass --force to replace it")
    client = GitHubClient(args.base_url, token=token, retry=RetryPolicy(max_retries=2))
    try:
        found = discover(client, args.org)
    finally:
        client.close()
    text = render_config(found, base_url=args.base_url, token_env=args.token_env)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Validated under a temporary name beside the target (its relative paths resolve the same),
    # then renamed: a config that does not validate never replaces anything.
    partial = out.with_name(f".{out.name}.{os.getpid()}.yaml")
    partial.write_text(text, encoding="utf-8")
    try:
        config = load_config(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    teams = sorted({s.team for s in config.services})
    print(
        f"wrote {out}: {len(config.services)} services of {len(teams)} teams, "
        f"{len(found.repositories)} repositories ({found.archived} archived left out); "
        f"environments: {', '.join(sorted(found.environments)) or 'none'}; "
        f"workflows: {len(found.workflows)} distinct names"
    )
    for note in found.notes:
        print(f"note: {note}")
    if found.per_repository:
        print(format_plan(plan_organisation(load_config(out))))
    else:
        print(
            f"cost: not estimated for {len(found.repositories):,} repositories here (it probes "
            f"each one); narrow the config, then run: platform-metrics plan --config {out}"
        )
    print(f"next: review {out}, then platform-metrics run --config {out}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = load_config(path)
    sources = [
        f"{source.name}:{name}" if source.many else source.name
        for source in all_sources()
        if source.config_key is not None
        for name in source.instance_names(config)
    ]
    repos = sum(len(s.repositories) for s in config.services)
    print(
        f"ok: {path}: {config.organisation.name}: {len(config.teams)} teams, "
        f"{len(config.services)} services, {repos} repositories; sources: {', '.join(sources) or 'none'}"
        + ("; demo organisation (fake API)" if config.is_demo else "")
    )
    return 0


def source_rows(config: Config) -> list[dict[str, object]]:
    """One row per registered source: what ``platform-metrics sources`` prints."""
    rows = []
    for source in all_sources():
        instances = source.instance_names(config)
        rows.append(
            {
                "name": source.name,
                "description": source.description,
                "config_key": f"sources.{source.config_key}" if source.config_key else None,
                "partitioning": str(source.partitioning),
                "asset": source.asset_name,
                "raw_tables": list(source.table_names),
                "enabled": source.enabled(config),
                "instances": instances,
            }
        )
    return rows


def _cmd_sources(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    rows = source_rows(load_config(path))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{len(rows)} registered sources; configuration: {path}")
    for row in rows:
        instances = row["instances"]
        if row["enabled"]:
            state = f"enabled, {len(instances)} instance{'s' if len(instances) != 1 else ''}"
            state += f" ({', '.join(instances)})" if instances else ""
        else:
            state = "not configured"
        where = f"; configured in {row['config_key']}" if row["config_key"] else ""
        print()
        print(f"{row['name']}: {state}")
        print(f"  {row['description']}")
        print(f"  partitioning: {row['partitioning']}; asset: {row['asset']}{where}")
        print(f"  raw tables: {', '.join('raw.' + t for t in row['raw_tables'])}")
    return 0


def _request_full_refresh(args: argparse.Namespace) -> None:
    """``--full-refresh``: the dbt asset of this process's run passes it on to dbt build."""
    from assets.dbt import FULL_REFRESH_ENV_VAR

    if getattr(args, "full_refresh", False):
        os.environ[FULL_REFRESH_ENV_VAR] = "1"
    else:
        os.environ.pop(FULL_REFRESH_ENV_VAR, None)


def _cmd_demo(args: argparse.Namespace) -> int:
    _request_full_refresh(args)
    return _run(load_config(DEMO_CONFIG_PATH), config_path=DEMO_CONFIG_PATH)


def _cmd_run(args: argparse.Namespace) -> int:
    _request_full_refresh(args)
    return _run(load_config(args.config), config_path=args.config)


def _cmd_resync(args: argparse.Namespace) -> int:
    from pipelines.warehouse import open_warehouse, reset_sync_state

    config = load_config(_config_path(args.config))
    # Instances of the partitioned sources (GitHub): a partition's cursors are keyed by
    # (instance name, scope), and the source says which scopes are its own.
    instances = {
        name: (source, instance)
        for source in all_sources()
        if source.partitioned
        for name, instance in zip(
            source.instance_names(config), source.instances(config), strict=True
        )
    }
    if args.source not in instances:
        raise ConfigError(
            f"--source {args.source!r}: not a partitioned source (such as a GitHub source) in the "
            f"config ({sorted(instances)})"
        )
    source, instance = instances[args.source]
    if source.check_scope is not None:
        source.check_scope(config, instance, args.repository)
    with open_warehouse(config.warehouse_path()) as con:
        reset_sync_state(con, args.source, args.repository)
    print(f"{args.repository}: sync cursors cleared; the next run re-reads its history")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    import json

    from pipelines.github.plan import format_plan, plan_organisation

    config = load_config(_config_path(args.config))
    if not config.sources.github:
        raise ConfigError("plan: the config has no sources.github; nothing to estimate")
    plans = plan_organisation(config)
    if args.json:
        print(json.dumps([p.as_dict() for p in plans], indent=2))
    else:
        print(format_plan(plans))
    return 0


def _cmd_exporter(args: argparse.Namespace) -> int:
    import signal

    from dashboards.exporter import make_exporter_server, snapshot_file

    if args.snapshot:
        path = args.snapshot
    else:
        path = snapshot_file(load_config(_config_path(args.config)).publish.snapshot_dir)
    try:
        server, collector = make_exporter_server(path.absolute(), args.host, args.port)
    except OSError as exc:
        raise ConfigError(
            f"--host/--port: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})"
        ) from None
    host, port = server.server_address[:2]
    print(f"Serving the metrics of {path} on http://{host}:{port}/metrics (health: /healthz)")
    if not collector.loaded:
        print(f"warning: {collector.problem}; serving only the exporter's own metrics until then")
    sys.stdout.flush()

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("exporter stopped")
    return 0


def _cmd_spark_build(args: argparse.Namespace) -> int:
    from pipelines.definitions import dbt_vars
    from pipelines.spark_build import spark_build

    config = load_config(_config_path(args.config))
    claims = spark_build(
        spark_dir=args.spark_dir,
        raw_parquet=args.raw_parquet,
        variables=json.dumps(dbt_vars(config)),
        command=args.command,
        select=args.select,
        exclude=args.exclude,
    )
    print(f"spark {args.command} done: {claims} commits attributed to deployments")
    return 0


def _cmd_export_raw(args: argparse.Namespace) -> int:
    from dashboards.publish import SNAPSHOT_FILE
    from pipelines.raw_export import export_raw_file

    if args.warehouse:
        path = args.warehouse
    else:
        path = Path(load_config(_config_path(args.config)).publish.snapshot_dir) / SNAPSHOT_FILE
    export = export_raw_file(path, args.out)
    print(
        f"exported {len(export.row_counts)} raw tables ({export.rows} rows) from {path} "
        f"to {export.root} in {export.seconds:.2f} s"
    )
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    config_path = _config_path(args.config)
    config = load_config(config_path)  # fail here, in one line, rather than inside the UI
    env = _prepare_environment(config, config_path)
    import dagster as dg

    # The daemon's run monitoring cannot see a run whose worker died (see DAGSTER_YAML): clean up
    # what the last session left before the UI shows it as running.
    with dg.DagsterInstance.get() as instance:
        _recover_dead_runs(instance)
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "assets.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(args.port),
    ]
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})")
    sys.stdout.flush()
    os.execve(command[0], command, env)
    return 0  # pragma: no cover - execve does not return


def dagster_home(config: Config) -> Path:
    """$DAGSTER_HOME when set, else build/dagster_home/<organisation slug>: organisations never
    share run history or a concurrency pool (a stuck run of one cannot block another)."""
    given = os.environ.get("DAGSTER_HOME")
    if given:
        return Path(given).resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", config.organisation.name.lower()).strip("-") or "organisation"
    if slug in _DAGSTER_HOME_ENTRIES:
        slug += "-org"
    return (DAGSTER_HOME_DEFAULT / slug).resolve()


def _prepare_environment(config: Config, config_path: Path) -> dict[str, str]:
    """Point Dagster at the organisation's home with telemetry off, one writer pool and run
    monitoring; export the config path."""
    home = dagster_home(config)
    home.mkdir(parents=True, exist_ok=True)
    # Always ours: an older or hand-edited file must not lose the single-writer pool or turn
    # telemetry back on. Replaced atomically: a run starting at the same moment reads either file.
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text(encoding="utf-8") != DAGSTER_YAML:
        partial = home / f".dagster.yaml.{os.getpid()}"
        partial.write_text(DAGSTER_YAML, encoding="utf-8")
        partial.replace(target)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[CONFIG_ENV_VAR] = str(Path(config_path).resolve())
    return dict(os.environ)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _recover_dead_runs(instance, say=_say) -> None:
    from assets.run_recovery import recover_dead_runs

    for recovered in recover_dead_runs(instance):
        say(recovered.line())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("platform-metrics")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _run(config: Config, *, config_path: Path) -> int:
    """Run the pipeline with a quiet console: phase lines, progress, a closing summary; Dagster's
    and dbt's full output in build/logs/. Returns the exit code."""
    from assets.console import log_path, output_to

    _prepare_environment(config, config_path)
    warehouse = Path(config.warehouse_path()).resolve()
    os.environ[WAREHOUSE_ENV_VAR] = str(warehouse)
    log = log_path(dagster_home(config).name)
    # SIGTERM (systemd, kill) stops a run as Ctrl-C does: steps roll back, slots are released.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with output_to(log) as console_stream:
            quiet = run_quietly(config, console_stream, log=log)
    finally:
        signal.signal(signal.SIGTERM, previous)
    outcome = quiet.outcome
    for line in quiet.summary:
        print(line)
    if not outcome.success:
        failed = outcome.github_failed
        name, message = _first_failure(next(iter(failed.values())) if failed else outcome.refresh)
        print(f"error: {message}", file=sys.stderr)
        if failed:
            print(
                f"GitHub: {len(failed)} of {len(failed) + len(outcome.github_synced)} repositories "
                f"failed ({', '.join(sorted(failed))}); the others are synced, and a rerun "
                "retries the failed ones (synced ones cost a few conditional requests).",
                file=sys.stderr,
            )
        print(
            f"The previous site and snapshot are untouched. Full log: {log}; "
            "run details: platform-metrics serve",
            file=sys.stderr,
        )
        return _EXIT_CODES.get(name, 1)
    return 0


@dataclass
class QuietRun:
    outcome: Any  # assets.runner.PipelineOutcome
    lines: int  # console lines written while running (the summary not included)
    summary: list[str]
    defs: Any  # the dagster Definitions it ran


def run_quietly(config: Config, stream, *, log: Path | None = None, instance=None) -> QuietRun:
    """The pipeline with its console lines on ``stream`` (the summary is returned, not written).
    ``instance`` defaults to the Dagster instance of $DAGSTER_HOME."""
    import dagster as dg

    from assets.console import Console, RunWatcher, step_phases, summary_lines
    from assets.graph import build_definitions
    from assets.ingest import partitioned_sources
    from assets.runner import run_pipeline

    console = Console(stream)
    say = console.line
    say(
        f"platform-metrics {_version()}: {config.organisation.name}"
        + (" (demo organisation, fake API)" if config.is_demo else "")
        + (f"; full log: {log}" if log else "")
    )
    say("loading definitions (dbt parses the project when it changed) ...")
    defs = build_definitions(config)
    phases = step_phases(defs)
    scope = contextlib.nullcontext(instance) if instance is not None else dg.DagsterInstance.get()
    with scope as active:
        _recover_dead_runs(active, say=say)
        if partitioned_sources(config):
            say(f"sync {', '.join(s.name for s in partitioned_sources(config))} ...")
        watcher = RunWatcher(console, active, phases)
        with _demo_history(config, say=say):
            outcome = run_pipeline(
                defs,
                config,
                active,
                run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
                progress=console.status,
                say=say,
                watch=watcher.watch,
            )
    summary = summary_lines(
        outcome,
        phases,
        site=Path(config.publish.site_dir).absolute(),
        snapshot=Path(config.publish.snapshot_dir).absolute(),
        warehouse=Path(config.warehouse_path()).absolute(),
        log=log,
    )
    return QuietRun(outcome, console.lines, summary, defs)


def _demo_history(config: Config, say=_say) -> contextlib.AbstractContextManager[object]:
    """For a demo organisation: one clock for the whole run, and a fresh warehouse when it holds
    another generated history (pipelines/demo/history.py). Nothing for a real organisation."""
    if not config.is_demo:
        return contextlib.nullcontext()
    from pipelines.demo.history import demo_run

    return demo_run(config, say=say)


def _first_failure(result) -> tuple[str, str]:
    """The innermost error of the first failed step, as (class name, one-line message)."""
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        text = _dbt_error(error.message) or (
            error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
        )
        prefix = f"{error.cls_name}: "
        if prefix in text:
            text = text.split(prefix, 1)[1]
        return error.cls_name or "", f"{event.step_key}: {text}"
    return "", "the run failed; see the Dagster run log"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_NODE_ERROR = re.compile(r"^\s*(Runtime|Compilation|Database) Error in ")


def _dbt_error(message: str) -> str | None:
    """dbt's own words for the first failed node, from dagster-dbt's "Errors parsed from dbt logs"
    (``Runtime Error in model m (path): Binder Error: ...``), instead of the first line of the
    exception, which only says that the dbt CLI failed. None when the message holds no such part."""
    if "Errors parsed from dbt logs" not in message:
        return None
    lines = [_ANSI.sub("", line).strip() for line in message.splitlines()]
    for index, line in enumerate(lines):
        if _DBT_NODE_ERROR.match(line):
            cause = next((rest for rest in lines[index + 1 :] if rest), "")
            return f"{line}: {cause}" if cause and cause != "Stack Trace:" else line
    return None


if __name__ == "__main__":
    sys.exit(main())
