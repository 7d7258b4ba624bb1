{#-
    dbt on Spark (docs/scaling.md#dbt-on-spark): the raw layer is not in DuckDB there, but in the
    Parquet export of `platform-metrics export-raw --format parquet --out ROOT`
    (pipelines/raw_export.py): ROOT/tables.parquet lists the tables, ROOT/<table>/ holds each.

    register_raw_parquet() registers every exported table as an external Parquet table
    raw.<table> (replacing an earlier registration, so a new export's files and columns are
    read), so every dbt source (schema raw) resolves unchanged. dbt_project.yml runs it
    on-run-start; on any other target it does nothing and renders nothing, so the DuckDB build
    is unchanged.

    ROOT: the var raw_parquet_root, else the environment variable PLATFORM_METRICS_RAW_PARQUET.
    `dbt run-operation register_raw_parquet --target spark` runs it on its own.
-#}
{% macro register_raw_parquet(root=none) -%}
    {%- if target.type != 'spark' or not execute -%}{{ return('') }}{%- endif -%}
    {%- set root = root or var('raw_parquet_root', none)
        or env_var('PLATFORM_METRICS_RAW_PARQUET', '') -%}
    {%- if not root -%}
        {{ exceptions.raise_compiler_error(
            "register_raw_parquet: no Parquet root for the raw layer; set the var raw_parquet_root"
            ~ " or PLATFORM_METRICS_RAW_PARQUET to the --out folder of"
            ~ " `platform-metrics export-raw`"
        ) }}
    {%- endif -%}
    {%- set root = root | string -%}
    {%- if "'" in root or "\\" in root or "`" in root -%}
        {{ exceptions.raise_compiler_error(
            "register_raw_parquet: " ~ root ~ ": a Parquet root with a quote, backquote or"
            ~ " backslash is not supported"
        ) }}
    {%- endif -%}
    {%- set root = root.rstrip('/') -%}
    {%- set index = run_query(
        "select table_name, row_count from parquet.`" ~ root ~ "/tables.parquet`"
        ~ " order by table_name"
    ) -%}
    {%- do run_query("create database if not exists raw") -%}
    {%- set existing = run_query("show tables in raw").columns[1].values() -%}
    {%- for table in index.columns[0].values() -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', table) -%}
            {{ exceptions.raise_compiler_error(
                "register_raw_parquet: " ~ root ~ "/tables.parquet: table name " ~ table
                ~ " is not lower_snake_case"
            ) }}
        {%- endif -%}
        {%- if table in existing -%}{%- do run_query("drop table raw." ~ table) -%}{%- endif -%}
        {%- do run_query(
            "create table raw." ~ table ~ " using parquet location '" ~ root ~ "/" ~ table ~ "'"
        ) -%}
    {%- endfor -%}
    {{- log("register_raw_parquet: " ~ (index.rows | length) ~ " raw tables from " ~ root, info=true) -}}
    {{- return('') -}}
{%- endmacro %}
