{#-
    One row per production deployment attempt. A deployment is a failure when its own status
    failed, or when an incident was attributed to it; it is rework when it ships a revert or hotfix
    pull request.
-#}

with

deployments as (
    select * from {{ ref('int_deployments') }}
),

changes as (
    select * from {{ ref('int_changes') }}
),

incidents as (
    select * from {{ ref('int_incidents') }}
),

shipped_changes as (
    select
        deployment_id,
        count(*) as n_changes,
        max(case when rework_reason = 'revert' then 1 else 0 end) as ships_revert,
        max(case when rework_reason = 'hotfix' then 1 else 0 end) as ships_hotfix
    from changes
    where deployment_id is not null
    group by deployment_id
),

attributed_incidents as (
    select
        deployment_id,
        count(*) as n_incidents
    from incidents
    where deployment_id is not null
    group by deployment_id
),

final as (
    select
        deployments.deployment_id,
        deployments.repository,
        deployments.service,
        deployments.team,
        deployments.environment,
        deployments.source,
        deployments.commit_sha,
        deployments.started_at,
        deployments.deployed_at,
        deployments.status,
        coalesce(shipped_changes.n_changes, 0) as n_changes,
        (
            deployments.status = 'failure'
            or coalesce(attributed_incidents.n_incidents, 0) > 0
        ) as is_failure,
        case
            when deployments.status = 'failure' then 'failed_status'
            when attributed_incidents.n_incidents > 0 then 'incident'
        end as failure_reason,
        coalesce(
            shipped_changes.ships_revert = 1 or shipped_changes.ships_hotfix = 1, false
        ) as is_rework,
        case
            when shipped_changes.ships_revert = 1 then 'revert'
            when shipped_changes.ships_hotfix = 1 then 'hotfix'
        end as rework_reason
    from deployments
    left join shipped_changes
        on deployments.deployment_id = shipped_changes.deployment_id
    left join attributed_incidents
        on deployments.deployment_id = attributed_incidents.deployment_id
)

select * from final
