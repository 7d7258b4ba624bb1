"""Dagster wiring: the asset graph over pipelines/, dbt/ and dashboards/, and the CLI.

The only package that imports dagster. No usage telemetry from any tool: the warehouse holds survey
answers, so every switch is turned off before any of them is imported.
"""

import os

for _name, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "yes",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)
