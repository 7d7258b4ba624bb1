"""The site's pages: the list the navigation shows and the builder of each.

Builders decide *what* a page says and live with their page family (overview.py, dora.py,
lead_time.py, deployments.py, data_quality.py, experience.py, value.py, slo_report.py);
``templates/page.html.j2`` decides how it looks. Every number is shown with its sample size, every
metric carries a one-line definition from the catalogue (dashboards/definitions.py, rendered as a
``title=`` hover), and a page whose mart is missing or empty says "No data yet" instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashboards.blocks import Block
from dashboards.context import PageContext
from dashboards.data_quality import build_data_quality
from dashboards.deployments import build_deployments
from dashboards.dora import build_dora
from dashboards.experience import build_devex
from dashboards.lead_time import build_lead_time
from dashboards.overview import build_overview
from dashboards.rows import DEPLOYMENTS_PAGE, DORA_PAGE, LEAD_TIME_PAGE
from dashboards.slo_report import build_slo_blocks
from dashboards.value import build_platform_value


@dataclass(frozen=True)
class Page:
    filename: str
    nav_label: str
    title: str
    lede: str
    build: Callable[[PageContext], list[Block]]


PAGES: Sequence[Page] = (
    Page(
        "index.html",
        "Overview",
        "Overview",
        "Headline DORA numbers for the organisation, the success scorecard, deployments per week "
        "and data freshness.",
        build_overview,
    ),
    Page(
        DORA_PAGE,
        "DORA",
        "DORA metrics per team",
        "Deployment frequency, change lead time, change failure rate, recovery time and rework.",
        build_dora,
    ),
    Page(
        LEAD_TIME_PAGE,
        "Lead time",
        "Lead time breakdown",
        "Where a change's lead time goes: coding, pickup, review and deploy.",
        build_lead_time,
    ),
    Page(
        DEPLOYMENTS_PAGE,
        "Deployments",
        "Deployments and incidents",
        "Production deployments over time with failures marked, and the incidents beside them.",
        build_deployments,
    ),
    Page(
        "devex.html",
        "DevEx",
        "Developer experience",
        "Survey results per wave: DevEx index, cognitive load, satisfaction (anonymised), beside "
        "the objective cognitive-load signals per team.",
        build_devex,
    ),
    Page(
        "platform-value.html",
        "Platform value",
        "Platform value",
        "Adoption, golden-path share, self-service, time to first deployment and value (an "
        "estimate, with the assumptions it rests on).",
        build_platform_value,
    ),
    Page(
        "slos.html",
        "SLOs",
        "Service level objectives",
        "Attainment and error budget per SLO and period.",
        lambda ctx: build_slo_blocks(ctx.reader),
    ),
    Page(
        "data-quality.html",
        "Data quality",
        "Data quality",
        "What has landed and when: raw rows, sync cursors and mart sizes.",
        build_data_quality,
    ),
)
