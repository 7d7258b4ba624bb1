-- On the spark target only (dbt_project.yml): int_commit_deployments as the ancestry step wrote it
-- (pipelines/spark_ancestry.py, which runs pipelines.ancestry.claim_arrow per repository between
-- the two dbt runs of a Spark build). On DuckDB the Python model of the same name runs instead;
-- both are described, and tested, by ../int_commit_deployments.yml.
-- What the step read, so that dbt's graph (selection, lineage) is the Python model's:
-- depends_on: {{ ref('int_commits') }}
-- depends_on: {{ ref('int_deployments') }}
select
    repository,
    environment,
    deployment_id,
    sha,
    cast(depth as bigint) as depth
from {{ ancestry_claims(source('ancestry', 'commit_deployments')) }}
