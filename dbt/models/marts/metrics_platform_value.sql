{#-
    Is the platform worth what it costs? One row per month (int_platform_months):
      adoption         eligible services using at least one capability / eligible services
      golden path      successful production deployments of eligible services that ran through a
                       golden-path capability's workflow / all of them
      onboarding       services created in the month and their median time to first deployment
      self-service     requests fulfilled with no human step / all requests
      time saved       sum over tasks of metrics_platform_time_saved (hours and value)
      friction         survey hours lost per week x developers x working weeks per month (x rate)
      money            value-to-cost = value / cost, ROI = (value - cost) / cost,
                       payback = investment / monthly value
    Every assumption is printed beside the numbers (currency, rate, attribution, working weeks,
    baseline, `assumptions`), and every null column says why in `notes`. Nothing is defaulted:
    an unconfigured input leaves its columns null.
-#}
{%- set rate = platform_number('platform_loaded_hourly_rate') -%}
{%- set weeks_per_month = platform_number('platform_working_weeks_per_year') ~ ' / '
    ~ pm_double_literal('12.0') -%}
{%- set monthly_cost = platform_number('platform_monthly_cost') -%}
{%- set investment = platform_number('platform_investment') -%}
{%- set has_capabilities = (var('platform_capabilities', []) or []) | length > 0 -%}
{%- set has_topics = (var('platform_capabilities', []) or []) | selectattr('topic') | list
    | length > 0 -%}
{%- set golden_paths = (var('platform_capabilities', []) or [])
    | selectattr('golden_path') | list -%}
{%- set self_service_configured = var('platform_self_service_workflow_regex', '') != ''
    or var('platform_self_service_request_label', '') != '' %}

with

months as (
    select * from {{ ref('int_platform_months') }}
),

service_months as (
    select * from {{ ref('int_platform_service_months') }}
),

usage as (
    select * from {{ ref('int_platform_capability_usage') }}
),

capability_runs as (
    select * from {{ ref('int_platform_capability_runs') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

onboarding as (
    select * from {{ ref('fct_service_onboarding') }}
),

requests as (
    select * from {{ ref('int_platform_self_service_requests') }}
),

time_saved as (
    select * from {{ ref('metrics_platform_time_saved') }}
),

org_teams as (
    select * from {{ ref('stg_org__teams') }}
),

devex_waves as (
    select * from {{ ref('metrics_devex_wave') }}
),

eligible as (
    select
        month,
        count(*) as eligible_services
    from service_months
    where is_eligible
    group by month
),

adopting as (
    select
        month,
        count(distinct service) filter (where uses_capability) as adopting_services
    from usage
    group by month
),

eligible_services as (
    select distinct service
    from service_months
    where is_eligible
),

golden_path_runs as (
    select distinct
        repository,
        run_id
    from capability_runs
    where is_golden_path
),

eligible_deployments as (
    select
        {{ period_start('month', 'deployments.deployed_at') }} as month,
        golden_path_runs.run_id is not null as is_golden_path
    from deployments
    inner join eligible_services
        on deployments.service = eligible_services.service
    left join golden_path_runs
        on
            deployments.repository = golden_path_runs.repository
            and deployments.workflow_run_id = golden_path_runs.run_id
    where deployments.status = 'success'
),

deployment_stats as (
    select
        month,
        count(*) as deployments,
        count(*) filter (where is_golden_path) as golden_path_deployments
    from eligible_deployments
    group by month
),

onboarding_stats as (
    select
        created_month as month,
        count(*) as services_created,
        count(first_deployed_at) as services_first_deployed,
        percentile_cont(0.5) within group (
            order by time_to_first_deployment_minutes
        ) as time_to_first_deployment_p50_minutes
    from onboarding
    group by created_month
),

request_months as (
    select
        {{ period_start('month', 'requested_at') }} as month,
        fulfilment
    from requests
),

request_stats as (
    select
        month,
        count(*) as self_service_requests,
        count(*) filter (where fulfilment = 'automated') as self_service_automated
    from request_months
    group by month
),

time_saved_stats as (
    select
        month,
        count(*) as tasks,
        count(hours_saved) as tasks_with_hours_saved,
        sum(hours_saved) as hours_saved,
        sum(value) as time_saved_value
    from time_saved
    group by month
),

developers as (
    select sum(engineers) as developers
    from org_teams
),

-- The org row of the latest survey wave closed by the month's end that is not suppressed.
friction as (
    select
        months.month,
        {{ pm_arg_max('devex_waves.wave', 'devex_waves.wave_closed_at') }} as survey_wave,
        {{ pm_arg_max('devex_waves.hours_lost_per_week', 'devex_waves.wave_closed_at') }}
            as hours_lost_per_week
    from months
    inner join devex_waves
        on
            months.month_end_at > devex_waves.wave_closed_at
            and devex_waves.group_type = 'org'
            and not coalesce(devex_waves.suppressed, false)
            and devex_waves.hours_lost_per_week is not null
    group by months.month
),

measured as (
    select
        months.month,
        months.baseline_start,
        months.baseline_end,
        months.is_default_baseline,
        months.is_latest_month,
        months.period_end,
        months.is_complete,
        coalesce(eligible.eligible_services, 0) as eligible_services,
        {% if has_capabilities -%}
            coalesce(adopting.adopting_services, 0)
        {%- else -%}
            cast(null as bigint)
        {%- endif %} as adopting_services,
        coalesce(deployment_stats.deployments, 0) as deployments,
        {% if golden_paths | length > 0 -%}
            coalesce(deployment_stats.golden_path_deployments, 0)
        {%- else -%}
            cast(null as bigint)
        {%- endif %} as golden_path_deployments,
        coalesce(onboarding_stats.services_created, 0) as services_created,
        coalesce(onboarding_stats.services_first_deployed, 0) as services_first_deployed,
        onboarding_stats.time_to_first_deployment_p50_minutes,
        {% if self_service_configured -%}
            coalesce(request_stats.self_service_requests, 0)
        {%- else -%}
            cast(null as bigint)
        {%- endif %} as self_service_requests,
        {% if self_service_configured -%}
            coalesce(request_stats.self_service_automated, 0)
        {%- else -%}
            cast(null as bigint)
        {%- endif %} as self_service_automated,
        coalesce(time_saved_stats.tasks, 0) as tasks,
        coalesce(time_saved_stats.tasks_with_hours_saved, 0) as tasks_with_hours_saved,
        time_saved_stats.hours_saved,
        time_saved_stats.time_saved_value,
        developers.developers,
        friction.survey_wave,
        friction.hours_lost_per_week,
        {{ weeks_per_month }} as working_weeks_per_month,
        {{ rate }} as hourly_rate,
        {{ monthly_cost }} as platform_cost,
        {{ investment }} as investment
    from months
    cross join developers
    left join eligible
        on months.month = eligible.month
    left join adopting
        on months.month = adopting.month
    left join deployment_stats
        on months.month = deployment_stats.month
    left join onboarding_stats
        on months.month = onboarding_stats.month
    left join request_stats
        on months.month = request_stats.month
    left join time_saved_stats
        on months.month = time_saved_stats.month
    left join friction
        on months.month = friction.month
),

valued as (
    select
        *,
        case
            when eligible_services > 0
                then cast(adopting_services as double) / eligible_services
        end as adoption_rate,
        case
            when deployments > 0 then cast(golden_path_deployments as double) / deployments
        end as golden_path_share,
        case
            when self_service_requests > 0
                then cast(self_service_automated as double) / self_service_requests
        end as self_service_ratio,
        hours_lost_per_week * developers * working_weeks_per_month as friction_hours,
        hours_lost_per_week * developers * working_weeks_per_month * hourly_rate
            as friction_cost,
        time_saved_value / platform_cost as value_to_cost_ratio,
        (time_saved_value - platform_cost) / platform_cost as roi,
        case
            when time_saved_value > 0 then investment / time_saved_value
        end as payback_months
    from measured
),

final as (
    select
        month,
        month as period_start,
        period_end,
        is_complete,
        eligible_services,
        adopting_services,
        adoption_rate,
        deployments,
        golden_path_deployments,
        golden_path_share,
        services_created,
        services_first_deployed,
        time_to_first_deployment_p50_minutes,
        self_service_requests,
        self_service_automated,
        self_service_ratio,
        hours_saved,
        time_saved_value,
        developers,
        survey_wave,
        hours_lost_per_week,
        friction_hours,
        friction_cost,
        platform_cost,
        value_to_cost_ratio,
        roi,
        payback_months,
        investment,
        {{ platform_literal('platform_currency') }} as currency,
        hourly_rate,
        {{ platform_number('platform_attribution_factor') }} as attribution_factor,
        working_weeks_per_month,
        baseline_start,
        baseline_end,
        {{ pm_json_merge_text(platform_assumptions_text(), [
            ['baseline_start', 'baseline_start'],
            ['baseline_end', 'baseline_end'],
            ['baseline', "case
                    when is_default_baseline
                        then 'default: the first 3 calendar months after the earliest deployment'
                    else 'configured: platform.value.baseline'
                end"],
            ['survey_wave', 'survey_wave'],
        ]) }} as assumptions,
        nullif(concat_ws(
            '; ',
            {%- if not has_capabilities %}
                'adoption: no capabilities configured (platform.capabilities)',
            {%- endif %}
            case
                when eligible_services = 0 then 'adoption: no eligible services this month'
                {%- if has_topics %}
                    when not is_latest_month
                        then 'adoption: topic capabilities are known for the latest month only'
                {%- endif %}
            end,
            {%- if golden_paths | length == 0 %}
                'golden path: no capability has golden_path: true',
            {%- endif %}
            case
                when deployments = 0 then 'golden path: no deployments of eligible services'
            end,
            case
                when services_created = 0 then 'time to first deployment: no service created'
                when services_first_deployed < services_created
                    then 'time to first deployment: '
                        || cast(
                            services_created - services_first_deployed as {{ pm_string_type() }}
                        )
                        || ' of ' || cast(services_created as {{ pm_string_type() }})
                        || ' new services not deployed yet (left out of the median)'
            end,
            {%- if not self_service_configured %}
                'self-service: not configured (platform.self_service)',
            {%- else %}
                case
                    when self_service_requests = 0 then 'self-service: no requests this month'
                end,
            {%- endif %}
            case
                when tasks = 0 then 'time saved: no tasks'
                when month <= baseline_end
                    then 'time saved: month is not after the baseline ('
                        || cast(baseline_start as {{ pm_string_type() }}) || ' to '
                        || cast(baseline_end as {{ pm_string_type() }}) || ')'
                when tasks_with_hours_saved < tasks
                    then 'time saved: some tasks have no baseline samples'
                        || ' (see metrics_platform_time_saved)'
            end,
            case
                when hourly_rate is null
                    then 'value: no hourly rate configured (platform.value)'
            end,
            case
                when hours_lost_per_week is null
                    then 'friction: no unsuppressed survey wave closed by the month end'
                when working_weeks_per_month is null
                    then 'friction: no working weeks configured (platform.value)'
            end,
            case
                when platform_cost is null
                    then 'cost: no monthly_cost configured (platform.value.monthly_cost)'
            end,
            case
                when investment is null
                    then 'payback: no investment configured (platform.value.investment)'
                when time_saved_value is null then 'payback: no time-saved value'
                when time_saved_value <= 0
                    then 'payback: time-saved value is not positive this month'
            end
        ), '') as notes
    from valued
)

select * from final
