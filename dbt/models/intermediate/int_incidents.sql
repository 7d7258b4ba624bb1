{#-
    Incidents of every source, from int_incidents_unified (PagerDuty, Opsgenie, Statuspage, files,
    GitHub issues labelled var('incident_label')), keeping those its no-double-counting rule counts
    (a GitHub issue only for a service no incident tool covers, as before). Each is attributed to a
    deployment of its service:
    - explicit: the incident names a commit SHA (GitHub's `root cause: <sha>`, or a SHA of 7+ hex
      characters in a PagerDuty title/description) or a GitHub Deployment id
      (`deployments/<id>`); a SHA resolves, through commit ancestry, to the successful production
      deployment that shipped it (or else to one whose deployed SHA starts with it). Only a
      deployment that finished before the incident started counts;
    - window: otherwise the latest successful production deployment of the same service that
      finished at most var('incident_window_hours') (per service) before the incident started;
    - otherwise unattributed (deployment_id and attribution null).
-#}
{#- The SHA regex goes through pm_regex_literal(): Spark reads \b and literals' escapes apart. -#}
{%- set sha_regex = '\\b([0-9a-fA-F]{7,40})\\b' %}

with

-- Every source, one shape; only the incidents the no-double-counting rule keeps.
mapped_incidents as (
    select
        incident_id,
        source,
        pagerduty_service_id,
        service,
        team,
        title,
        status,
        severity,
        started_at,
        resolved_at,
        incident_text,
        url
    from {{ ref('int_incidents_unified') }}
    where is_counted
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

commit_deployments as (
    select * from {{ ref('int_commit_deployments') }}
),

commits as (
    select * from {{ ref('int_commits') }}
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
    {{ pm_cross_join_unnest(
        'regexp_extract_all(mapped_incidents.incident_text, '
        ~ pm_regex_literal(sha_regex) ~ ', 1)',
        'mentioned',
        'sha_prefix'
    ) }}
    where {{ pm_regexp_matches('mentioned.sha_prefix', '[0-9]') }}
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
            -- Every mention is 7 characters or more: an equality on the first 7 lets the engine
            -- hash-join the mentions with the commits instead of testing each pair of a
            -- repository's commits and mentions (docs/operations.md#transform-scale-measured).
            and substr(commits.sha, 1, 7) = substr(sha_mentions.sha_prefix, 1, 7)
            and {{ pm_starts_with('commits.sha', 'sha_mentions.sha_prefix') }}
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
            and substr(deployments.commit_sha, 1, 7) = substr(sha_mentions.sha_prefix, 1, 7)
            and {{ pm_starts_with('deployments.commit_sha', 'sha_mentions.sha_prefix') }}
),

id_mentions as (
    select
        mapped_incidents.incident_id,
        deployments.deployment_id,
        deployments.deployed_at
    from mapped_incidents
    {{ pm_cross_join_unnest(
        "regexp_extract_all(mapped_incidents.incident_text, 'deployments?/([0-9]+)', 1)",
        'mentioned',
        'github_deployment_id'
    ) }}
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
            <= {{ pm_add_whole_seconds(
                'deployments.deployed_at',
                pm_double_to_bigint(
                    knob('incident_window_hours', 'mapped_incidents.service') ~ ' * 3600'
                )
            ) }}
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
        mapped_incidents.url,
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
