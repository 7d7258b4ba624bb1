"""The offline environment: what every tool this project runs is told so that nothing calls home.

The product works offline and the warehouse holds survey answers, so no tool may send usage
telemetry, check for updates or look anything up on the internet at run time (docs/operations.md#offline).
This module is the one place that says how; `assets/__init__.py`, `tests/conftest.py`,
`pipelines/dbt_cli.py`, `assets/dbt.py` and `dashboards/browser.py` use it, and the Makefile's
exports are kept equal to :data:`TELEMETRY_OFF` by tests/test_offline.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

# Switches every tool reads from its environment. Forced, not defaulted: "offline" is a promise of
# the product, not a preference a stray shell variable may undo.
TELEMETRY_OFF: dict[str, str] = {
    "DAGSTER_DISABLE_TELEMETRY": "yes",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    # dbt's require-dbt-version check; the package-index lookup of `dbt --version` is stopped by
    # the refusing proxy below (dbt has no switch for it).
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "MARIMO_SKIP_UPDATE_CHECK": "1",
    "DO_NOT_TRACK": "1",
}

# A proxy nothing listens on (the discard port on loopback): a request sent to it is refused on
# this machine, before any name is looked up. Loopback itself stays direct (NO_PROXY).
REFUSING_PROXY = "http://127.0.0.1:9"
LOOPBACK_HOSTS = "localhost,127.0.0.1,::1"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")


def refusing_proxy_env() -> dict[str, str]:
    """Proxy variables that send every non-loopback request of a Python tool (requests, httpx,
    urllib) to :data:`REFUSING_PROXY`."""
    return {
        **dict.fromkeys(PROXY_VARS, REFUSING_PROXY),
        **dict.fromkeys(NO_PROXY_VARS, LOOPBACK_HOSTS),
    }


def apply_offline_env(environ: MutableMapping[str, str] | None = None) -> None:
    """Turn every tool's telemetry and update check off in this process (before they import).

    Proxies are not set here: the source clients run in this process and may legitimately use
    the user's own proxy to reach GitHub or PagerDuty.
    """
    target = os.environ if environ is None else environ
    target.update(TELEMETRY_OFF)


def tool_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a tool subprocess that has no business on the network (dbt, marimo):
    ``base`` (default: this process's) with telemetry off and the refusing proxy."""
    return {**(os.environ if base is None else base), **TELEMETRY_OFF, **refusing_proxy_env()}


@contextmanager
def refusing_proxy() -> Iterator[None]:
    """Within the block, subprocesses started by libraries that copy ``os.environ`` (dagster-dbt's
    ``dbt --version`` and ``dbt build``) get the refusing proxy; the previous values come back
    after, so the source clients keep the user's proxy."""
    saved = {name: os.environ.get(name) for name in (*PROXY_VARS, *NO_PROXY_VARS)}
    os.environ.update(refusing_proxy_env())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
