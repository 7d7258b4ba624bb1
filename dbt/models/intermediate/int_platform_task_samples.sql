{#-
    The measured time of each unit of work the time-saved model knows (var('platform_tasks')
    picks which count), one row per task and unit:
      change_lead_time      a change deployed (fct_changes): lead_time_hours, at deployed_at
      merge_to_deploy_time  a change deployed: deploy_hours (merge -> production), at deployed_at
      ci_queue_time         a GitHub Actions job of a run not started by a schedule: created ->
                            started (waiting for a runner), at started_at
      deployment_duration   a successful production deployment (fct_deployments): started_at ->
                            deployed_at, at deployed_at
-#}

with

changes as (
    select * from {{ ref('fct_changes') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

jobs as (
    select * from {{ ref('stg_github__workflow_jobs') }}
),

runs as (
    select * from {{ ref('stg_github__workflow_runs') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

lead_times as (
    select
        'change_lead_time' as task,
        change_id as unit_id,
        repository,
        service,
        deployed_at as measured_at,
        lead_time_hours as hours
    from changes
    where deployed_at is not null and lead_time_hours is not null
),

merge_to_deploy as (
    select
        'merge_to_deploy_time' as task,
        change_id as unit_id,
        repository,
        service,
        deployed_at as measured_at,
        deploy_hours as hours
    from changes
    where deployed_at is not null and deploy_hours is not null
),

ci_queue as (
    select
        'ci_queue_time' as task,
        jobs.workflow_job_key as unit_id,
        jobs.repository,
        org_repositories.service,
        jobs.started_at as measured_at,
        {{ hours_between('jobs.created_at', 'jobs.started_at') }} as hours
    from jobs
    inner join runs
        on jobs.workflow_run_key = runs.workflow_run_key
    left join org_repositories
        on jobs.repository = org_repositories.repository
    where
        coalesce(runs.event, '') <> 'schedule'
        and jobs.created_at is not null
        and jobs.started_at >= jobs.created_at
),

deployment_durations as (
    select
        'deployment_duration' as task,
        deployment_id as unit_id,
        repository,
        service,
        deployed_at as measured_at,
        {{ hours_between('started_at', 'deployed_at') }} as hours
    from deployments
    where status = 'success' and started_at is not null and deployed_at >= started_at
),

final as (
    select * from lead_times
    union all
    select * from merge_to_deploy
    union all
    select * from ci_queue
    union all
    select * from deployment_durations
)

select * from final
