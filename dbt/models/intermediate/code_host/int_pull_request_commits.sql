{#-
    Commits of pull requests, every code host, one row per pull request and commit. One `union
    all` branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        pull_request_commit_key,
        pull_request_key,
        repository,
        sha,
        author_login,
        author_name,
        message,
        authored_at,
        committed_at
    from {{ ref('stg_github__pull_request_commits') }}
),

final as (
    select * from github
)

select * from final
