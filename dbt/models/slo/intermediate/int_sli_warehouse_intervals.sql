-- Warehouse SLIs: rows of a mart counted per interval, generated from raw.slo_definitions.
-- depends_on: {{ ref('fct_deployments') }}
-- depends_on: {{ ref('fct_incidents') }}
-- depends_on: {{ ref('fct_changes') }}
-- depends_on: {{ ref('stg_slo__definitions') }}
with

counted as (
    {{ slo_warehouse_intervals() }}
),

final as (
    select
        slo,
        interval_start,
        good_events,
        total_events,
        cast(null as double) as reading
    from counted
)

select * from final
