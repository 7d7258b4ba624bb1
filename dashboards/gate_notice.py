"""The failed-gate notice (see dashboards/gate.py): keep the live site's pages and numbers and
publish a new version whose data-quality page says why the site was not refreshed.

Its own module, above both: the site imports the gate's data (CheckStatus, GateNotice), and this
imports the site to re-render one page; nothing imports in a circle.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

from dashboards.gate import CheckStatus, GateNotice, failed_checks
from dashboards.site import (
    STAGING_PREFIX,
    publish_version,
    render_pages,
    utc,
    versions_dir,
)
from dashboards.swap import staging_folder, unique_path


def publish_gate_notice(
    warehouse_path: Path,
    site_dir: Path,
    *,
    organisation: str,
    checks: Sequence[CheckStatus],
    now: dt.datetime | None = None,
    keep_copies: int = 14,
    min_sample: int = 5,
) -> Path | None:
    """Re-publish the live site with a data-quality page that names the failed checks.

    Every other file of the live version is copied unchanged (its numbers stay the last good ones).
    Returns the new version's folder, or None when there is no live site to keep (nothing is
    published then: the first site waits for a passing gate).
    """
    now = utc(now or dt.datetime.now(dt.UTC))
    site_dir = Path(site_dir)
    if not (site_dir.is_symlink() and (site_dir / "index.html").exists()):
        return None
    live = site_dir.resolve()
    versions = versions_dir(site_dir)
    notice = GateNotice(failed_checks(checks), live.name, now)
    with staging_folder(versions, STAGING_PREFIX) as tmp:
        shutil.copytree(live, tmp, dirs_exist_ok=True, symlinks=True)
        tmp.chmod(0o755)
        render_pages(
            tmp,
            Path(warehouse_path),
            organisation,
            now,
            min_sample,
            only=("data-quality.html",),
            checks=checks,
            gate=notice,
        )
        version_dir = unique_path(versions / now.strftime("%Y%m%dT%H%M%SZ"))
        tmp.rename(version_dir)
    publish_version(site_dir, version_dir, keep_copies, now=now)
    return version_dir
