"""Evidence that nothing leaves the machine: a Python audit hook for this process and for Python
subprocesses (dbt), and a reader of Chromium's net-log for the browser.

The hooks do not only record a non-loopback lookup or connect: they refuse it (PermissionError), so
even a failing test sends nothing off the machine.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

AUDIT_LOG_ENV_VAR = "PM_TEST_AUDIT_LOG"
# Chromium's IPv6 reachability check connect()s a UDP socket to this address to ask the kernel for
# a route; a UDP connect sends no datagram (net/dns/host_resolver_manager.cc, kIPv6ProbeAddress).
IPV6_PROBE = "[2001:4860:4860::8888]:443"
_NET_SCHEMES = {"http", "https", "ws", "wss", "ftp"}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in ("localhost", "~notfound"):  # ~NOTFOUND: refused by --host-resolver-rules
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _offsite(event: str, args: tuple) -> str | None:
    """A description of a non-loopback lookup or connect, or None."""
    if event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        return None if host is None or is_loopback(str(host)) else f"getaddrinfo {host}"
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and not is_loopback(str(address[0])):
            return f"connect {address[0]}:{address[1]}"
    return None


_recording: list[str] | None = None


def _hook(event: str, args: tuple) -> None:
    if _recording is None or event not in ("socket.getaddrinfo", "socket.connect"):
        return
    found = _offsite(event, args)
    if found:
        _recording.append(found)
        raise PermissionError(f"offline test: {found} refused")


@contextmanager
def audit_this_process() -> Iterator[list[str]]:
    """Record (and refuse) every non-loopback lookup or connect made in this process."""
    global _recording
    if not getattr(sys, "_pm_offline_hook", False):  # an audit hook cannot be removed: add once
        sys.addaudithook(_hook)
        sys._pm_offline_hook = True  # type: ignore[attr-defined]
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


SITECUSTOMIZE = f"""
import json, os, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from tests.offline_audit import _offsite

_log = os.environ.get({AUDIT_LOG_ENV_VAR!r})

def _hook(event, args):
    if event not in ("socket.getaddrinfo", "socket.connect"):
        return
    found = _offsite(event, args)
    if found:
        with open(_log, "a", encoding="utf-8") as f:
            f.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[:3], "what": found}}) + "\\n")
        raise PermissionError("offline test: " + found + " refused")

if _log:
    sys.addaudithook(_hook)
"""


def subprocess_audit(folder: Path) -> tuple[dict[str, str], Path]:
    """Environment variables that make every Python subprocess started with them (dbt is one)
    record and refuse non-loopback lookups and connects in the returned log file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = folder / "audit.jsonl"
    log.touch()
    return {"PYTHONPATH": str(folder), AUDIT_LOG_ENV_VAR: str(log)}, log


def audit_records(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def _load_netlog(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # a browser that was killed leaves the events list open
        return json.loads(text.rstrip().rstrip(",") + "]}")


def netlog_command_line(path: Path) -> str:
    return _load_netlog(path)["constants"]["clientInfo"]["command_line"]


def netlog_offsite(path: Path) -> list[str]:
    """Every request, lookup or connection in a Chromium net-log that is not loopback or file://."""
    log = _load_netlog(path)
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    found: list[str] = []
    for event in log["events"]:
        kind = names.get(event["type"], str(event["type"]))
        params = event.get("params") or {}
        url = params.get("url")
        if isinstance(url, str):
            parts = urlsplit(url)
            if parts.scheme in _NET_SCHEMES and not is_loopback(parts.hostname):
                found.append(f"{kind} {url[:120]}")
        if kind.startswith("DNS_TRANSACTION"):
            found.append(f"{kind} {json.dumps(params)[:120]}")
        if kind == "HOST_RESOLVER_MANAGER_REQUEST" and "host" in params:
            host = urlsplit(params["host"]).hostname if "//" in params["host"] else params["host"]
            if not is_loopback(host):
                found.append(f"{kind} {params['host']}")
        addresses = params.get("address_list") or (
            [params["address"]] if isinstance(params.get("address"), str) else []
        )
        for address in addresses:
            host = address.rsplit(":", 1)[0]
            if kind.startswith("UDP_LOCAL") or is_loopback(host):
                continue
            if address == IPV6_PROBE and kind in ("UDP_CONNECT", "SOCKET_CONNECT"):
                continue
            found.append(f"{kind} {address}")
    return found
