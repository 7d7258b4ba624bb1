{#-
    CI jobs of every code host, one row per job execution (GitHub Actions: workflow jobs). One
    `union all` branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        'github_actions' as ci_system,
        source_instance,
        workflow_job_key,
        workflow_run_key,
        repository,
        job_id,
        run_id,
        run_attempt,
        job_name,
        workflow_name,
        head_branch,
        head_sha,
        status,
        conclusion,
        runner_name,
        runner_labels,
        created_at,
        started_at,
        completed_at
    from {{ ref('stg_github__workflow_jobs') }}
),

gitlab_pipelines as (
    select * from {{ ref('stg_gitlab__pipelines') }}
),

gitlab as (
    select
        'gitlab' as source,
        'gitlab_ci' as ci_system,
        jobs.source_instance,
        jobs.job_key as workflow_job_key,
        jobs.pipeline_key as workflow_run_key,
        jobs.project as repository,
        jobs.job_id,
        jobs.pipeline_id as run_id,
        1 as run_attempt,
        jobs.job_name,
        coalesce(gitlab_pipelines.pipeline_name, '.gitlab-ci.yml') as workflow_name,
        jobs.ref as head_branch,
        jobs.sha as head_sha,
        {{ gitlab_ci_run_status('jobs.status') }} as status,
        {{ gitlab_ci_conclusion('jobs.status') }} as conclusion,
        jobs.runner_name,
        jobs.runner_tags as runner_labels,
        jobs.created_at,
        jobs.started_at,
        jobs.finished_at as completed_at
    from {{ ref('stg_gitlab__jobs') }} as jobs
    left join gitlab_pipelines
        on
            jobs.source_instance = gitlab_pipelines.source_instance
            and jobs.pipeline_key = gitlab_pipelines.pipeline_key
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
