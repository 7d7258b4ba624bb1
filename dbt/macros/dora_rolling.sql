{#-
    The rolling_28d grain of dora_metrics (dora_metrics.sql): each 28-day window's counts and
    quantiles by window functions over each fact once, on DuckDB and on Spark.
-#}

{#- The frame of the 28-day window starting on a row's day: rows of the same scope, that day to 27 days later. -#}
{% macro rolling_frame() -%}
    (
        partition by scope, scope_name
        order by {{ pm_day_number('period_start') }}
        range between current row and 27 following
    )
{%- endmacro %}

{#-
    The windows (period_start, scope, scope_name) with any of the facts: their count (count_column)
    and the interpolated quantiles of value, one column per (column, fraction) of quantiles. Each
    window is a marker row among its scope's facts (rolling_rows); only the markers are kept.
-#}
{% macro rolling_stats(facts, value, count_column, quantiles) -%}
    {#- (the SQL linter's jinja templater has no adapter: it lints the Spark form, whose frame
    offsets sqlfluff's duckdb dialect parses) -#}
    {%- set windows = adapter.dispatch('rolling_windows', 'platform_metrics')
        if adapter is defined else spark__rolling_windows -%}
    select
        period_start,
        scope,
        scope_name,
        {{ count_column }}
        {%- for column, _ in quantiles %},
        {{ column }}
        {%- endfor %}
    from (
        {{ windows(facts, value, count_column, quantiles) }}
    ) as windows
    where is_window and {{ count_column }} > 0
{%- endmacro %}

{#- The facts (is_fact 1) and the window markers (is_fact null, value marker_value) of every scope. -#}
{% macro rolling_rows(facts, value, marker_value) -%}
    select
        period_start,
        {{ pm_day_number('period_start') }} as day_number,
        scope,
        scope_name,
        {{ value }},
        1 as is_fact,
        false as is_window
    from {{ facts }}
    union all
    select
        period_start,
        {{ pm_day_number('period_start') }} as day_number,
        scope,
        scope_name,
        {{ marker_value }} as {{ value }},
        null as is_fact,
        true as is_window
    from window_markers
{%- endmacro %}

{#-
    DuckDB: a windowed quantile is fast over a frame of non-null values and slow (every frame
    sorted anew: 54 s instead of 1 s for one quantile at 10x) once a null is inside it, so the
    markers cannot sit among the facts with a null value. They go after all of their scope's
    facts, which are ordered by day; each marker's frame is then the rows of its window's facts,
    given as offsets back from the marker: facts_before (the scope's facts before its first day)
    to facts_before + count - 1. A marker's value (0.0) is in no marker's frame.
-#}
{% macro default__rolling_windows(facts, value, count_column, quantiles) -%}
    select
        period_start,
        scope,
        scope_name,
        is_window,
        {{ count_column }}
        {%- for column, fraction in quantiles %},
        quantile_cont({{ value }}, {{ fraction }}) over (
            partition by scope, scope_name
            order by is_window, day_number
            rows between
                (case when is_window then position - facts_before else 0 end) preceding
                and (
                    case when is_window then position - facts_before - {{ count_column }} + 1 else 0 end
                ) preceding
        ) as {{ column }}
        {%- endfor %}
    from (
        select
            *,
            -- Facts first (0 .. facts_in_scope - 1), then the markers by day.
            facts_in_scope
            + row_number() over (partition by scope, scope_name, is_window order by day_number)
            - 1 as position
        from (
            select
                *,
                count(is_fact) over (partition by scope, scope_name) as facts_in_scope,
                coalesce(count(is_fact) over (
                    partition by scope, scope_name
                    order by day_number
                    range between unbounded preceding and 1 preceding
                ), 0) as facts_before,
                count(is_fact) over {{ rolling_frame() }} as {{ count_column }}
            from ({{ rolling_rows(facts, value, '0.0') }}) as window_rows
        ) as counted
    ) as positioned
{%- endmacro %}

{#-
    Spark: window functions over the facts and the markers (value null), ordered by day, the frame
    the window's 28 days (rolling_frame). Spark has no frame offsets from columns.
-#}
{% macro spark__rolling_windows(facts, value, count_column, quantiles) -%}
    select
        period_start,
        scope,
        scope_name,
        is_window,
        count(is_fact) over {{ rolling_frame() }} as {{ count_column }}
        {%- for column, fraction in quantiles %},
        {{ pm_quantile_cont(value, fraction) }} over {{ rolling_frame() }} as {{ column }}
        {%- endfor %}
    from ({{ rolling_rows(facts, value, 'null') }}) as window_rows
{%- endmacro %}
