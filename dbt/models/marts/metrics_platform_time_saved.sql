{#-
    Time saved per month and task (var('platform_tasks')): the task's median time per unit in
    the baseline period against its median in the month, times the month's units:
      hours_saved = (baseline_hours - current_hours) x volume      (negative: it got slower)
      value       = hours_saved x loaded_hourly_rate x attribution_factor
    Months up to the end of the baseline have no time saved (they are the yardstick). A month
    with no units saves 0 hours. Without an hourly rate configured, value is null.
    The survey_friction task is time recovered from friction: the organisation's survey hours lost
    per developer-week (metrics_devex_wave, the latest shown wave closed by the end of the baseline,
    else the first shown wave) against the latest shown wave closed by the month's end, times the
    month's developer-weeks (developers x working weeks per month).
-#}

with

samples as (
    select * from {{ ref('int_platform_task_samples') }}
),

months as (
    select * from {{ ref('int_platform_months') }}
),

devex_waves as (
    select * from {{ ref('metrics_devex_wave') }}
),

org_teams as (
    select * from {{ ref('stg_org__teams') }}
),

tasks as (
    select {{ pm_unnest(pm_string_list_literal(var('platform_tasks', []))) }} as task
),

baseline_period as (
    select distinct
        baseline_start,
        baseline_end,
        {{ local_midnight('baseline_end + 1') }} as baseline_end_at
    from months
),

baseline as (
    select
        samples.task,
        percentile_cont(0.5) within group (order by samples.hours) as baseline_hours,
        count(*) as baseline_volume
    from samples
    cross join baseline_period
    where
        cast({{ to_local_timestamp('samples.measured_at') }} as date)
        between baseline_period.baseline_start and baseline_period.baseline_end
    group by samples.task
),

sample_months as (
    select
        {{ period_start('month', 'measured_at') }} as month,
        task,
        hours,
        sample_weight
    from samples
),

monthly as (
    select
        month,
        task,
        percentile_cont(0.5) within group (order by hours) as current_hours,
        -- A sampled task (ci_queue_time) stands for its whole population.
        cast(round(sum(sample_weight)) as bigint) as volume
    from sample_months
    group by month, task
),

-- survey friction: shown organisation rows of the survey, and developer-weeks per month
shown_waves as (
    select
        wave_closed_at,
        respondents,
        hours_lost_per_week
    from devex_waves
    where
        group_type = 'org'
        and not coalesce(suppressed, false)
        and hours_lost_per_week is not null
),

friction_baseline as (
    select
        'survey_friction' as task,
        coalesce(
            {{ pm_arg_max('shown_waves.hours_lost_per_week', 'shown_waves.wave_closed_at') }}
            filter (
                where shown_waves.wave_closed_at < baseline_period.baseline_end_at
            ),
            {{ pm_arg_min('shown_waves.hours_lost_per_week', 'shown_waves.wave_closed_at') }}
        ) as baseline_hours,
        coalesce(
            {{ pm_arg_max('shown_waves.respondents', 'shown_waves.wave_closed_at') }} filter (
                where shown_waves.wave_closed_at < baseline_period.baseline_end_at
            ),
            {{ pm_arg_min('shown_waves.respondents', 'shown_waves.wave_closed_at') }}
        ) as baseline_volume
    from shown_waves
    cross join baseline_period
    having count(*) > 0
),

developers as (
    select sum(engineers) as developers
    from org_teams
),

friction_monthly as (
    select
        months.month,
        'survey_friction' as task,
        {{ pm_arg_max('shown_waves.hours_lost_per_week', 'shown_waves.wave_closed_at') }}
            as current_hours,
        max(developers.developers)
        * {{ platform_number('platform_working_weeks_per_year') }}
        / {{ pm_double_literal('12.0') }} as volume
    from months
    cross join developers
    inner join shown_waves
        on months.month_end_at > shown_waves.wave_closed_at
    group by months.month
),

all_baselines as (
    select
        task,
        baseline_hours,
        baseline_volume
    from baseline
    union all
    select
        task,
        baseline_hours,
        baseline_volume
    from friction_baseline
),

all_monthly as (
    select
        month,
        task,
        current_hours,
        volume
    from monthly
    union all
    select
        month,
        task,
        current_hours,
        volume
    from friction_monthly
),

measured as (
    select
        months.month,
        months.period_end,
        months.is_complete,
        tasks.task,
        months.baseline_start,
        months.baseline_end,
        all_baselines.baseline_hours,
        coalesce(all_baselines.baseline_volume, 0) as baseline_volume,
        all_monthly.current_hours,
        coalesce(all_monthly.volume, 0) as volume,
        months.month <= months.baseline_end as is_baseline_or_before
    from months
    cross join tasks
    left join all_baselines
        on tasks.task = all_baselines.task
    left join all_monthly
        on months.month = all_monthly.month and tasks.task = all_monthly.task
),

saved as (
    select
        *,
        case
            when is_baseline_or_before or baseline_hours is null then null
            when task = 'survey_friction' and current_hours is null then null
            when volume = 0 then {{ pm_double_literal('0.0') }}
            else (baseline_hours - current_hours) * volume
        end as hours_saved
    from measured
),

final as (
    select
        month,
        month as period_start,
        period_end,
        is_complete,
        task,
        case
            when task in ('change_lead_time', 'merge_to_deploy_time') then 'change'
            when task = 'ci_queue_time' then 'ci job'
            when task = 'deployment_duration' then 'deployment'
            when task = 'survey_friction' then 'developer-week'
        end as unit,
        baseline_hours,
        baseline_volume,
        current_hours,
        volume,
        hours_saved,
        hours_saved
        * {{ platform_number('platform_loaded_hourly_rate') }}
        * {{ platform_number('platform_attribution_factor') }} as value,
        {{ platform_literal('platform_currency') }} as currency,
        {{ platform_number('platform_loaded_hourly_rate') }} as hourly_rate,
        {{ platform_number('platform_attribution_factor') }} as attribution_factor,
        baseline_start,
        baseline_end,
        nullif(concat_ws(
            '; ',
            case
                when is_baseline_or_before
                    then 'time saved: month is not after the baseline ('
                        || cast(baseline_start as {{ pm_string_type() }}) || ' to '
                        || cast(baseline_end as {{ pm_string_type() }}) || ')'
            end,
            case
                when not is_baseline_or_before and baseline_hours is null
                    then 'time saved: no ' || task || ' samples in the baseline period'
            end,
            case
                when {{ platform_number('platform_loaded_hourly_rate') }} is null
                    then 'value: no hourly rate configured (platform.value)'
            end
        ), '') as notes
    from saved
)

select * from final
