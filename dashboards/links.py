"""Ids linked to their page in their source: a row's own url from the data, never a guessed one."""

from __future__ import annotations

from markupsafe import Markup

from dashboards.blocks import (
    missing,
)
from dashboards.context import PageContext


def source_link(
    ctx: PageContext, label: str, url: object, css: str = "source-link"
) -> Markup | str:
    """``label`` linked to the row's page in its source (an http(s) url from the data), else text."""
    if not ctx.link_sources or missing(url) or not str(url).startswith(("https://", "http://")):
        return label
    return Markup('<a class="{}" href="{}">{}</a>').format(css, str(url), label)


def pr_link(
    ctx: PageContext, repository: object, number: object, url: object = None
) -> Markup | str:
    """``owner/repo#123`` linked to the pull request: the row's own url (fct_changes.url), else the
    configured host's pattern (``pr_url``), else plain text."""
    if missing(repository) or missing(number):
        return "—"
    label = f"{repository}#{int(number)}"
    if (missing(url) or not url) and ctx.pr_url:
        url = ctx.pr_url.format(repository=repository, number=int(number))
    return source_link(ctx, label, url, css="pr-link")
