"""The embedded demo organisation: a deterministic generator and an in-process fake API.

``generate_organisation(config)`` builds the (lazy) organisation; ``demo_transport(org)`` serves it
as GitHub REST, GitLab REST v4, Jenkins JSON, Argo CD, PagerDuty REST v2 and Prometheus
``query_range`` through an ``httpx.MockTransport``,
so the demo runs exactly the production clients. ``scaled_demo_config`` makes benchmark-sized ones.
"""

from pipelines.demo.fake_api import DemoTransport, TransportStats, demo_transport
from pipelines.demo.generator import (
    Organisation,
    SurveyWave,
    generate_organisation,
    scaled_demo_config,
)

__all__ = [
    "DemoTransport",
    "Organisation",
    "SurveyWave",
    "TransportStats",
    "demo_transport",
    "generate_organisation",
    "scaled_demo_config",
]
