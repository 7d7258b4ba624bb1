{#-
    Every configured service (int_platform_services) in every platform month from the month its
    first repository was created; a service whose repository was not synced (created_at unknown)
    is there from the first month.
-#}

with

months as (
    select * from {{ ref('int_platform_months') }}
),

services as (
    select * from {{ ref('int_platform_services') }}
),

final as (
    select
        months.month,
        services.service,
        services.team,
        services.tier,
        services.created_at,
        services.is_eligible,
        services.exclusion_reason
    from months
    inner join services
        on months.month_end_at > coalesce(services.created_at, months.month_start_at)
)

select * from final
