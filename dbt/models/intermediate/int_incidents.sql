{#-
    PagerDuty incidents mapped to services (raw.org_pagerduty_services) and attributed to the latest
    successful production deployment of the same service that finished within
    var('incident_window_hours') before the incident started; otherwise unattributed.
-#}
{%- set window_seconds = (var('incident_window_hours') | float * 3600) | int -%}

with

incidents as (
    select * from {{ ref('stg_pagerduty__incidents') }}
),

org_pagerduty_services as (
    select * from {{ ref('stg_org__pagerduty_services') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

mapped_incidents as (
    select
        incidents.incident_id,
        'pagerduty' as source,
        incidents.pagerduty_service_id,
        org_pagerduty_services.service,
        org_services.team,
        incidents.title,
        incidents.status,
        coalesce(incidents.priority, incidents.urgency) as severity,
        incidents.created_at as started_at,
        coalesce(
            incidents.resolved_at,
            case when incidents.status = 'resolved' then incidents.last_status_change_at end
        ) as resolved_at
    from incidents
    left join org_pagerduty_services
        on incidents.pagerduty_service_id = org_pagerduty_services.pagerduty_service_id
    left join org_services
        on org_pagerduty_services.service = org_services.service
),

window_candidates as (
    select
        mapped_incidents.incident_id,
        deployments.deployment_id,
        row_number() over (
            partition by mapped_incidents.incident_id
            order by deployments.deployed_at desc, deployments.deployment_id desc
        ) as candidate_rank
    from mapped_incidents
    inner join deployments
        on
            mapped_incidents.service = deployments.service
            and deployments.status = 'success'
            and mapped_incidents.started_at >= deployments.deployed_at
            and {{ add_seconds('mapped_incidents.started_at', -1 * window_seconds) }}
            <= deployments.deployed_at
),

final as (
    select
        mapped_incidents.*,
        window_candidates.deployment_id,
        case when window_candidates.deployment_id is not null then 'window' end as attribution
    from mapped_incidents
    left join window_candidates
        on
            mapped_incidents.incident_id = window_candidates.incident_id
            and window_candidates.candidate_rank = 1
)

select * from final
