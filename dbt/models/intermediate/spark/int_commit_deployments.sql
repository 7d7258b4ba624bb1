-- On the spark target only (dbt_project.yml): int_commit_deployments as the ancestry step wrote it
-- (pipelines/spark_ancestry.py, which runs pipelines.ancestry.claim_arrow per repository between
-- the two dbt runs of a Spark build). On DuckDB the Python model of the same name runs instead;
-- both are described, and tested, by ../int_commit_deployments.yml.
-- What the step read, so that dbt's graph (selection, lineage) is the Python model's:
-- depends_on: {{ ref('int_commits') }}
-- depends_on: {{ ref('int_deployments') }}
{%- set claims = source('ancestry', 'commit_deployments') %}
{%- if execute and not adapter.get_relation(
    database=claims.database, schema=claims.schema, identifier=claims.identifier
) %}
    {{ exceptions.raise_compiler_error(
        "ancestry.commit_deployments does not exist: the commit-ancestry step has not run. It runs"
        ~ " between two dbt runs (dbt run --exclude int_commit_deployments+, the step, then"
        ~ " dbt run --select int_commit_deployments+) and needs a Spark session on the same"
        ~ " metastore, which a Thrift server cannot give: `platform-metrics spark-build` runs all"
        ~ " three on the spark target; over spark_thrift run the step as a Spark job on the"
        ~ " cluster (spark-submit pipelines/spark_ancestry.py). docs/scaling.md#dbt-on-spark"
    ) }}
{%- endif %}
select
    repository,
    environment,
    deployment_id,
    sha,
    cast(depth as bigint) as depth
from {{ claims }}
