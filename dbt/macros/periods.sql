{#-
    The run's clock and period completeness: the one place that says whether a period is over.
    Every period mart (DORA weeks, months and quarters, SLO periods, platform months, cognitive-load
    weeks) computes is_complete with period_is_complete, so readers can keep to complete periods.

    run_clock(): the instant the run stands at, as wall-clock time in var('timezone') (or `tz`).
    var('as_of') pins it ('YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]', wall-clock time in
    var('timezone')); var('scorecard_as_of') is its older name and still works. Empty: now.
-#}
{% macro run_clock_var() -%}
    {{ return(var('as_of', '') or var('scorecard_as_of', '') or '') }}
{%- endmacro %}

{#- The run's clock as an instant (timestamp with time zone). -#}
{% macro run_clock_instant() -%}
    {%- set pinned = run_clock_var() -%}
    {%- if pinned -%}
        {{ pm_from_local_timestamp('cast(' ~ sql_literal(pinned) ~ ' as timestamp)') }}
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}

{#- The run's clock as wall-clock time (timestamp) in `tz` (default var('timezone')). -#}
{% macro run_clock(tz=none) -%}
    {%- if tz is none and run_clock_var() -%}
        cast({{ sql_literal(run_clock_var()) }} as timestamp)
    {%- elif tz is none -%}
        cast({{ to_local_timestamp('current_timestamp') }} as timestamp)
    {%- else -%}
        cast({{ pm_zone_local_timestamp(tz, run_clock_instant()) }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{#- The run's day in var('timezone'). -#}
{% macro run_date() -%}
    cast({{ run_clock() }} as date)
{%- endmacro %}

{#-
    true when the period [period_start, period_end) is over at the run's clock: its exclusive end
    (local wall-clock midnight, in var('timezone') or `tz`) is not after the clock. Comparing
    wall-clock times keeps daylight-saving days right (a 23- or 25-hour day ends at midnight).
    A period is also incomplete while the code hosts' progressive backfill has not reached its
    start (period_fully_synced, sync_coverage.sql): its history is still being read. Periods built
    from sources that the backfill does not cover (SLO windows over SLI samples) pass synced=false.
-#}
{% macro period_is_complete(period_start, period_end, tz=none, synced=true) -%}
    (
        coalesce(cast({{ period_end }} as timestamp) <= {{ run_clock(tz) }}, false)
        {%- if synced %}
        and {{ period_fully_synced(period_start) }}
        {%- endif %}
    )
{%- endmacro %}

{#- The exclusive end of the period of `grain` (week, month, quarter) starting at period_start. -#}
{% macro period_end(grain, period_start_date) -%}
    cast({{ dbt.dateadd(grain, 1, period_start_date) }} as date)
{%- endmacro %}
