{#-
    Helpers for the SLO models (dbt/models/slo). SLO definitions are data (raw.slo_definitions,
    written from the OpenSLO specs), so the SQL here is generated from that table, never per SLO.
-#}

{#- The start of the interval of `seconds` (dividing a day) that contains ts, in UTC. -#}
{% macro interval_floor(ts, seconds) -%}
    {{ pm_to_timestamp('floor(' ~ pm_epoch(ts) ~ ' / (' ~ seconds ~ ')) * (' ~ seconds ~ ')') }}
{%- endmacro %}

{#- true when `reading op value` holds, op one of lt/lte/gt/gte (columns or literals). -#}
{% macro threshold_holds(reading, op, value) -%}
    case {{ op }}
        when 'lt' then {{ reading }} < {{ value }}
        when 'lte' then {{ reading }} <= {{ value }}
        when 'gt' then {{ reading }} > {{ value }}
        when 'gte' then {{ reading }} >= {{ value }}
    end
{%- endmacro %}

{#-
    Warehouse SLIs: for each SLO of source type Warehouse, its mart's rows counted per interval
    (good = rows matching the good filter, or not matching the bad one; total = rows matching the
    total filter). Read from raw.slo_definitions when the model runs.
-#}
{% macro slo_warehouse_intervals() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- set query -%}
            select slo, mart_table, mart_timestamp, good_filter, bad_filter, total_filter,
                interval_seconds
            from {{ source('raw', 'slo_definitions') }}
            where source_type = 'Warehouse'
            order by slo
        {%- endset -%}
        {%- set rows = run_query(query).rows -%}
    {%- endif -%}
    {%- for r in rows %}
    select
        {{ sql_literal(r[0]) }} as slo,
        {{ interval_floor(r[2], r[6]) }} as interval_start,
        cast(count(*) filter (where
            {%- if r[3] %} ({{ r[3] }}){% elif r[4] %} not ({{ r[4] }}){% else %} true{% endif -%}
        ) as double) as good_events,
        cast(count(*) as double) as total_events
    from {{ ref(r[1]) }}
    where {{ r[2] }} is not null{% if r[5] %} and ({{ r[5] }}){% endif %}
    group by 1, 2
    union all
    {%- endfor %}
    select
        cast(null as {{ pm_string_type() }}) as slo,
        cast(null as {{ pm_timestamptz() }}) as interval_start,
        cast(null as double) as good_events,
        cast(null as double) as total_events
    where false
{%- endmacro %}
