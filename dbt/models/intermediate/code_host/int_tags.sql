{#-
    Git tags of every code host, one row per tag. One `union all` branch per code host
    (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        tag_key,
        repository,
        tag_name,
        commit_sha
    from {{ ref('stg_github__tags') }}
),

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        tag_key,
        project as repository,
        tag_name,
        commit_sha
    from {{ ref('stg_gitlab__tags') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
