"""Which commits each successful production deployment shipped (commit-ancestry attribution).

A dbt Python model (dbt-duckdb runs it in-process): the walk itself is pipelines.ancestry, a plain
module with its own pytest tests. Why Python rather than a recursive CTE: see the model's yml. On
the spark target this model is disabled and models/intermediate/spark/int_commit_deployments.sql
takes its place, reading the table the ancestry step (pipelines/spark_ancestry.py) wrote with the
same function.
"""

from pipelines.ancestry import claim_arrow


def model(dbt, session):
    dbt.config(materialized="table")
    commits = (
        dbt.ref("int_commits")
        .filter("sha is not null")
        .project("repository, sha, parent_shas")
        .to_arrow_table()
    )
    deployments = (
        dbt.ref("int_deployments")
        .filter("status = 'success' and commit_sha is not null")
        .project("repository, environment, deployment_id, commit_sha, deployed_at")
        .to_arrow_table()
    )
    return claim_arrow(commits, deployments)
