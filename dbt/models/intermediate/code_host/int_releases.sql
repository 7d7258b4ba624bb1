{#-
    Releases of every code host, one row per release. One `union all` branch per code host
    (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        release_key,
        repository,
        release_id,
        tag_name,
        release_name,
        target_commitish,
        author,
        is_draft,
        is_prerelease,
        created_at,
        published_at
    from {{ ref('stg_github__releases') }}
),

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        release_key,
        project as repository,
        cast(null as bigint) as release_id,
        tag_name,
        release_name,
        commit_sha as target_commitish,
        author,
        false as is_draft,
        is_upcoming as is_prerelease,
        created_at,
        case when not is_upcoming then released_at end as published_at
    from {{ ref('stg_gitlab__releases') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
