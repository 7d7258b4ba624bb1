{#-
    Platform adoption per month and capability: eligible services (int_platform_service_months)
    and those using the capability (int_platform_capability_usage: a matching run in the
    adoption window ending at the month's end, or a repository topic). A topic capability is
    known for the latest month only (GitHub keeps no topic history): earlier months have null
    adopting_services and adoption_rate, and say so in notes. No capabilities configured: no rows.
-#}

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

capabilities as (
    {{ platform_capabilities_relation() }}
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
        capability,
        count(*) filter (where uses_capability) as adopting_services
    from usage
    group by month, capability
),

measured as (
    select
        months.month,
        months.period_end,
        months.is_complete,
        capabilities.capability,
        capabilities.description,
        capabilities.rule_kind,
        capabilities.is_golden_path,
        capabilities.capability_order,
        coalesce(eligible.eligible_services, 0) as eligible_services,
        coalesce(adopting.adopting_services, 0) as adopting_services,
        capabilities.rule_kind = 'workflow' or months.is_latest_month as is_known
    from months
    cross join capabilities
    left join eligible
        on months.month = eligible.month
    left join adopting
        on
            months.month = adopting.month
            and capabilities.capability = adopting.capability
),

final as (
    select
        month,
        month as period_start,
        period_end,
        is_complete,
        capability,
        description,
        rule_kind,
        is_golden_path,
        eligible_services,
        case when is_known then adopting_services end as adopting_services,
        case
            when is_known and eligible_services > 0
                then cast(adopting_services as double) / eligible_services
        end as adoption_rate,
        {{ var('platform_adoption_window_days') | int }} as adoption_window_days,
        case
            when not is_known
                then 'topic: GitHub keeps only current topics, counted in the latest month only'
            when eligible_services = 0 then 'no eligible services this month'
        end as notes,
        capability_order
    from measured
)

select * from final
