{#-
    CI pipeline runs of every code host, one row per run (GitHub Actions: workflow runs, latest
    attempt). One `union all` branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        'github_actions' as ci_system,
        source_instance,
        workflow_run_key,
        repository,
        run_id,
        workflow_id,
        workflow_name,
        workflow_path,
        display_title,
        event,
        head_branch,
        head_sha,
        status,
        conclusion,
        run_number,
        run_attempt,
        actor,
        created_at,
        run_started_at,
        updated_at,
        referenced_workflow_paths
    from {{ ref('stg_github__workflow_runs') }}
),

final as (
    select * from github
)

select * from final
