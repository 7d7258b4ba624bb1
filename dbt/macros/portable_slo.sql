{#-
    Portable SQL of the SLO marts (dbt/models/slo/marts: fct_sli_intervals, metrics_slo_period,
    metrics_slo_daily, metrics_slo_alerts, metrics_slo_incidents): pm_ macros as in portable.sql
    (whose header says how: default__ renders exactly the DuckDB SQL the models had, spark__ Spark
    SQL with the same result). The .sqlfluff file has a lint stand-in for each pm_ macro here.
    Unlike to_local_timestamp and pm_from_local_timestamp (var('timezone')), the zone here is an
    SQL expression: each SLO's own time zone (stg_slo__definitions.time_zone).
-#}

{#-
    An instant as wall-clock time in the zone `zone` (an SQL expression): DuckDB's
    timezone(zone, timestamp with time zone), a timestamp. On Spark (session zone UTC) the
    instant whose rendering in UTC is that wall-clock time (from_utc_timestamp).
-#}
{% macro pm_zone_local_timestamp(zone, ts) -%}
    {{ return(adapter.dispatch('pm_zone_local_timestamp', 'platform_metrics')(zone, ts)) }}
{%- endmacro %}

{% macro default__pm_zone_local_timestamp(zone, ts) -%}
    timezone({{ zone }}, {{ ts }})
{%- endmacro %}

{% macro spark__pm_zone_local_timestamp(zone, ts) -%}
    from_utc_timestamp({{ ts }}, {{ zone }})
{%- endmacro %}

{#-
    Wall-clock time in the zone `zone` (an SQL expression) as the instant it names: DuckDB's
    timezone(zone, timestamp), a timestamp with time zone; on Spark to_utc_timestamp.
-#}
{% macro pm_zone_instant(zone, ts) -%}
    {{ return(adapter.dispatch('pm_zone_instant', 'platform_metrics')(zone, ts)) }}
{%- endmacro %}

{% macro default__pm_zone_instant(zone, ts) -%}
    timezone({{ zone }}, {{ ts }})
{%- endmacro %}

{% macro spark__pm_zone_instant(zone, ts) -%}
    to_utc_timestamp({{ ts }}, {{ zone }})
{%- endmacro %}

{#-
    An interval literal of n (an integer) units: day, week, month or quarter. Spark's interval
    literals have no quarter: 3 months.
-#}
{% macro pm_interval(n, unit) -%}
    {{ return(adapter.dispatch('pm_interval', 'platform_metrics')(n, unit)) }}
{%- endmacro %}

{% macro default__pm_interval(n, unit) -%}
    interval {{ n }} {{ unit }}
{%- endmacro %}

{% macro spark__pm_interval(n, unit) -%}
    {%- if unit == 'quarter' -%}
        interval {{ 3 * n }} month
    {%- else -%}
        interval {{ n }} {{ unit }}
    {%- endif -%}
{%- endmacro %}

{#-
    The number of whole intervals of `seconds` from the epoch to ts, as DuckDB computes
    cast(epoch(ts) / seconds as bigint): a double rounded half to even (Spark's cast truncates;
    bround rounds as DuckDB's cast does).
-#}
{% macro pm_epoch_intervals(ts, seconds) -%}
    {{ return(adapter.dispatch('pm_epoch_intervals', 'platform_metrics')(ts, seconds)) }}
{%- endmacro %}

{% macro default__pm_epoch_intervals(ts, seconds) -%}
    cast(epoch({{ ts }}) / {{ seconds }} as bigint)
{%- endmacro %}

{% macro spark__pm_epoch_intervals(ts, seconds) -%}
    cast(bround(unix_micros({{ ts }}) / 1000000D / {{ seconds }}) as bigint)
{%- endmacro %}
