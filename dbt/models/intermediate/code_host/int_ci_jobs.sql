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

final as (
    select * from github
)

select * from final
