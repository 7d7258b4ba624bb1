"""Dagster wiring: the asset graph over pipelines/, dbt/ and dashboards/, and the CLI.

The only package that imports dagster. No usage telemetry from any tool: the warehouse holds survey
answers, so every switch is turned off before any of them is imported.
"""

import os

from pipelines.offline import apply_offline_env

# Before dagster, dbt or great_expectations is imported (pipelines/offline.py says what and why).
apply_offline_env()

# dagster-dbt runs the `dbt` executable; make the one installed beside this Python the one found,
# whether or not the virtual environment is activated.
_bin = os.path.dirname(os.path.abspath(__import__("sys").executable))
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
