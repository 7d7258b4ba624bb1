-- On the spark target only (dbt_project.yml): int_commit_deployments as the ancestry step wrote it
-- (pipelines/spark_ancestry.py, which runs pipelines.ancestry.claim_arrow per repository between
-- the two dbt runs of a Spark build). On DuckDB the Python model of the same name runs instead;
-- both are described, and tested, by ../int_commit_deployments.yml.
select
    repository,
    environment,
    deployment_id,
    sha,
    cast(depth as bigint) as depth
from {{ source('ancestry', 'commit_deployments') }}
