{#-
    Incidents: PagerDuty incidents mapped to services (raw.org_pagerduty_services), plus GitHub
    issues labelled var('incident_label') of services with no PagerDuty service (so one incident is
    never counted from both). Each is attributed to a deployment of its service:
    - explicit: the incident names a commit SHA (GitHub's `root cause: <sha>`, or a SHA of 7+ hex
      characters in a PagerDuty title/description) or a GitHub Deployment id
      (`deployments/<id>`); a SHA resolves, through commit ancestry, to the successful production
      deployment that shipped it (or else to one whose deployed SHA starts with it). Only a
      deployment that finished before the incident started counts;
    - window: otherwise the latest successful production deployment of the same service that
      finished at most var('incident_window_hours') (per service) before the incident started;
    - otherwise unattributed (deployment_id and attribution null).
-#}

with

pagerduty_incidents as (
    select * from {{ ref('stg_pagerduty__incidents') }}
),

issues as (
    select * from {{ ref('stg_github__issues') }}
),

org_pagerduty_services as (
    select * from {{ ref('stg_org__pagerduty_services') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

commit_deployments as (
    select * from {{ ref('int_commit_deployments') }}
),

commits as (
    select * from {{ ref('stg_github__commits') }}
),

paged_services as (
    select distinct service from org_pagerduty_services
),

mapped_pagerduty as (
    select
        pagerduty_incidents.incident_id,
        'pagerduty' as source,
        pagerduty_incidents.pagerduty_service_id,
        org_pagerduty_services.service,
        org_services.team,
        pagerduty_incidents.title,
        pagerduty_incidents.status,
        coalesce(pagerduty_incidents.priority, pagerduty_incidents.urgency) as severity,
        pagerduty_incidents.created_at as started_at,
        coalesce(
            pagerduty_incidents.resolved_at,
            case
                when pagerduty_incidents.status = 'resolved'
                    then pagerduty_incidents.last_status_change_at
            end
        ) as resolved_at,
        coalesce(pagerduty_incidents.title, '') || ' '
        || coalesce(pagerduty_incidents.description, '') as incident_text
    from pagerduty_incidents
    left join org_pagerduty_services
        on pagerduty_incidents.pagerduty_service_id = org_pagerduty_services.pagerduty_service_id
    left join org_services
        on org_pagerduty_services.service = org_services.service
),

issue_incidents as (
    select
        issues.issue_key as incident_id,
        'github_issue' as source,
        cast(null as varchar) as pagerduty_service_id,
        org_repositories.service,
        coalesce(org_repositories.team, org_services.team) as team,
        issues.title,
        case when issues.state = 'closed' then 'resolved' else 'triggered' end as status,
        cast(null as varchar) as severity,
        issues.created_at as started_at,
        issues.closed_at as resolved_at,
        coalesce(issues.title, '') || ' ' || coalesce(issues.body, '') as incident_text
    from issues
    inner join org_repositories
        on issues.repository = org_repositories.repository
    left join org_services
        on org_repositories.service = org_services.service
    left join paged_services
        on org_repositories.service = paged_services.service
    where
        list_contains(issues.labels, {{ sql_literal(var('incident_label')) }})
        and paged_services.service is null
),

mapped_incidents as (
    select * from mapped_pagerduty
    union all
    select * from issue_incidents
),

successful_deployments as (
    select * from deployments
    where status = 'success'
),

-- Explicit links -------------------------------------------------------------------------------
sha_mentions as (
    select distinct
        mapped_incidents.incident_id,
        lower(mentioned.sha_prefix) as sha_prefix
    from mapped_incidents
    cross join
        unnest(
            regexp_extract_all(mapped_incidents.incident_text, '\b([0-9a-fA-F]{7,40})\b', 1)
        ) as mentioned (sha_prefix)
    where regexp_matches(mentioned.sha_prefix, '[0-9]')
),

-- A mentioned SHA on the service's commit graph -> the deployment that shipped that commit.
shipped_mentions as (
    select
        sha_mentions.incident_id,
        deployments.deployment_id,
        deployments.deployed_at
    from sha_mentions
    inner join mapped_incidents
        on sha_mentions.incident_id = mapped_incidents.incident_id
    inner join org_repositories
        on mapped_incidents.service = org_repositories.service
    inner join commits
        on
            org_repositories.repository = commits.repository
            and starts_with(commits.sha, sha_mentions.sha_prefix)
    inner join commit_deployments
        on
            commits.repository = commit_deployments.repository
            and commits.sha = commit_deployments.sha
    inner join successful_deployments as deployments
        on commit_deployments.deployment_id = deployments.deployment_id
),

-- A mentioned SHA equal to a deployed SHA (also where the commit graph is not synced).
deployed_mentions as (
    select
        sha_mentions.incident_id,
        deployments.deployment_id,
        deployments.deployed_at
    from sha_mentions
    inner join mapped_incidents
        on sha_mentions.incident_id = mapped_incidents.incident_id
    inner join successful_deployments as deployments
        on
            mapped_incidents.service = deployments.service
            and starts_with(deployments.commit_sha, sha_mentions.sha_prefix)
),

id_mentions as (
    select
        mapped_incidents.incident_id,
        deployments.deployment_id,
        deployments.deployed_at
    from mapped_incidents
    cross join
        unnest(
            regexp_extract_all(mapped_incidents.incident_text, 'deployments?/([0-9]+)', 1)
        ) as mentioned (github_deployment_id)
    inner join successful_deployments as deployments
        on
            mapped_incidents.service = deployments.service
            and deployments.deployment_id
            = deployments.repository || '/deployment/' || mentioned.github_deployment_id
),

explicit_candidates as (
    select
        candidates.incident_id,
        candidates.deployment_id,
        row_number() over (
            partition by candidates.incident_id
            order by
                candidates.priority asc, candidates.deployed_at desc, candidates.deployment_id asc
        ) as candidate_rank
    from (
        select
            *,
            1 as priority
        from id_mentions
        union all
        select
            *,
            2 as priority
        from shipped_mentions
        union all
        select
            *,
            3 as priority
        from deployed_mentions
    ) as candidates
    inner join mapped_incidents
        on candidates.incident_id = mapped_incidents.incident_id
    where candidates.deployed_at <= mapped_incidents.started_at
),

-- Window attribution ---------------------------------------------------------------------------
window_candidates as (
    select
        mapped_incidents.incident_id,
        deployments.deployment_id,
        row_number() over (
            partition by mapped_incidents.incident_id
            order by deployments.deployed_at desc, deployments.deployment_id desc
        ) as candidate_rank
    from mapped_incidents
    inner join successful_deployments as deployments
        on
            mapped_incidents.service = deployments.service
            and mapped_incidents.started_at >= deployments.deployed_at
            and mapped_incidents.started_at
            <= deployments.deployed_at
            + to_seconds(
                cast(
                    {{ knob('incident_window_hours', 'mapped_incidents.service') }} * 3600 as bigint
                )
            )
),

final as (
    select
        mapped_incidents.incident_id,
        mapped_incidents.source,
        mapped_incidents.pagerduty_service_id,
        mapped_incidents.service,
        mapped_incidents.team,
        mapped_incidents.title,
        mapped_incidents.status,
        mapped_incidents.severity,
        mapped_incidents.started_at,
        mapped_incidents.resolved_at,
        coalesce(
            explicit_candidates.deployment_id, window_candidates.deployment_id
        ) as deployment_id,
        case
            when explicit_candidates.deployment_id is not null then 'explicit'
            when window_candidates.deployment_id is not null then 'window'
        end as attribution
    from mapped_incidents
    left join explicit_candidates
        on
            mapped_incidents.incident_id = explicit_candidates.incident_id
            and explicit_candidates.candidate_rank = 1
    left join window_candidates
        on
            mapped_incidents.incident_id = window_candidates.incident_id
            and window_candidates.candidate_rank = 1
)

select * from final
