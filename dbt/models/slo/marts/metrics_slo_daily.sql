-- Budget burn-down: per SLO and day of its own period (its calendar period, or for a rolling SLO
-- the latest 28 days), the budget remaining from the period's start to the end of that day.
with

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

intervals as (
    select * from {{ ref('fct_sli_intervals') }}
),

days as (
    select
        intervals.slo,
        definitions.period_kind,
        definitions.target,
        cast(
            {{ pm_zone_local_timestamp('definitions.time_zone', 'intervals.interval_start') }}
            as date
        ) as day,
        sum(intervals.good) as good,
        sum(intervals.total) as total
    from intervals
    inner join definitions on intervals.slo = definitions.slo
    group by 1, 2, 3, 4
),

latest as (
    select
        slo,
        max(day) as last_day
    from days
    group by 1
),

in_period as (
    select
        days.*,
        case days.period_kind
            when 'week' then cast(date_trunc('week', days.day) as date)
            when 'month' then cast(date_trunc('month', days.day) as date)
            when 'quarter' then cast(date_trunc('quarter', days.day) as date)
            else cast(latest.last_day - interval 27 day as date)
        end as period_start
    from days
    inner join latest on days.slo = latest.slo
    where days.period_kind <> 'rolling_28d' or days.day > latest.last_day - interval 28 day
),

cumulative as (
    select
        *,
        sum(good) over to_date as good_to_date,
        sum(total) over to_date as total_to_date
    from in_period
    window to_date as (
        partition by slo, period_start order by day
        rows between unbounded preceding and current row
    )
),

final as (
    select
        slo,
        period_kind,
        period_start,
        day,
        good,
        total,
        good_to_date,
        total_to_date,
        target,
        case
            when total_to_date > 0
                then 1 - (1 - good_to_date / total_to_date) / (1 - target)
        end as budget_remaining_to_date
    from cumulative
)

select * from final
