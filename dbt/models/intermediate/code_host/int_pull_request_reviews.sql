{#-
    Reviews of pull requests, every code host, one row per review. One `union all` branch per
    code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        review_key,
        pull_request_key,
        repository,
        review_id,
        reviewer,
        state,
        commit_sha,
        submitted_at
    from {{ ref('stg_github__pull_request_reviews') }}
),

final as (
    select * from github
)

select * from final
