"""Atomic publishing of folders, for every publisher: the site (dashboards/site.py), the quality-gate
notice (gate_notice.py), the analysts' snapshot (publish.py), the leadership reports (leadership.py) and
the SLO report (slo_report.py).

The pattern is always the same: write everything into a fresh staging folder beside the target,
and only when it is complete swap it in with a rename (atomic on POSIX): a reader sees the old
output or the new one, never half of either, and a failure leaves the old one untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# A dated version folder: 20250102T050000Z, or 20250102T050000Z-1 for a second build that second.
VERSION_NAME = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


@contextlib.contextmanager
def staging_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder in ``parent`` (readable by others: a web server or an analyst may run as
    another user), removed if the block fails; the block moves it into place when it succeeds."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    tmp.chmod(0o755)  # mkdtemp makes it private
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(new: Path, folder: Path) -> None:
    """Put the complete folder ``new`` at ``folder`` (a sibling): the old one is moved aside, the
    new one renamed in, and the old one deleted."""
    old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def point_symlink(link: Path, target: Path) -> Path | None:
    """Make ``link`` a relative symlink to ``target``, replaced with ``os.replace`` so there is no
    moment without a complete folder. A real folder at ``link`` (an older layout, or made by hand)
    cannot be swapped atomically: it is moved aside and deleted once. Returns the folder ``link``
    pointed at before (resolved), or None."""
    previous = link.resolve() if link.is_symlink() else None
    link_tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    link_tmp.unlink(missing_ok=True)
    link_tmp.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    aside = None
    if link.exists() and not link.is_symlink():
        aside = link.with_name(f".{link.name}.replaced-{os.getpid()}")
        shutil.rmtree(aside, ignore_errors=True)
        link.rename(aside)
    os.replace(link_tmp, link)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return previous


def unique_path(path: Path) -> Path:
    """``path``, or ``path-1``, ``path-2``... so that two builds in one second overwrite nothing."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def prune_versions(
    versions: Path,
    keep: int,
    *,
    live: Path,
    now: dt.datetime,
    staging_prefix: str,
    stale_after: dt.timedelta,
) -> None:
    """Keep the newest ``keep`` dated folders (never the live one's removal), and remove staging
    folders older than ``stale_after`` (left by a build killed outright)."""
    dated = sorted(p for p in versions.iterdir() if p.is_dir() and VERSION_NAME.match(p.name))
    for old in dated[:-keep]:
        if old.resolve() != live.resolve():
            shutil.rmtree(old, ignore_errors=True)
    for leftover in versions.glob(f"{staging_prefix}*"):
        age = now - dt.datetime.fromtimestamp(leftover.stat().st_mtime, dt.UTC)
        if age > stale_after:
            shutil.rmtree(leftover, ignore_errors=True)
