{#-
    The measured time of each unit of work the time-saved model knows (var('platform_tasks')
    picks which count), one row per task and unit:
      change_lead_time      a change deployed (fct_changes): lead_time_hours, at deployed_at
      merge_to_deploy_time  a change deployed: deploy_hours (merge -> production), at deployed_at
      ci_queue_time         a GitHub Actions job of a run not started by a schedule: created ->
                            started (waiting for a runner), at started_at
      deployment_duration   a successful production deployment (fct_deployments): started_at ->
                            deployed_at, at deployed_at
    sample_weight is how many units a row stands for: 1, except for ci_queue_time, whose jobs the
    sync reads for a weekly sample of runs (sources.github[].workflow_jobs_sample_per_week; with
    the GraphQL path, queue times only for workflow_jobs_queue_sample_per_week of them): there it
    is the runs of the job's repository, week and kind (deployment workflow or not) over those
    whose jobs carry queue times, so volumes add up to the whole population.
-#}

with

changes as (
    select * from {{ ref('fct_changes') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

jobs as (
    select * from {{ ref('int_ci_jobs') }}
),

runs as (
    select * from {{ ref('int_ci_runs') }}
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
        lead_time_hours as hours,
        1.0 as sample_weight
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
        deploy_hours as hours,
        1.0 as sample_weight
    from changes
    where deployed_at is not null and deploy_hours is not null
),

-- Per repository, week and kind: completed non-scheduled runs, and those whose jobs were read
-- with their queue times (created_at).
run_strata as (
    select
        runs.workflow_run_key,
        runs.repository,
        org_repositories.service,
        {{ period_start('week', 'runs.created_at') }} as week,
        {{ knob_matches(
            'runs.workflow_name', 'deployment_workflow_regex', 'org_repositories.service'
        ) }} as deployment_workflow,
        runs.workflow_run_key in (
            select jobs.workflow_run_key from jobs
            where jobs.created_at is not null
        ) as jobs_read
    from runs
    left join org_repositories
        on runs.repository = org_repositories.repository
    where runs.status = 'completed' and coalesce(runs.event, '') <> 'schedule'
),

-- One weight per stratum (a grouping, cheaper than a window over every run), then per run.
strata as (
    select
        repository,
        week,
        deployment_workflow,
        cast(count(*) as double)
        / greatest(count(*) filter (where jobs_read), 1) as sample_weight
    from run_strata
    group by repository, week, deployment_workflow
),

run_weights as (
    select
        run_strata.workflow_run_key,
        strata.sample_weight
    from run_strata
    inner join strata
        on
            run_strata.repository is not distinct from strata.repository
            and run_strata.week is not distinct from strata.week
            and run_strata.deployment_workflow is not distinct from strata.deployment_workflow
),

ci_queue as (
    select
        'ci_queue_time' as task,
        jobs.workflow_job_key as unit_id,
        jobs.repository,
        org_repositories.service,
        jobs.started_at as measured_at,
        {{ hours_between('jobs.created_at', 'jobs.started_at') }} as hours,
        coalesce(run_weights.sample_weight, 1.0) as sample_weight
    from jobs
    inner join runs
        on jobs.workflow_run_key = runs.workflow_run_key
    left join org_repositories
        on jobs.repository = org_repositories.repository
    left join run_weights
        on jobs.workflow_run_key = run_weights.workflow_run_key
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
        {{ hours_between('started_at', 'deployed_at') }} as hours,
        1.0 as sample_weight
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
