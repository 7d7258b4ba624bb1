{#-
    CI job executions: one row per completed GitHub Actions job (each attempt of each job is a
    row; a re-run is a new execution) of a workflow that is neither a deployment workflow nor run
    on a schedule. A deployment workflow is one int_deployments reads deployments from: its name
    matches var('deployment_workflow_regex') and not var('deployment_exclude_regex') (per
    service); all its jobs, build steps included, are left out. Scheduled runs (event `schedule`:
    health probes, nightly jobs) are no one's feedback loop and are left out too. Skipped jobs never
    ran on a runner and are left out.
    queue_seconds = started_at - created_at (waiting for a runner), run_seconds = completed_at -
    started_at; both never below 0.
-#}

with

workflow_jobs as (
    select * from {{ ref('stg_github__workflow_jobs') }}
),

workflow_runs as (
    select * from {{ ref('stg_github__workflow_runs') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

jobs as (
    select
        workflow_jobs.workflow_job_key,
        workflow_jobs.workflow_run_key,
        workflow_jobs.repository,
        repositories.service,
        repositories.team,
        coalesce(workflow_jobs.workflow_name, workflow_runs.workflow_name) as workflow_name,
        workflow_jobs.job_name,
        workflow_runs.event,
        workflow_jobs.run_attempt,
        workflow_jobs.conclusion,
        workflow_jobs.created_at,
        workflow_jobs.started_at,
        workflow_jobs.completed_at
    from workflow_jobs
    left join workflow_runs
        on workflow_jobs.workflow_run_key = workflow_runs.workflow_run_key
    left join repositories
        on workflow_jobs.repository = repositories.repository
    where
        workflow_jobs.status = 'completed'
        and coalesce(workflow_jobs.conclusion, '') <> 'skipped'
        and workflow_jobs.created_at is not null
        and workflow_jobs.started_at is not null
        and workflow_jobs.completed_at is not null
),

final as (
    select
        workflow_job_key,
        workflow_run_key,
        repository,
        service,
        team,
        workflow_name,
        job_name,
        event,
        run_attempt,
        conclusion,
        created_at,
        started_at,
        completed_at,
        greatest(date_diff('second', created_at, started_at), 0) as queue_seconds,
        greatest(date_diff('second', started_at, completed_at), 0) as run_seconds
    from jobs
    where
        coalesce(event, '') <> 'schedule'
        and not (
            {{ knob_matches('workflow_name', 'deployment_workflow_regex', 'service') }}
            and not {{ knob_matches('workflow_name', 'deployment_exclude_regex', 'service') }}
        )
)

select * from final
