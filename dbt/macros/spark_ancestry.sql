{#-
    On the spark targets: the table the commit-ancestry step wrote (pipelines/spark_ancestry.py),
    for int_commit_deployments (models/intermediate/spark/). When it is missing, the build fails
    naming the step and how to run it, instead of Spark's "table or view not found". Not checked
    by docs generate, which compiles every node and reads no rows.
-#}
{% macro ancestry_claims(relation) -%}
    {%- if execute and flags.WHICH != 'generate' and not adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
        {{ exceptions.raise_compiler_error(
            relation ~ " does not exist: the commit-ancestry step has not run. It runs between"
            ~ " two dbt runs (dbt run --exclude int_commit_deployments+, the step, then"
            ~ " dbt run --select int_commit_deployments+) and needs a Spark session on the same"
            ~ " metastore, which a Thrift server cannot give: `platform-metrics spark-build` runs"
            ~ " all three on the spark target; over spark_thrift run the step as a Spark job on"
            ~ " the cluster (spark-submit pipelines/spark_ancestry.py)."
            ~ " docs/scaling.md#dbt-on-spark"
        ) }}
    {%- endif -%}
    {{- return(relation) -}}
{%- endmacro %}
