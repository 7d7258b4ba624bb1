{#-
    Every configured service with its first repository (the one created first), when that was
    created, and whether it is eligible for the platform: not excluded by
    var('platform_exclude_tiers'), var('platform_exclude_teams') or var('platform_exclude_services').
    Eligible services are the denominator of adoption and the deployments of golden-path share.
-#}

with

org_services as (
    select * from {{ ref('stg_org__services') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

repositories as (
    select * from {{ ref('int_repositories') }}
),

first_repositories as (
    select
        org_repositories.service,
        {{ pm_arg_min('repositories.repository', 'repositories.created_at') }} as repository,
        min(repositories.created_at) as created_at
    from org_repositories
    inner join repositories
        on org_repositories.repository = repositories.repository
    group by org_repositories.service
),

final as (
    select
        org_services.service,
        org_services.team,
        org_services.tier,
        first_repositories.repository,
        first_repositories.created_at,
        case
            when {{ platform_in_list('org_services.tier', 'platform_exclude_tiers') }}
                then 'tier ' || org_services.tier || ' excluded'
            when {{ platform_in_list('org_services.team', 'platform_exclude_teams') }}
                then 'team ' || org_services.team || ' excluded'
            when {{ platform_in_list('org_services.service', 'platform_exclude_services') }}
                then 'service excluded'
        end as exclusion_reason
    from org_services
    left join first_repositories
        on org_services.service = first_repositories.service
)

select
    *,
    exclusion_reason is null as is_eligible
from final
