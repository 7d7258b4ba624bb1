-- The share of an SLO's error budget each incident of its service consumed: bad budget units in
-- the intervals the incident overlaps / the budget of the SLO's own period containing the
-- incident (for a rolling SLO, the 28 days ending the day it was resolved).
with

incidents as (
    select * from {{ ref('fct_incidents') }}
),

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

intervals as (
    select * from {{ ref('fct_sli_intervals') }}
),

periods as (
    select * from {{ ref('metrics_slo_period') }}
    where is_slo_window
),

slo_incidents as (
    select
        incidents.incident_id,
        definitions.slo,
        incidents.service,
        incidents.severity,
        incidents.started_at,
        incidents.resolved_at,
        definitions.period_kind,
        cast(
            {{ pm_zone_local_timestamp('definitions.time_zone', 'incidents.started_at') }} as date
        ) as local_start_day,
        cast(
            {{ pm_zone_local_timestamp(
                'definitions.time_zone', 'coalesce(incidents.resolved_at, incidents.started_at)'
            ) }}
            as date
        ) as local_end_day
    from incidents
    inner join definitions on incidents.service = definitions.service
),

spent as (
    select
        slo_incidents.incident_id,
        slo_incidents.slo,
        coalesce(sum(intervals.total - intervals.good), 0) as bad_units
    from slo_incidents
    left join intervals
        on
            slo_incidents.slo = intervals.slo
            and slo_incidents.started_at < intervals.interval_end
            and intervals.interval_start
            < coalesce(slo_incidents.resolved_at, slo_incidents.started_at)
    group by 1, 2
),

final as (
    select
        slo_incidents.incident_id,
        slo_incidents.slo,
        slo_incidents.service,
        slo_incidents.severity,
        slo_incidents.started_at,
        slo_incidents.resolved_at,
        periods.period_kind,
        periods.period_start,
        spent.bad_units,
        periods.budget_total,
        spent.bad_units / nullif(periods.budget_total, 0) as budget_share_consumed
    from slo_incidents
    inner join spent
        on slo_incidents.incident_id = spent.incident_id and slo_incidents.slo = spent.slo
    left join periods
        on
            slo_incidents.slo = periods.slo
            and (
                (
                    slo_incidents.period_kind <> 'rolling_28d'
                    and slo_incidents.local_start_day >= periods.period_start
                    and slo_incidents.local_start_day < periods.period_end
                )
                or (
                    slo_incidents.period_kind = 'rolling_28d'
                    and periods.period_end = slo_incidents.local_end_day + interval 1 day
                )
            )
)

select * from final
