{#-
    Incremental models (docs/adr/0009-incremental-staging-models.md, docs/operations.md#incremental-runs).

    The raw layer upserts on (source, natural_key) and stamps every row it writes with fetched_at,
    and never deletes a row of the tables these models read: a row whose fetched_at is newer than
    the last build is new or changed. An incremental model reads only the raw rows fetched since
    the newest fetched_at it already holds, less var('incremental_lookback_days') (rows that a
    slower sync committed late, with an older fetched_at), and replaces its rows of the same keys
    (delete+insert on the unique key).

    Every incremental model also stores incremental_hash(): a fingerprint of its own SQL and, for
    models that apply metric definitions, of those definitions (definitions_fingerprint(), the
    one metrics_dora_rolling_28d uses). When the stored fingerprint differs from this run's (an
    upgrade changed the model, or a definition changed), the run reprocesses every row, as a full
    refresh would. `platform-metrics run --full-refresh` rebuilds them all from scratch.
-#}

{#- This run's fingerprint of the model: its SQL, plus the metric definitions when it uses them. -#}
{% macro incremental_hash(definitions=false) -%}
    {#- (`model` and local_md5 always exist in dbt; the SQL linter's jinja templater has neither) -#}
    {%- if model is not defined or local_md5 is not defined -%}{{ return('lint') }}{%- endif -%}
    {%- set parts = [model.raw_code] -%}
    {%- if definitions -%}{%- do parts.append(definitions_fingerprint()) -%}{%- endif -%}
    {{ return(local_md5(parts | join('|'))) }}
{%- endmacro %}

{#-
    A where clause for the raw source of an incremental model: every row on a full build (or
    when the stored fingerprint is not this run's), else the rows fetched since the model's
    newest fetched_at less the lookback.
-#}
{% macro raw_rows_changed(fetched_at='fetched_at', definitions=false) -%}
    {%- if is_incremental() -%}
        {%- set lookback = var('incremental_lookback_days') | int -%}
        {%- if lookback < 0 -%}
            {{ exceptions.raise_compiler_error(
                "var incremental_lookback_days must be 0 or more, got " ~ lookback
            ) }}
        {%- endif -%}
        where {{ fetched_at }} >= (
            select
                case
                    when
                        min(definitions_hash) = max(definitions_hash)
                        and max(definitions_hash) = {{ sql_literal(incremental_hash(definitions)) }}
                        then {{ add_seconds('max(fetched_at)', -86400 * lookback) }}
                    else cast('1900-01-01' as {{ pm_timestamptz() }})
                end
            from {{ this }}
        )
    {%- endif -%}
{%- endmacro %}

{#- The bookkeeping columns every incremental staging model ends with. -#}
{% macro incremental_columns(fetched_at='fetched_at', definitions=false) -%}
    {{ fetched_at }} as fetched_at,
    {{ sql_literal(incremental_hash(definitions)) }} as definitions_hash
{%- endmacro %}
