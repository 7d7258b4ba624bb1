{#-
    Portable SQL of the platform-value and scorecard intermediate models (int_platform_months,
    int_platform_service_months, int_platform_capability_usage, int_platform_task_samples,
    int_scorecard_measures): pm_ macros and spark__ versions of the project's period helpers, as in
    portable.sql (whose header says how: default__ renders exactly the DuckDB SQL the models had,
    spark__ Spark SQL with the same result). The .sqlfluff file has a lint stand-in for each pm_
    macro here. These models read marts (fct_deployments, fct_changes, metrics_platform_value, ...),
    so tests/test_spark_models.py, which builds staging and intermediate only, leaves them out
    until the marts build on Spark.
-#}

{#-
    A wall-clock timestamp in var('timezone') as the instant it names (DuckDB timezone(zone,
    timestamp)); on Spark the session zone is UTC, so to_utc_timestamp reads it in the zone.
-#}
{% macro pm_from_local_timestamp(ts) -%}
    {{ return(adapter.dispatch('pm_from_local_timestamp', 'platform_metrics')(ts)) }}
{%- endmacro %}

{% macro default__pm_from_local_timestamp(ts) -%}
    timezone({{ sql_literal(var('timezone')) }}, {{ ts }})
{%- endmacro %}

{% macro spark__pm_from_local_timestamp(ts) -%}
    to_utc_timestamp({{ ts }}, {{ sql_literal(var('timezone')) }})
{%- endmacro %}

{#-
    spark__ versions of the period helpers of sql_helpers.sql (their default__ is there).
    period_spine: sequence of dates, exploded (DuckDB generate_series of timestamps). Spark has
    no quarter interval: a quarter steps 3 months.
-#}
{% macro spark__period_spine(grain, bounds_relation, start_column, end_column) -%}
    {%- set step = '3 month' if grain == 'quarter' else '1 ' ~ grain -%}
    select cast(spine.period_start as date) as period_start
    from (
        select
            explode(sequence(
                cast({{ bounds_relation }}.{{ start_column }} as date),
                cast({{ bounds_relation }}.{{ end_column }} as date),
                interval {{ step }}
            )) as period_start
        from {{ bounds_relation }}
    ) as spine
{%- endmacro %}

{#- days_in_period: a bigint (Spark's datediff is an int), without dbt-spark's dateadd. -#}
{% macro spark__days_in_period(grain, period_start_date) -%}
    {%- set next_start = {
        'day': 'date_add(' ~ period_start_date ~ ', 1)',
        'week': 'date_add(' ~ period_start_date ~ ', 7)',
        'month': 'add_months(' ~ period_start_date ~ ', 1)',
        'quarter': 'add_months(' ~ period_start_date ~ ', 3)',
        'year': 'add_months(' ~ period_start_date ~ ', 12)',
    }[grain] -%}
    cast(datediff({{ next_start }}, {{ period_start_date }}) as bigint)
{%- endmacro %}

{#- An instant minus a whole number of days (an expression) of 24 hours (the session is UTC). -#}
{% macro pm_subtract_days(ts, days) -%}
    {{ return(adapter.dispatch('pm_subtract_days', 'platform_metrics')(ts, days)) }}
{%- endmacro %}

{% macro default__pm_subtract_days(ts, days) -%}
    {{ ts }} - to_days({{ days }})
{%- endmacro %}

{% macro spark__pm_subtract_days(ts, days) -%}
    timestamp_micros(unix_micros({{ ts }}) - 86400000000L * ({{ days }}))
{%- endmacro %}

{#-
    hours_between: whole seconds as DuckDB's date_diff('second') counts them (pm_diff_seconds)
    over 3600, a double (3600.0 is a decimal on Spark).
-#}
{% macro spark__hours_between(start_ts, end_ts) -%}
    ({{ spark__pm_diff_seconds(start_ts, end_ts) }} / 3600D)
{%- endmacro %}

{#- A date as its year and month, 'YYYY-MM' (null for null). -#}
{% macro pm_year_month(date_expression) -%}
    {{ return(adapter.dispatch('pm_year_month', 'platform_metrics')(date_expression)) }}
{%- endmacro %}

{% macro default__pm_year_month(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{% macro spark__pm_year_month(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM')
{%- endmacro %}
