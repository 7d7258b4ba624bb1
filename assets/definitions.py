"""Entry point for Dagster tools: ``dagster dev -m assets.definitions``, ``dg check defs``.

Loads ``$PLATFORM_METRICS_CONFIG`` (or the embedded demo organisation when it is unset).
"""

from assets.graph import build_definitions
from pipelines.config import load_config

defs = build_definitions(load_config())
