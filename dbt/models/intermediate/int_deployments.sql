{#-
    Production deployment attempts, one row per attempt that finished (success or failure).
    1. GitHub Deployments whose environment matches var('deployment_environment_regex'), finished
       by their first success status (deployed_at = that status' created_at, never the
       deployment's updated_at, which moves when a later deployment makes it inactive), or failed
       by a failure/error status with no success.
    2. For repositories with no GitHub Deployments at all: completed GitHub Actions runs of
       deployment workflows (var('deployment_workflow_regex') minus var('deployment_exclude_regex'))
       on var('deployment_branches'), deployed_at = the completed run's updated_at.
-#}
{%- set branches = var('deployment_branches') -%}

with

deployments as (
    select * from {{ ref('stg_github__deployments') }}
),

deployment_statuses as (
    select * from {{ ref('stg_github__deployment_statuses') }}
),

workflow_runs as (
    select * from {{ ref('stg_github__workflow_runs') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

production_deployments as (
    select *
    from deployments
    where {{ regex_matches('environment', var('deployment_environment_regex')) }}
),

status_summary as (
    select
        deployment_key,
        min(case when state = 'success' then created_at end) as first_success_at,
        min(case when state in ('failure', 'error') then created_at end) as first_failure_at
    from deployment_statuses
    group by deployment_key
),

github_deployment_attempts as (
    select
        production_deployments.deployment_key as deployment_id,
        production_deployments.repository,
        production_deployments.environment,
        'github_deployment' as source,
        production_deployments.commit_sha,
        production_deployments.created_at as started_at,
        coalesce(
            status_summary.first_success_at, status_summary.first_failure_at
        ) as deployed_at,
        case
            when status_summary.first_success_at is not null then 'success' else 'failure'
        end as status
    from production_deployments
    inner join status_summary
        on production_deployments.deployment_key = status_summary.deployment_key
    where
        status_summary.first_success_at is not null
        or status_summary.first_failure_at is not null
),

repositories_with_deployments as (
    select distinct repository from deployments
),

actions_deployment_attempts as (
    select
        workflow_runs.workflow_run_key as deployment_id,
        workflow_runs.repository,
        'production' as environment,
        'github_actions' as source,
        workflow_runs.head_sha as commit_sha,
        coalesce(workflow_runs.run_started_at, workflow_runs.created_at) as started_at,
        workflow_runs.updated_at as deployed_at,
        case
            when workflow_runs.conclusion = 'success' then 'success' else 'failure'
        end as status
    from workflow_runs
    left join repositories_with_deployments
        on workflow_runs.repository = repositories_with_deployments.repository
    where
        repositories_with_deployments.repository is null
        and workflow_runs.status = 'completed'
        and workflow_runs.conclusion in ('success', 'failure', 'timed_out', 'startup_failure')
        and {{ regex_matches('workflow_runs.workflow_name', var('deployment_workflow_regex')) }}
        and not {{ regex_matches('workflow_runs.workflow_name', var('deployment_exclude_regex')) }}
        {%- if branches | length > 0 %}
            and workflow_runs.head_branch in ({{ sql_literal_list(branches) }})
        {%- endif %}
),

attempts as (
    select * from github_deployment_attempts
    union all
    select * from actions_deployment_attempts
),

final as (
    select
        attempts.deployment_id,
        attempts.repository,
        org_repositories.service,
        coalesce(org_repositories.team, org_services.team) as team,
        attempts.environment,
        attempts.source,
        attempts.commit_sha,
        attempts.started_at,
        attempts.deployed_at,
        attempts.status
    from attempts
    left join org_repositories
        on attempts.repository = org_repositories.repository
    left join org_services
        on org_repositories.service = org_services.service
)

select * from final
