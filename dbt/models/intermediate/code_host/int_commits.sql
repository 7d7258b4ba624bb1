{#-
    Default-branch commits of every code host with their parent links (the commit graph). One
    `union all` branch per code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        commit_key,
        repository,
        sha,
        author_login,
        author_name,
        message,
        authored_at,
        committed_at,
        parent_shas,
        n_parents
    from {{ ref('stg_github__commits') }}
),

gitlab as (
    select
        'gitlab' as source,
        source_instance,
        commit_key,
        project as repository,
        sha,
        cast(null as {{ pm_string_type() }}) as author_login,
        author_name,
        message,
        authored_at,
        committed_at,
        parent_shas,
        n_parents
    from {{ ref('stg_gitlab__commits') }}
),

final as (
    select * from github
    union all
    select * from gitlab
)

select * from final
