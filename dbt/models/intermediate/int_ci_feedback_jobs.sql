{#-
    CI job executions that make someone wait: one row per completed CI job of the code-host layer
    (int_ci_jobs; each attempt of each job is a row; a re-run is a new execution) of a workflow
    that is neither a deployment workflow nor run on a schedule. (int_ci_jobs itself keeps every
    job.) A deployment workflow is one int_deployments reads deployments from: its name
    matches var('deployment_workflow_regex') and not var('deployment_exclude_regex') (per
    service); all its jobs, build steps included, are left out. Scheduled runs (event `schedule`:
    health probes, nightly jobs) are no one's feedback loop and are left out too. Skipped jobs never
    ran on a runner and are left out.
    queue_seconds = started_at - created_at (waiting for a runner), run_seconds = completed_at -
    started_at; both never below 0. A job read through GitHub's GraphQL API (a check run) has no
    created_at: its queue_seconds is null, its run_seconds is there.
    The sync reads the jobs of a bounded sample of runs per repository and week
    (sources.github[].workflow_jobs_sample_per_week), so each row says its sample size:
    week_ci_runs is every completed CI run (same rules, from the runs themselves) of its repository
    in the week of its run (var('timezone'), Monday), sampled_ci_runs those whose jobs were read,
    queue_sampled_ci_runs those whose jobs carry queue times (all of them on the REST path; with
    the GraphQL path, sources.github[].workflow_jobs_queue_sample_per_week).
-#}

with

workflow_jobs as (
    select * from {{ ref('int_ci_jobs') }}
),

workflow_runs as (
    select * from {{ ref('int_ci_runs') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

-- Completed CI runs (not scheduled, not a deployment workflow) and whether their jobs were read.
ci_runs as (
    select
        workflow_runs.workflow_run_key,
        workflow_runs.repository,
        repositories.service,
        {{ period_start('week', 'workflow_runs.created_at') }} as week,
        workflow_runs.workflow_run_key in (
            select workflow_jobs.workflow_run_key from workflow_jobs
        ) as jobs_read,
        workflow_runs.workflow_run_key in (
            select workflow_jobs.workflow_run_key from workflow_jobs
            where workflow_jobs.created_at is not null
        ) as queue_read
    from workflow_runs
    left join repositories
        on workflow_runs.repository = repositories.repository
    where
        workflow_runs.status = 'completed'
        and coalesce(workflow_runs.event, '') <> 'schedule'
        and not (
            {{ knob_matches(
                'workflow_runs.workflow_name', 'deployment_workflow_regex', 'repositories.service'
            ) }}
            and not {{ knob_matches(
                'workflow_runs.workflow_name', 'deployment_exclude_regex', 'repositories.service'
            ) }}
        )
),

ci_run_weeks as (
    select
        repository,
        week,
        count(*) as week_ci_runs,
        count(*) filter (where jobs_read) as sampled_ci_runs,
        count(*) filter (where queue_read) as queue_sampled_ci_runs
    from ci_runs
    group by repository, week
),

run_weeks as (
    select
        ci_runs.workflow_run_key,
        ci_run_weeks.week_ci_runs,
        ci_run_weeks.sampled_ci_runs,
        ci_run_weeks.queue_sampled_ci_runs
    from ci_runs
    inner join ci_run_weeks
        on ci_runs.repository = ci_run_weeks.repository and ci_runs.week = ci_run_weeks.week
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
        and workflow_jobs.started_at is not null
        and workflow_jobs.completed_at is not null
),

final as (
    select
        jobs.workflow_job_key,
        jobs.workflow_run_key,
        jobs.repository,
        jobs.service,
        jobs.team,
        jobs.workflow_name,
        jobs.job_name,
        jobs.event,
        jobs.run_attempt,
        jobs.conclusion,
        jobs.created_at,
        jobs.started_at,
        jobs.completed_at,
        case
            when jobs.created_at is not null
                then greatest({{ pm_diff_seconds('jobs.created_at', 'jobs.started_at') }}, 0)
        end as queue_seconds,
        greatest({{ pm_diff_seconds('jobs.started_at', 'jobs.completed_at') }}, 0) as run_seconds,
        coalesce(run_weeks.week_ci_runs, 1) as week_ci_runs,
        coalesce(run_weeks.sampled_ci_runs, 1) as sampled_ci_runs,
        coalesce(
            run_weeks.queue_sampled_ci_runs, case when jobs.created_at is not null then 1 else 0 end
        ) as queue_sampled_ci_runs
    from jobs
    left join run_weeks
        on jobs.workflow_run_key = run_weeks.workflow_run_key
    where
        coalesce(jobs.event, '') <> 'schedule'
        and not (
            {{ knob_matches('jobs.workflow_name', 'deployment_workflow_regex', 'jobs.service') }}
            and not {{ knob_matches(
                'jobs.workflow_name', 'deployment_exclude_regex', 'jobs.service'
            ) }}
        )
)

select * from final
