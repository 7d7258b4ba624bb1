"""The publishing quality gate, as plain data for the site (no Dagster here).

The asset layer reads the latest outcome of every asset check (the blocking Great Expectations
checks on raw payloads and the dbt tests, among them ``no_deployment_before_its_commit``) and passes
them here as :class:`CheckStatus` rows. The data-quality page lists them. When a blocking check
fails, Dagster skips the dbt build and the site; :func:`publish_gate_notice` then keeps the previous
site's pages and numbers and replaces only its data-quality page with one that says why the site
was not refreshed (a new dated version, swapped in atomically like any other build).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboards.swap import staging_folder, unique_path


@dataclass(frozen=True)
class CheckStatus:
    asset: str  # "raw/github_deployments"
    check: str  # "payloads_are_well_formed"
    passed: bool | None  # None: planned or skipped, no outcome yet
    description: str = ""
    checked_at: dt.datetime | None = None
    blocking: bool = True


@dataclass(frozen=True)
class GateNotice:
    """What the data-quality page says when the gate held the site back."""

    failed: list[CheckStatus]
    previous_build: str  # the kept version's name, e.g. 20250310T060000Z
    at: dt.datetime


def failed_checks(checks: Sequence[CheckStatus]) -> list[CheckStatus]:
    return [c for c in checks if c.passed is False and c.blocking]


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
    from dashboards import site as site_module  # the site imports pages, which import this module

    now = site_module._utc(now or dt.datetime.now(dt.UTC))
    site_dir = Path(site_dir)
    if not (site_dir.is_symlink() and (site_dir / "index.html").exists()):
        return None
    live = site_dir.resolve()
    versions = site_module.versions_dir(site_dir)
    notice = GateNotice(failed_checks(checks), live.name, now)
    with staging_folder(versions, site_module._TMP_PREFIX) as tmp:
        shutil.copytree(live, tmp, dirs_exist_ok=True, symlinks=True)
        tmp.chmod(0o755)
        site_module.render_pages(
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
    site_module.publish_version(site_dir, version_dir, keep_copies, now=now)
    return version_dir
