"""The dbt docs site as one offline HTML file (``dbt docs generate --static``), for the site.

``static_index.html`` embeds the manifest and the catalog, so it opens from ``file://`` or an
intranet server. It loads nothing from the internet: no fonts, no scripts (checked here). Its
only outbound code is dbt's Snowplow page tracker, which it switches on only when the embedded
manifest says ``send_anonymous_usage_stats: true``; we generate with usage stats off and refuse
to publish a page that says otherwise.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.dbt_cli import DBT_PROJECT_DIR, DbtError, run_dbt

DOCS_FILE = "dbt-docs.html"
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE
)


def offline_problems(html: str) -> list[str]:
    """Why ``html`` would not work offline, or would phone home (empty when it is fine)."""
    problems = [m.group(0) for m in _EXTERNAL.finditer(html)]
    problems += re.findall(r"@import\s+url\([\"']?https?://[^)]*\)", html)
    if re.search(r'"send_anonymous_usage_stats"\s*:\s*true', html):
        problems.append("the embedded manifest turns dbt's usage tracker on")
    return problems


def generate_dbt_docs(
    warehouse: Path,
    out_dir: Path,
    *,
    variables: Mapping[str, Any] | None = None,
    work_dir: Path,
    project_dir: Path = DBT_PROJECT_DIR,
) -> Path:
    """``dbt docs generate --static`` against ``warehouse``; ``out_dir/dbt-docs.html``."""
    target = Path(work_dir)
    run_dbt(
        ["docs", "generate", "--static"],
        warehouse=warehouse,
        target_path=target,
        variables=variables,
        project_dir=project_dir,
    )
    html = (target / "static_index.html").read_text(encoding="utf-8")
    problems = offline_problems(html)
    if problems:
        raise DbtError(f"dbt docs page would not work offline: {problems[:3]}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / DOCS_FILE
    tmp = out.with_name(f".{DOCS_FILE}.tmp")
    shutil.copyfile(target / "static_index.html", tmp)
    tmp.replace(out)
    return out
