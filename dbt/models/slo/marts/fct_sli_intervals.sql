-- One row per SLO and interval, in budget units of the SLO's budgeting method (docs/slos.md):
--   Occurrences      good / total events (a thresholdMetric reading is one event);
--   Timeslices       1 good or 1 bad slice: the slice's ratio reaches timeSliceTarget, or its
--                    reading passes `op value`; a slice with no traffic is good;
--   RatioTimeslices  the slice's ratio as good out of 1 (1 with no traffic).
-- Every number downstream is sum(good) / sum(total) over some window.
with

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

sli as (
    select
        *,
        'Prometheus' as source_type
    from {{ ref('int_sli_prometheus_intervals') }}
    union all
    select
        *,
        'Warehouse' as source_type
    from {{ ref('int_sli_warehouse_intervals') }}
    union all
    select
        *,
        'Incidents' as source_type
    from {{ ref('int_sli_incident_intervals') }}
),

joined as (
    select
        sli.*,
        definitions.budgeting_method,
        definitions.indicator,
        definitions.op,
        definitions.threshold_value,
        definitions.time_slice_target,
        definitions.interval_seconds,
        {{ threshold_holds('sli.reading', 'definitions.op', 'definitions.threshold_value') }}
            as reading_passes
    from sli
    inner join definitions
        on sli.slo = definitions.slo and sli.source_type = definitions.source_type
),

final as (
    select
        slo,
        interval_start,
        {{ add_seconds('interval_start', 'interval_seconds') }} as interval_end,
        case
            when indicator = 'threshold' then (case when reading_passes then 1.0 else 0.0 end)
            when budgeting_method = 'Occurrences' then good_events
            when total_events <= 0 then 1.0
            when budgeting_method = 'Timeslices'
                then (
                    case
                        when good_events / total_events >= time_slice_target - 1e-12 then 1.0
                        else 0.0
                    end
                )
            else good_events / total_events
        end as good,
        case
            when indicator = 'threshold' or budgeting_method <> 'Occurrences' then 1.0
            else total_events
        end as total,
        good_events,
        total_events,
        reading,
        source_type
    from joined
)

select * from final
