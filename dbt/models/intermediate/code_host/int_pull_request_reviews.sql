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

-- GitLab's approvals are its reviews: one APPROVED review per approver, submitted when they
-- approved (null where the server does not say; such an approval is not a first review).
gitlab as (
    select
        'gitlab' as source,
        source_instance,
        approval_key as review_key,
        merge_request_key as pull_request_key,
        project as repository,
        cast(null as bigint) as review_id,
        approver as reviewer,
        'APPROVED' as state,
        cast(null as {{ pm_string_type() }}) as commit_sha,
        approved_at as submitted_at
    from {{ ref('stg_gitlab__merge_request_approvals') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
