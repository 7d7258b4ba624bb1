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

gitlab as (
    select
        'gitlab' as source,
        'gitlab_ci' as ci_system,
        source_instance,
        pipeline_key as workflow_run_key,
        project as repository,
        pipeline_id as run_id,
        cast(null as bigint) as workflow_id,
        coalesce(pipeline_name, '.gitlab-ci.yml') as workflow_name,
        '.gitlab-ci.yml' as workflow_path,
        pipeline_name as display_title,
        trigger_source as event,
        ref as head_branch,
        sha as head_sha,
        {{ gitlab_ci_run_status('status') }} as status,
        {{ gitlab_ci_conclusion('status') }} as conclusion,
        cast(pipeline_iid as integer) as run_number,
        1 as run_attempt,
        author as actor,
        created_at,
        started_at as run_started_at,
        coalesce(finished_at, updated_at) as updated_at,
        cast([] as varchar[]) as referenced_workflow_paths
    from {{ ref('stg_gitlab__pipelines') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
