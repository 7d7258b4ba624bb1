{#-
    Who owns each configured repository: one row per repository of the configuration with its
    service and team. The team is the repository's own team when the configuration gives one,
    else the team of its service. The one place this mapping is made: every model that attributes
    GitHub activity (changes, deployments, CI jobs, developer activity) to a service or team reads
    it from here.
-#}

with

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

final as (
    select
        org_repositories.repository,
        org_repositories.service,
        coalesce(org_repositories.team, org_services.team) as team
    from org_repositories
    left join org_services
        on org_repositories.service = org_services.service
)

select * from final
