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

final as (
    select * from github
)

select * from final
