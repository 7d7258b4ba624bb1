"""Chrome, Chromium or Edge: found where it is installed, launched headless with the network off.

One launcher for every browser this project starts: the leadership PDF (print-to-pdf), the chart
images (kaleido 1.x, which starts the browser itself through choreographer) and the browser tests.
Headless Chromium otherwise fetches component updates, checks accounts and the network time on
Google hosts on every start; docs/operations.md#offline lists what each flag turns off and how
tests/test_offline.py proves nothing leaves the machine.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pipelines.offline import REFUSING_PROXY, TELEMETRY_OFF

BROWSER_ENV_VAR = "PLATFORM_METRICS_CHROMIUM"
# Diagnostics: when set, every launch writes Chromium's net-log (each request it attempted) there.
NETLOG_ENV_VAR = "PLATFORM_METRICS_CHROMIUM_NETLOG_DIR"

# Looked up on PATH, in this order ...
EXECUTABLES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "microsoft-edge",
    "microsoft-edge-stable",
    "msedge",
)
# ... then in the usual Linux and macOS install locations (~ is the user's home).
LOCATIONS = (
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/opt/google/chrome/chrome",
    "/opt/microsoft/msedge/msedge",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "~/Applications/Chromium.app/Contents/MacOS/Chromium",
    "~/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
HOW_TO_GET = (
    "install Chromium, Google Chrome or Microsoft Edge (Debian/Ubuntu: apt install chromium; "
    "macOS: Google Chrome in /Applications), or set publish.chromium_path or "
    f"${BROWSER_ENV_VAR} to its executable"
)

# Features that reach Google hosts even with background networking off (seen in Chromium 156's
# net-log): the network-time query, optimization-guide model downloads and hints, Translate, Cast.
DISABLED_FEATURES = (
    "NetworkTimeServiceQuerying",
    "OptimizationHints",
    "OptimizationHintsFetching",
    "OptimizationGuideModelDownloading",
    "OptimizationTargetPrediction",
    "Translate",
    "MediaRouter",
)
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI and containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-first-run",
    "--disable-client-side-phishing-detection",
    "--metrics-recording-only",
    "--no-pings",
    "--disable-breakpad",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--disable-features=" + ",".join(DISABLED_FEATURES),
    # On-demand component installs and the account check ignore the switches above: point their
    # servers at the refusing loopback port, so they fail on this machine.
    f"--component-updater=url-source={REFUSING_PROXY}/",
    f"--gaia-url={REFUSING_PROXY}/",
    # Everything else that is not loopback (which Chromium never proxies) or file:// goes to a
    # port where nothing listens, and no name is resolved except localhost.
    f"--proxy-server={REFUSING_PROXY}",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_browser(
    configured: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    locations: tuple[str, ...] = LOCATIONS,
) -> Path | None:
    """The browser to launch: ``configured`` (``publish.chromium_path``), else
    ``$PLATFORM_METRICS_CHROMIUM``, else the first of :data:`EXECUTABLES` on PATH, else the first
    of :data:`LOCATIONS`. A path that was named but is not an executable file gives None."""
    environ = os.environ if environ is None else environ
    named = configured or environ.get(BROWSER_ENV_VAR)
    if named:
        path = Path(named).expanduser()
        return path if _executable(path) else None
    for name in EXECUTABLES:
        found = shutil.which(name, path=environ.get("PATH", os.defpath))
        if found:
            return Path(found)
    for location in locations:
        path = Path(location).expanduser()
        if _executable(path):
            return path
    return None


def browser_missing(configured: str | Path | None = None, *, environ=None) -> str:
    """The one line saying why no browser is used and how to get one."""
    environ = os.environ if environ is None else environ
    if configured:
        where = f"publish.chromium_path {str(configured)!r} is not an executable file"
    elif environ.get(BROWSER_ENV_VAR):
        where = f"${BROWSER_ENV_VAR} {environ[BROWSER_ENV_VAR]!r} is not an executable file"
    else:
        where = "no Chrome, Chromium or Edge found on PATH or in the usual locations"
    return f"leadership PDF and chart images skipped: {where}; {HOW_TO_GET}"


def _netlog_args() -> list[str]:
    folder = os.environ.get(NETLOG_ENV_VAR)
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [f"--log-net-log={Path(folder).resolve() / f'chromium-{uuid.uuid4().hex}.json'}"]


def offline_flags() -> list[str]:
    """:data:`OFFLINE_FLAGS`, plus a net-log of this launch when ``$NETLOG_ENV_VAR`` is set."""
    return [*OFFLINE_FLAGS, *_netlog_args()]


def browser_env() -> dict[str, str]:
    """This process's environment with the offline switches (pipelines/offline.py)."""
    return {**os.environ, **TELEMETRY_OFF}


def run_chromium(
    browser: str | Path,
    *args: str,
    profile: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``browser --headless <offline flags> --user-data-dir=<profile> *args``; a fresh profile
    in a temporary folder unless ``profile`` is given."""
    with tempfile.TemporaryDirectory(prefix="pm-chromium-") as scratch:
        command = [
            str(browser),
            *offline_flags(),
            f"--user-data-dir={profile or scratch}",
            *args,
        ]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=browser_env(),
        )


@contextmanager
def offline_launcher(browser: str | Path) -> Iterator[Path]:
    """An executable that starts ``browser`` with the offline flags and then whatever it is given:
    for tools that launch the browser themselves (kaleido's choreographer takes a path, not flags).
    """
    with tempfile.TemporaryDirectory(prefix="pm-chromium-launcher-") as folder:
        script = Path(folder) / "chromium"
        command = shlex.join([str(browser), *offline_flags()])
        # about:blank last: without a page to open, a browser window starts on the new-tab page,
        # which Debian's build loads from its default search engine's site.
        script.write_text(f'#!/bin/sh\nexec {command} "$@" about:blank\n', encoding="utf-8")
        script.chmod(0o700)
        yield script
