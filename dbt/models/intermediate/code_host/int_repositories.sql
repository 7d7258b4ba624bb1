{#-
    Repositories of every code host, one row per repository and source instance. One `union all`
    branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        repository,
        repository_id,
        owner,
        repository_name,
        default_branch,
        is_private,
        is_archived,
        created_at,
        pushed_at,
        topics,
        fetched_at
    from {{ ref('stg_github__repositories') }}
),

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        project as repository,
        project_id as repository_id,
        namespace as owner,
        project_name as repository_name,
        default_branch,
        coalesce(visibility <> 'public', true) as is_private,
        is_archived,
        created_at,
        last_activity_at as pushed_at,
        topics,
        fetched_at
    from {{ ref('stg_gitlab__projects') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
