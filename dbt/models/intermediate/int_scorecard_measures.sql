{#-
    Every measure the success scorecard can show (seeds/scorecard_measures.csv), with its current
    and previous value and, where there is none, why. Periods: "complete month" is the month
    before the one the run's clock falls in (macros/periods.sql: var('as_of'), default today in
    var('timezone')); survey
    measures use the latest and previous waves closed by then; SLO compliance each SLO's latest
    complete window. Percentages are 0-100. DORA measures come for the organisation, every team
    and every service (scope 'org', 'team:<name>', 'service:<name>'). DORA and platform-value
    measures read their mart's latest complete month (is_complete) and the one before, so the
    scorecard shows the month the site and metrics.prom show; policy and infrastructure measures
    the month before the run's.
-#}

with

as_of as (
    select {{ run_date() }} as as_of_date
),

months as (
    select
        as_of_date,
        cast(date_trunc('month', as_of_date) - interval 1 month as date) as complete_month,
        cast(date_trunc('month', as_of_date) - interval 2 month as date) as previous_month
    from as_of
),

devex as (
    select * from {{ ref('metrics_devex_wave') }}
),

platform_value as (
    select * from {{ ref('metrics_platform_value') }}
),

slo_periods as (
    select * from {{ ref('metrics_slo_period') }}
),

