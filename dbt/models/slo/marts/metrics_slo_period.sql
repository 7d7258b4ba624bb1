-- Attainment and error budget per SLO and period: calendar week, month and quarter (cut in the
-- SLO's time zone) and the rolling 28 days ending each day. With B = 1 - target:
--   attainment = good / total; budget_consumed = (1 - attainment) / B; remaining = 1 - consumed;
--   burn_rate = error ratio of the 24 hours ending at the period's last interval / B;
--   time_to_exhaustion_hours = remaining x period hours / burn_rate.
with

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

windows as (
    select * from {{ ref('int_sli_windows') }}
),

horizon as (
    select
        slo,
        max(interval_end) as data_until
    from windows
    group by 1
),

local_intervals as (
    select
        windows.*,
        cast(
            {{ pm_zone_local_timestamp('definitions.time_zone', 'windows.interval_start') }}
            as timestamp
        ) as local_start
    from windows
    inner join definitions on windows.slo = definitions.slo
),

calendar_rows as (
    {%- for grain in ['week', 'month', 'quarter'] %}
        select
            slo,
            '{{ grain }}' as period_kind,
            cast(date_trunc('{{ grain }}', local_start) as date) as period_start,
            cast(date_trunc('{{ grain }}', local_start) + {{ pm_interval(1, grain) }} as date)
                as period_end,
            interval_end,
            good,
            total,
            good_24h,
            total_24h
        from local_intervals
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

calendar_periods as (
    select
        slo,
        period_kind,
        period_start,
        period_end,
        sum(good) as good,
        sum(total) as total,
        max(interval_end) as last_interval_end,
        {{ pm_arg_max('good_24h', 'interval_end') }} as good_24h,
        {{ pm_arg_max('total_24h', 'interval_end') }} as total_24h
    from calendar_rows
    group by 1, 2, 3, 4
),

daily as (
    select
        slo,
        cast(local_start as date) as day,
        sum(good) as good,
        sum(total) as total,
        max(interval_end) as last_interval_end,
        {{ pm_arg_max('good_24h', 'interval_end') }} as good_24h,
        {{ pm_arg_max('total_24h', 'interval_end') }} as total_24h
    from local_intervals
    group by 1, 2
),

rolling_periods as (
    select
        slo,
        'rolling_28d' as period_kind,
        cast(day - interval 27 day as date) as period_start,
        cast(day + interval 1 day as date) as period_end,
        sum(good) over last_28_days as good,
        sum(total) over last_28_days as total,
        last_interval_end,
        good_24h,
        total_24h
    from daily
    window last_28_days as (
        partition by slo order by day
        range between interval 27 day preceding and current row
    )
),

periods as (
    select * from calendar_periods
    union all
    select * from rolling_periods
),

measured as (
    select
        periods.*,
        definitions.target,
        definitions.time_zone,
        1 - definitions.target as error_budget,
        definitions.period_kind = periods.period_kind as is_slo_window,
        {{ hours_between('cast(periods.period_start as timestamp)',
            'cast(periods.period_end as timestamp)') }} as period_hours,
        horizon.data_until,
        {{ pm_zone_instant('definitions.time_zone', 'cast(periods.period_end as timestamp)') }}
            as period_end_at,
        case when periods.total > 0 then periods.good / periods.total end as attainment,
        case
            when periods.total_24h > 0
                then (1 - periods.good_24h / periods.total_24h) / (1 - definitions.target)
            else 0
        end as burn_rate
    from periods
    inner join definitions on periods.slo = definitions.slo
    inner join horizon on periods.slo = horizon.slo
),

budgeted as (
    select
        *,
        error_budget * total as budget_total,
        (1 - attainment) / error_budget as budget_consumed,
        1 - (1 - attainment) / error_budget as budget_remaining,
        case
            when period_kind = 'rolling_28d' then period_hours
            else greatest({{ hours_between('last_interval_end', 'period_end_at') }}, 0)
        end as hours_left
    from measured
),

final as (
    select
        slo,
        period_kind,
        period_start,
        period_end,
        is_slo_window,
        -- Over at the run's clock, and (calendar periods) the data reaches the period's end.
        {{ period_is_complete('period_start', 'period_end', 'time_zone', synced=false) }}
        and (period_kind = 'rolling_28d' or last_interval_end >= period_end_at) as is_complete,
        good,
        total,
        attainment,
        lag(attainment) over (
            partition by slo, period_kind order by period_start
        ) as previous_attainment,
        target,
        attainment >= target as met,
        budget_total,
        budget_consumed,
        budget_remaining,
        burn_rate,
        case
            when attainment is null then null
            when budget_remaining <= 0 then 0
            when burn_rate <= 0 then null
            else budget_remaining * period_hours / burn_rate
        end as time_to_exhaustion_hours,
        case
            when attainment is null then 'no_data'
            when budget_remaining <= 0 then 'exhausted'
            when burn_rate > 0 and budget_remaining * period_hours / burn_rate < hours_left
                then 'at_risk'
            else 'healthy'
        end as status,
        period_hours,
        last_interval_end
    from budgeted
)

select * from final
