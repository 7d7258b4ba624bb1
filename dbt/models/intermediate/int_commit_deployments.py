"""Which commits each successful production deployment shipped (commit-ancestry attribution).

A dbt Python model (dbt-duckdb runs it in-process): the walk itself is pipelines.ancestry, a plain
module with its own pytest tests. Why Python rather than a recursive CTE: see the model's yml.
"""

import pyarrow as pa

from pipelines.ancestry import claim_table

SCHEMA = pa.schema(
    [
        ("repository", pa.string()),
        ("environment", pa.string()),
        ("deployment_id", pa.string()),
        ("sha", pa.string()),
        ("depth", pa.int64()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    commits = (
        dbt.ref("int_commits")
        .filter("sha is not null")
        .project("repository, sha, parent_shas")
        .fetchall()
    )
    deployments = (
        dbt.ref("int_deployments")
        .filter("status = 'success' and commit_sha is not null")
        .order("repository, environment, deployed_at, deployment_id")
        .project("repository, environment, deployment_id, commit_sha")
        .fetchall()
    )
    rows = claim_table(commits, deployments)
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA.names]
    return pa.Table.from_arrays(
        [pa.array(c, t) for c, t in zip(columns, SCHEMA.types, strict=True)], schema=SCHEMA
    )