changes as (
    select * from {{ ref('fct_changes') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

dora as (
    select * from {{ ref('metrics_dora_monthly') }}
),

services as (
    select * from {{ ref('stg_org__services') }}
),

pagerduty_services as (
    select * from {{ ref('stg_org__pagerduty_services') }}
),

incident_services as (
    select * from {{ ref('stg_org__incident_services') }}
),

slo_definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

-- survey: the organisation row of the latest two waves closed by the as-of day ------------------
org_waves as (
    select
        devex.*,
        row_number() over (order by devex.wave_number desc) as recency
    from devex
    cross join as_of
    where
        devex.group_type = 'org'
        and cast({{ to_local_timestamp('devex.wave_closed_at') }} as date) <= as_of.as_of_date
),

shown_org_waves as (
    select
        *,
        row_number() over (order by wave_number desc) as shown_recency
    from org_waves
    where not suppressed
),

survey_scores as (
    {%- for measure, column in [
        ('developer_satisfaction', 'satisfaction_mean'),
        ('devex_index', 'devex_index'),
        ('cognitive_load_index', 'cognitive_load_index'),
        ('platform_nps', 'platform_nps'),
        ('hours_lost_per_week', 'hours_lost_per_week'),
    ] %}
        select
            {{ sql_literal(measure) }} as measure,
            max(case when shown_recency = 1 then {{ column }} end) as current_value,
            max(case when shown_recency = 1 then wave end) as current_period,
            max(case when shown_recency = 2 then {{ column }} end) as previous_value,
            max(case when shown_recency = 2 then wave end) as previous_period,
            'no survey wave with enough respondents to show' as reason_if_empty
        from shown_org_waves
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

response_rate as (
    select
        'survey_response_rate' as measure,
        max(case when recency = 1 then 100 * response_rate end) as current_value,
        max(case when recency = 1 then wave end) as current_period,
        max(case when recency = 2 then 100 * response_rate end) as previous_value,
        max(case when recency = 2 then wave end) as previous_period,
        'no survey wave with invited counts (add <wave>.invited.yaml)' as reason_if_empty
    from org_waves
),

-- platform value: the mart's latest complete month and the one before (the platform-value page
-- and metrics.prom read the same month; a month older than the last one is flagged stale there)
value_months as (
    select
        platform_value.*,
        row_number() over (order by platform_value.month desc) as recency
    from platform_value
    cross join as_of
    where platform_value.is_complete and platform_value.month < as_of.as_of_date
),

value_scores as (
    {%- for measure, expression, reason in [
        ('platform_adoption', '100 * adoption_rate', 'no platform capability configured or detected'),
        ('golden_path_share', '100 * golden_path_share', 'no golden-path capability configured, or no deployments'),
        ('self_service_ratio', '100 * self_service_ratio', 'platform.self_service is not configured, or no requests'),
        ('value_to_cost_ratio', 'value_to_cost_ratio', 'platform.value (rates and cost) is not configured'),
    ] %}
        select
            {{ sql_literal(measure) }} as measure,
            max(case when recency = 1 then {{ expression }} end) as current_value,
            {{ pm_year_month('max(case when recency = 1 then month end)') }} as current_period,
            max(case when recency = 2 then {{ expression }} end) as previous_value,
            {{ pm_year_month('max(case when recency = 2 then month end)') }} as previous_period,
            {{ sql_literal(reason) }} as reason_if_empty
        from value_months
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

-- time to first deployment: the latest two complete months with services created
onboarding_months as (
    select
        platform_value.month,
        platform_value.time_to_first_deployment_p50_minutes,
        row_number() over (order by platform_value.month desc) as recency
    from platform_value
    cross join as_of
    where
        platform_value.time_to_first_deployment_p50_minutes is not null
        and platform_value.is_complete
        and platform_value.month <= as_of.as_of_date
),

onboarding as (
    select
        'time_to_first_deployment' as measure,
        max(case when recency = 1 then time_to_first_deployment_p50_minutes end) as current_value,
        {{ pm_year_month('max(case when recency = 1 then month end)') }} as current_period,
        max(case when recency = 2 then time_to_first_deployment_p50_minutes end) as previous_value,
        {{ pm_year_month('max(case when recency = 2 then month end)') }} as previous_period,
        'no service created (and deployed) in the data window' as reason_if_empty
    from onboarding_months
),

-- SLO compliance: each SLO's latest complete window of its own kind, and the one before ---------
slo_windows as (
    select
        slo_periods.slo,
        slo_periods.period_start,
        slo_periods.period_end,
        slo_periods.met,
        row_number() over (
            partition by slo_periods.slo order by slo_periods.period_end desc
        ) as recency
    from slo_periods
    cross join as_of
    where
        slo_periods.is_slo_window
        and slo_periods.is_complete
        and cast(slo_periods.period_end as date) <= as_of.as_of_date + 1
),

slo_current as (
    select * from slo_windows
    where recency = 1
),

slo_previous as (
    select
        slo_windows.slo,
        slo_windows.met,
        row_number() over (
            partition by slo_windows.slo order by slo_windows.period_end desc
        ) as recency
    from slo_windows
    inner join slo_current
        on
            slo_windows.slo = slo_current.slo
            and slo_windows.period_end <= slo_current.period_start
),

slo_compliance as (
    select
        'slo_compliance' as measure,
        {{ pm_double_literal('100.0') }} * count_if(slo_current.met)
        / nullif(count(slo_current.slo), 0) as current_value,
        'latest window' as current_period,
        {{ pm_double_literal('100.0') }} * count_if(slo_previous.met)
        / nullif(count(slo_previous.slo), 0) as previous_value,
        'window before' as previous_period,
        'no SLO has a complete window (define SLOs: docs/slos.md)' as reason_if_empty
    from slo_current
    left join slo_previous
        on
            slo_current.slo = slo_previous.slo
            and slo_previous.recency = 1
),

-- policy: merged changes reviewed by someone other than the author before the merge ------------
merged_changes as (
    select
        changes.first_review_at is not null as is_reviewed,
        case
            when {{ period_start('month', 'changes.merged_at') }} = months.complete_month then 1
            when {{ period_start('month', 'changes.merged_at') }} = months.previous_month then 2
        end as recency,
        months.complete_month,
        months.previous_month
    from changes
    cross join months
    where changes.merged_at is not null
),

policy as (
    select
        'policy_compliance' as measure,
        {{ pm_double_literal('100.0') }} * count_if(recency = 1 and is_reviewed)
        / nullif(count_if(recency = 1), 0)
            as current_value,
        {{ pm_year_month('max(complete_month)') }} as current_period,
        {{ pm_double_literal('100.0') }} * count_if(recency = 2 and is_reviewed)
        / nullif(count_if(recency = 2), 0)
            as previous_value,
        {{ pm_year_month('max(previous_month)') }} as previous_period,
        'no change merged in the month' as reason_if_empty
    from merged_changes
),

-- infrastructure change failure rate: deployments of the platform's own (tier internal) services
infrastructure_deployments as (
    select
        deployments.is_failure,
        case
            when
                {{ period_start('month', 'deployments.deployed_at') }} = months.complete_month
                then 1
            when
                {{ period_start('month', 'deployments.deployed_at') }} = months.previous_month
                then 2
        end as recency
    from deployments
    inner join services
        on deployments.service = services.service
    cross join months
    where services.tier = 'internal'
),

infrastructure_failures as (
    select
        'infrastructure_change_failure_rate' as measure,
        {{ pm_double_literal('100.0') }}
        * count_if(infrastructure_deployments.recency = 1 and infrastructure_deployments.is_failure)
        / nullif(count_if(infrastructure_deployments.recency = 1), 0) as current_value,
        {{ pm_year_month('max(months.complete_month)') }} as current_period,
        {{ pm_double_literal('100.0') }}
        * count_if(infrastructure_deployments.recency = 2 and infrastructure_deployments.is_failure)
        / nullif(count_if(infrastructure_deployments.recency = 2), 0) as previous_value,
        {{ pm_year_month('max(months.previous_month)') }} as previous_period,
        'no deployment of a tier internal service in the month' as reason_if_empty
    from months
    left join infrastructure_deployments
        on infrastructure_deployments.recency is not null
),

-- metrics collection coverage: the share of the signals collected per service -----------------
recent_deployments as (
    select distinct deployments.service
    from deployments
    cross join as_of
    where
        cast({{ to_local_timestamp('deployments.deployed_at') }} as date)
        > as_of.as_of_date - 90
),

incident_sources as (
    select service from pagerduty_services
    union
    select service from incident_services
    union
    select service from incidents
    where service is not null
),

latest_wave_teams as (
    select distinct devex.group_value as team
    from devex
    inner join org_waves
        on devex.wave = org_waves.wave and org_waves.recency = 1
    where devex.group_type = 'team' and devex.respondents > 0
),

slo_services as (
    select distinct service from slo_definitions
    where service is not null
),

service_signals as (
    select
        services.service,
        (
            cast(recent_deployments.service is not null as integer)
            + cast(incident_sources.service is not null as integer)
            + cast(slo_services.service is not null as integer)
            + cast(latest_wave_teams.team is not null as integer)
        ) / {{ pm_double_literal('4.0') }} as covered_share
    from services
    left join recent_deployments
        on services.service = recent_deployments.service
    left join incident_sources
        on services.service = incident_sources.service
    left join slo_services
        on services.service = slo_services.service
    left join latest_wave_teams
        on services.team = latest_wave_teams.team
),

coverage as (
    select
        'metrics_collection_coverage' as measure,
        100 * avg(covered_share) as current_value,
        'now' as current_period,
        cast(null as double) as previous_value,
        cast(null as {{ pm_string_type() }}) as previous_period,
        'no service configured' as reason_if_empty
    from service_signals
),

-- DORA, per organisation, team and service ------------------------------------------------------
dora_months as (
    select
        case when dora.scope = 'org' then 'org' else dora.scope || ':' || dora.scope_name end
            as scope,
        dora.period_start,
        row_number() over (
            partition by dora.scope, dora.scope_name order by dora.period_start desc
        ) as recency,
        dora.deployments * {{ pm_double_literal('7.0') }}
        / {{ days_in_period('month', 'dora.period_start') }}
            as deployment_frequency,
        dora.lead_time_p50_hours as lead_time,
        100 * dora.change_failure_rate as change_failure_rate,
        dora.recovery_time_p50_hours as recovery_time,
        100 * dora.rework_rate as rework_rate
    from dora
    cross join as_of
    where dora.is_complete and dora.period_start < as_of.as_of_date
),

dora_scores as (
    {%- for measure in [
        'deployment_frequency', 'lead_time', 'change_failure_rate', 'recovery_time', 'rework_rate'
    ] %}
        select
            {{ sql_literal(measure) }} as measure,
            scope,
            max(case when recency = 1 then {{ measure }} end) as current_value,
            {{ pm_year_month('max(case when recency = 1 then period_start end)') }}
                as current_period,
            max(case when recency = 2 then {{ measure }} end) as previous_value,
            {{ pm_year_month('max(case when recency = 2 then period_start end)') }}
                as previous_period,
            'no deployments or changes in the month' as reason_if_empty
        from dora_months
        group by scope
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

org_measures as (
    select * from survey_scores
    union all
    select * from response_rate
    union all
    select * from value_scores
    union all
    select * from onboarding
    union all
    select * from slo_compliance
    union all
    select * from policy
    union all
    select * from infrastructure_failures
    union all
    select * from coverage
),

all_measures as (
    select
        measure,
        'org' as scope,
        current_value,
        current_period,
        previous_value,
        previous_period,
        reason_if_empty
    from org_measures
    union all
    select
        measure,
        scope,
        current_value,
        current_period,
        previous_value,
        previous_period,
        reason_if_empty
    from dora_scores
)

select
    measure,
    scope,
    current_value,
    case when current_value is not null then current_period end as current_period,
    previous_value,
    case when previous_value is not null then previous_period end as previous_period,
    case when current_value is null then reason_if_empty end as no_data_reason
from all_measures
