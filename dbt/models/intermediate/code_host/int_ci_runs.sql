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
        cast({{ pm_empty_list() }} as {{ pm_string_list_type() }}) as referenced_workflow_paths
    from {{ ref('stg_gitlab__pipelines') }}
),

-- Jenkins: every build is a run of its job (workflow = the job's full name); the commit is the
-- git plugin's build data, the repository parsed from its remote URL.
jenkins as (
    select
        'jenkins' as source,
        'jenkins' as ci_system,
        source_instance,
        build_key as workflow_run_key,
        repository,
        build_number as run_id,
        cast(null as bigint) as workflow_id,
        job_full_name as workflow_name,
        job_full_name as workflow_path,
        display_name as display_title,
        {{ jenkins_event('cause_class') }} as event,
        branch as head_branch,
        commit_sha as head_sha,
        case when is_building then 'in_progress' else 'completed' end as status,
        {{ jenkins_conclusion('result', 'is_building') }} as conclusion,
        cast(build_number as integer) as run_number,
        1 as run_attempt,
        started_by as actor,
        started_at as created_at,
        started_at as run_started_at,
        coalesce(finished_at, started_at) as updated_at,
        cast({{ pm_empty_list() }} as {{ pm_string_list_type() }}) as referenced_workflow_paths
    from {{ ref('stg_jenkins__builds') }}
),

final as (
    select * from github
    union all
    select * from gitlab
    union all
    select * from jenkins
)

select * from final
