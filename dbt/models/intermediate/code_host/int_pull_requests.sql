{#-
    Pull (merge) requests of every code host, one row per pull request, all states. One `union
    all` branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        pull_request_key,
        repository,
        pull_request_id,
        pr_number,
        title,
        url,
        body,
        state,
        is_draft,
        author,
        author_type,
        head_ref,
        head_sha,
        base_ref,
        merge_commit_sha,
        labels,
        opened_at,
        updated_at,
        closed_at,
        merged_at
    from {{ ref('stg_github__pull_requests') }}
),

final as (
    select * from github
)

select * from final
