{#-
    Small helpers that turn dbt vars into SQL safely and keep the models portable.
    Every use of dbt's cross-database macros (dbt.*), adapter.dispatch and exceptions goes through
    a macro in this file, so the SQL linter (which has no dbt namespace) can stand in for them:
    see [sqlfluff:templater:jinja:macros] in the repository's .sqlfluff.
-#}

{#-
    A var as a quoted SQL string literal (single quotes doubled). Spark also reads backslash
    escapes in string literals, so there a backslash is doubled too: a regex keeps its \. and \d.
-#}
{% macro sql_literal(value) -%}
    {#- (adapter always exists in dbt; the SQL linter's jinja templater has none) -#}
    {%- if adapter is not defined -%}{{ return(default__sql_literal(value)) }}{%- endif -%}
    {{ return(adapter.dispatch('sql_literal', 'platform_metrics')(value)) }}
{%- endmacro %}

{% macro default__sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "''") }}'
{%- endmacro %}

{#- A list var (or a comma-separated string) as a list of quoted SQL literals. -#}
{% macro sql_literal_list(values) -%}
    {%- if values is string -%}
        {%- set values = values.split(',') | map('trim') | reject('equalto', '') | list -%}
    {%- endif -%}
    {%- for value in values -%}
        {{ sql_literal(value) }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- A var that must be one of `choices`; anything else stops the compilation with a clear error. -#}
{% macro var_choice(name, choices) -%}
    {%- set value = var(name) -%}
    {%- if value not in choices -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be one of " ~ (choices | join(", ")) ~ ", got " ~ value
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Elapsed hours between two timestamps, with second precision. -#}
{% macro hours_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('hours_between', 'platform_metrics')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__hours_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(start_ts, end_ts, 'second') }} / 3600.0)
{%- endmacro %}

{#- ts plus a whole number of seconds (negative to go back). -#}
{% macro add_seconds(ts, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'platform_metrics')(ts, seconds)) }}
{%- endmacro %}

{% macro default__add_seconds(ts, seconds) -%}
    {{ dbt.dateadd('second', seconds, ts) }}
{%- endmacro %}

{#-
    dbt-spark's dateadd goes through unix seconds, so it drops the microseconds (and it raises on a
    null ts): count in microseconds instead, in a double so that an int column cannot overflow.
-#}
{% macro spark__add_seconds(ts, seconds) -%}
    timestamp_micros(unix_micros({{ ts }}) + cast(round(1000000D * ({{ seconds }})) as bigint))
{%- endmacro %}

{#- A timestamp with time zone as wall-clock time in the configured var('timezone'). -#}
{% macro to_local_timestamp(ts) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'platform_metrics')(ts)) }}
{%- endmacro %}

{% macro default__to_local_timestamp(ts) -%}
    timezone({{ sql_literal(var('timezone')) }}, {{ ts }})
{%- endmacro %}

{#-
    Spark has no wall-clock timestamp type in this project's SQL: the instant whose rendering in the
    session's zone (UTC) is the wall-clock time in var('timezone'), as DuckDB's timestamp reads.
-#}
{% macro spark__to_local_timestamp(ts) -%}
    from_utc_timestamp({{ ts }}, {{ sql_literal(var('timezone')) }})
{%- endmacro %}

{#- The first day of the week (Monday) or month containing ts, in var('timezone'). -#}
{% macro period_start(grain, ts) -%}
    cast({{ dbt.date_trunc(grain, to_local_timestamp(ts)) }} as date)
{%- endmacro %}

{#- Days in the week or month starting at period_start. -#}
{% macro days_in_period(grain, period_start_date) -%}
    {{ return(adapter.dispatch('days_in_period', 'platform_metrics')(grain, period_start_date)) }}
{%- endmacro %}

{% macro default__days_in_period(grain, period_start_date) -%}
    {{ dbt.datediff(period_start_date, dbt.dateadd(grain, 1, period_start_date), 'day') }}
{%- endmacro %}

{#- period_start: every period from the relation's start to end column, inclusive, no gaps. -#}
{% macro period_spine(grain, bounds_relation, start_column, end_column) -%}
    {{ return(adapter.dispatch('period_spine', 'platform_metrics')(
        grain, bounds_relation, start_column, end_column
    )) }}
{%- endmacro %}

{% macro default__period_spine(grain, bounds_relation, start_column, end_column) -%}
    select cast(spine.period_start as date) as period_start
    from {{ bounds_relation }}
    cross join
        generate_series(
            cast({{ bounds_relation }}.{{ start_column }} as timestamp),
            cast({{ bounds_relation }}.{{ end_column }} as timestamp),
            interval 1 {{ grain }}
        ) as spine (period_start)
{%- endmacro %}

{#- true when value matches the regex (a partial match, like Python's re.search); never null. -#}
{% macro regex_matches(value, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'platform_metrics')(value, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(value, pattern) -%}
    coalesce(regexp_matches({{ value }}, {{ sql_literal(pattern) }}), false)
{%- endmacro %}

{#-
    Java regex on Spark (RE2 on DuckDB): the same for the patterns this project uses, with \b
    made ASCII's word boundary as RE2's (pm_regex_literal).
-#}
{% macro spark__regex_matches(value, pattern) -%}
    coalesce({{ value }} rlike {{ pm_regex_literal(pattern) }}, false)
{%- endmacro %}
