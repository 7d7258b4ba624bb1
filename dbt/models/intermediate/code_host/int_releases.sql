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

final as (
    select * from github
)

select * from final
