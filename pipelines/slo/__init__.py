"""SLOs as code: OpenSLO v1 specs, their SLI sources (Prometheus, warehouse marts, incidents),
error-budget formulas and generated Prometheus alerting rules. Imports no Dagster."""
