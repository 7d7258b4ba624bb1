"""``platform-metrics``: run the pipeline, validate a config, serve the Dagster UI.

Errors a user can cause print one line (``error: <file>: <key>: <what>``) and exit non-zero; they
never print a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from pipelines.config import (
    CONFIG_ENV_VAR,
    DEMO_CONFIG_PATH,
    WAREHOUSE_ENV_VAR,
    Config,
    load_config,
)
from pipelines.errors import ConfigError, PlatformMetricsError

DAGSTER_HOME_DEFAULT = Path("build") / "dagster_home"
DAGSTER_YAML = """\
# Written by platform-metrics. No usage telemetry: the warehouse holds survey answers.
telemetry:
  enabled: false
# DuckDB has one writer process at a time: every asset that touches the warehouse is in the
# 'warehouse' pool, and pools run one step at a time.
concurrency:
  pools:
    default_limit: 1
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
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the whole pipeline on the embedded demo organisation")
    demo.set_defaults(handler=_cmd_demo)

    run = sub.add_parser("run", help="run the whole pipeline for an organisation")
    run.add_argument("--config", required=True, type=Path, help="organisation YAML file")
    run.set_defaults(handler=_cmd_run)

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
    resync.add_argument("--source", default="github", help="GitHub source name (default: github)")
    resync.set_defaults(handler=_cmd_resync)

    serve = sub.add_parser("serve", help="Dagster UI and daemon (schedules run) on 127.0.0.1")
    serve.add_argument("--config", type=Path, help="organisation YAML file (default: the demo)")
    serve.add_argument("--port", type=int, default=3000)
    serve.set_defaults(handler=_cmd_serve)
    return parser


def _config_path(given: Path | None) -> Path:
    """--config, else $PLATFORM_METRICS_CONFIG, else the embedded demo organisation."""
    return Path(given or os.environ.get(CONFIG_ENV_VAR) or DEMO_CONFIG_PATH)


def _cmd_validate(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    config = load_config(path)
    sources = [f"github:{s.name}" for s in config.sources.github]
    sources += [f"pagerduty:{s.name}" for s in config.sources.pagerduty]
    sources += [f"opsgenie:{s.name}" for s in config.sources.opsgenie]
    sources += [f"statuspage:{s.name}" for s in config.sources.statuspage]
    sources += [f"incident_file:{s.name}" for s in config.sources.incident_files]
    sources += ["surveys"] if config.sources.surveys else []
    repos = sum(len(s.repositories) for s in config.services)
    print(
        f"ok: {path}: {config.organisation.name}: {len(config.teams)} teams, "
        f"{len(config.services)} services, {repos} repositories; sources: {', '.join(sources) or 'none'}"
        + ("; demo organisation (fake API)" if config.is_demo else "")
    )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    return _run(load_config(DEMO_CONFIG_PATH), config_path=DEMO_CONFIG_PATH)


def _cmd_run(args: argparse.Namespace) -> int:
    return _run(load_config(args.config), config_path=args.config)


def _cmd_resync(args: argparse.Namespace) -> int:
    from pipelines.warehouse import open_warehouse, reset_sync_state

    config = load_config(_config_path(args.config))
    sources = {s.name: s for s in config.sources.github}
    if args.source not in sources:
        raise ConfigError(
            f"--source {args.source!r}: not a GitHub source in the config ({sorted(sources)})"
        )
    known = {r for s in config.services for r in s.repositories} | set(
        sources[args.source].repositories
    )
    orgs = sources[args.source].organisations
    if args.repository not in known and args.repository.split("/")[0] not in orgs:
        raise ConfigError(
            f"--repository {args.repository!r}: not a repository of source {args.source!r} "
            "(not in services[].repositories, nor in one of its organisations)"
        )
    with open_warehouse(config.warehouse_path()) as con:
        reset_sync_state(con, args.source, args.repository)
    print(f"{args.repository}: sync cursors cleared; the next run re-reads its history")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    config_path = _config_path(args.config)
    load_config(config_path)  # fail here, in one line, rather than inside the UI
    env = _prepare_environment(config_path)
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
    os.execve(command[0], command, env)
    return 0  # pragma: no cover - execve does not return


def _prepare_environment(config_path: Path) -> dict[str, str]:
    """Point Dagster at a home with telemetry off and one writer pool; export config and warehouse."""
    home = Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DEFAULT).resolve()
    home.mkdir(parents=True, exist_ok=True)
    # Always ours: an older or hand-edited file must not lose the single-writer pool or turn
    # telemetry back on.
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[CONFIG_ENV_VAR] = str(Path(config_path).resolve())
    return dict(os.environ)


def _run(config: Config, *, config_path: Path) -> int:
    _prepare_environment(config_path)
    warehouse = Path(config.warehouse_path()).resolve()
    os.environ[WAREHOUSE_ENV_VAR] = str(warehouse)

    import dagster as dg

    from assets.graph import build_definitions
    from assets.runner import run_pipeline

    defs = build_definitions(config)
    with dg.DagsterInstance.get() as instance, _demo_history(config):
        outcome = run_pipeline(
            defs,
            config,
            instance,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
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
            "The previous site and snapshot are untouched. Run details: platform-metrics serve",
            file=sys.stderr,
        )
        return _EXIT_CODES.get(name, 1)
    # absolute(), not resolve(): the site is a symlink swapped on every run; print the stable name.
    site = Path(config.publish.site_dir).absolute() / "index.html"
    print()
    print(f"Warehouse:          {warehouse}")
    print(f"Analysts' snapshot: {Path(config.publish.snapshot_dir).absolute()}")
    print(f"Site:               {site}")
    print(f"Open it in a browser: file://{site}")
    return 0


def _demo_history(config: Config) -> contextlib.AbstractContextManager[object]:
    """For a demo organisation: one clock for the whole run, and a fresh warehouse when it holds
    another generated history (pipelines/demo/history.py). Nothing for a real organisation."""
    if not config.is_demo:
        return contextlib.nullcontext()
    from pipelines.demo.history import demo_run

    return demo_run(config)


def _first_failure(result) -> tuple[str, str]:
    """The innermost error of the first failed step, as (class name, one-line message)."""
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        text = error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name
        prefix = f"{error.cls_name}: "
        if prefix in text:
            text = text.split(prefix, 1)[1]
        return error.cls_name or "", f"{event.step_key}: {text}"
    return "", "the run failed; see the Dagster run log"


if __name__ == "__main__":
    sys.exit(main())
