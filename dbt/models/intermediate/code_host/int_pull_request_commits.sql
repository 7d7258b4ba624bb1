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

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        merge_request_commit_key as pull_request_commit_key,
        merge_request_key as pull_request_key,
        project as repository,
        sha,
        cast(null as {{ pm_string_type() }}) as author_login,
        author_name,
        message,
        authored_at,
        committed_at
    from {{ ref('stg_gitlab__merge_request_commits') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
