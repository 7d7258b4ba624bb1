{#-
    The calendar of the platform-value marts: every month (cut in var('timezone'), as the DORA
    marts are) from the first to the last month with a production deployment attempt, with its
    bounds as instants and the baseline period of the time-saved model. The baseline is
    var('platform_baseline_start') .. var('platform_baseline_end') when configured, else the first
    3 calendar months that start after the earliest deployment (that month is taken as partial:
    the history begins inside it).
-#}

with

deployments as (
    select * from {{ ref('fct_deployments') }}
),

bounds as (
    select
        min({{ period_start('month', 'deployed_at') }}) as first_month,
        max({{ period_start('month', 'deployed_at') }}) as last_month,
        min(deployed_at) as first_deployed_at
    from deployments
),

spine as (
    {{ period_spine('month', 'bounds', 'first_month', 'last_month') }}
),

default_baseline as (
    select
        {{ period_start('month', 'first_deployed_at') }} + interval 1 month as first_full_month
    from bounds
),

final as (
    select
        spine.period_start as month,
        {{ local_midnight('spine.period_start') }} as month_start_at,
        {{ local_midnight('spine.period_start + interval 1 month') }} as month_end_at,
        {{ days_in_period('month', 'spine.period_start') }} as days_in_month,
        spine.period_start = bounds.last_month as is_latest_month,
        {{ period_end('month', 'spine.period_start') }} as period_end,
        {{ period_is_complete('spine.period_start', period_end('month', 'spine.period_start')) }}
            as is_complete,
        bounds.first_deployed_at as data_start_at,
        coalesce(
            {{ platform_literal('platform_baseline_start', 'date') }},
            cast(default_baseline.first_full_month as date)
        ) as baseline_start,
        coalesce(
            {{ platform_literal('platform_baseline_end', 'date') }},
            cast(default_baseline.first_full_month + interval 3 month - interval 1 day as date)
        ) as baseline_end,
        {{ 'false' if var('platform_baseline_start', none) else 'true' }} as is_default_baseline
    from spine
    cross join bounds
    cross join default_baseline
)

select * from final
