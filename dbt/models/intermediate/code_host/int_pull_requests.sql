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

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        merge_request_key as pull_request_key,
        project as repository,
        merge_request_id as pull_request_id,
        iid as pr_number,
        title,
        web_url as url,
        description as body,
        case when state = 'opened' then 'open' else 'closed' end as state,
        is_draft,
        author,
        case when author_is_bot then 'Bot' else 'User' end as author_type,
        source_branch as head_ref,
        head_sha,
        target_branch as base_ref,
        merge_commit_sha,
        labels,
        created_at as opened_at,
        updated_at,
        coalesce(closed_at, merged_at) as closed_at,
        merged_at
    from {{ ref('stg_gitlab__merge_requests') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
