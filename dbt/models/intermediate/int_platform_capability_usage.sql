{#-
    Which eligible service uses which capability in which month: one row per month, eligible
    service (int_platform_service_months) and capability.
    workflow capability: a run of it (int_platform_capability_runs) started in the
        var('platform_adoption_window_days') days ending at the month's end.
    topic capability: one of the service's repositories carries the topic. GitHub keeps only the
        current topics, so this is known for the latest month only; earlier months are null.
-#}

with

months as (
    select * from {{ ref('int_platform_months') }}
),

service_months as (
    select * from {{ ref('int_platform_service_months') }}
),

capability_runs as (
    select * from {{ ref('int_platform_capability_runs') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

capabilities as (
    {{ platform_capabilities_relation() }}
),

eligible as (
    select
        service_months.month,
        service_months.service,
        service_months.team,
        months.month_end_at,
        months.is_latest_month
    from service_months
    inner join months
        on service_months.month = months.month
    where service_months.is_eligible
),

workflow_usage as (
    select distinct
        eligible.month,
        eligible.service,
        capability_runs.capability
    from eligible
    inner join capability_runs
        on
            eligible.service = capability_runs.service
            and eligible.month_end_at > capability_runs.run_at
            and {{ pm_subtract_days(
                'eligible.month_end_at', var('platform_adoption_window_days') | int
            ) }}
            <= capability_runs.run_at
),

service_topics as (
    select distinct
        org_repositories.service,
        {{ pm_unnest('repositories.topics') }} as topic
    from org_repositories
    inner join repositories
        on org_repositories.repository = repositories.repository
),

final as (
    select
        eligible.month,
        eligible.service,
        eligible.team,
        capabilities.capability,
        capabilities.rule_kind,
        capabilities.is_golden_path,
        case
            when capabilities.rule_kind = 'workflow'
                then workflow_usage.capability is not null
            when eligible.is_latest_month
                then service_topics.topic is not null
        end as uses_capability
    from eligible
    cross join capabilities
    left join workflow_usage
        on
            eligible.month = workflow_usage.month
            and eligible.service = workflow_usage.service
            and capabilities.capability = workflow_usage.capability
    left join service_topics
        on
            capabilities.rule_kind = 'topic'
            and eligible.service = service_topics.service
            and capabilities.topic = service_topics.topic
)

select * from final
