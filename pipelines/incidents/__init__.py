"""Incident sources beyond PagerDuty: Opsgenie, Atlassian Statuspage and file imports.

Each lands verbatim (or, for files, mapped) rows in its own raw table; dbt normalises every source to
one shape in ``int_incidents_unified`` (docs/sources/incidents.md).
"""

RAW_TABLES = ("opsgenie_incidents", "statuspage_incidents", "incident_file_rows")
