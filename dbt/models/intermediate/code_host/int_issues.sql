{#-
    Issues (not pull requests) of every code host, one row per issue. One `union all` branch per
    code host (docs/architecture.md#dbt-layers).
-#}

with

github as (
    select
        'github' as source,
        source_instance,
        issue_key,
        repository,
        issue_id,
        issue_number,
        title,
        body,
        state,
        state_reason,
        author,
        labels,
        created_at,
        updated_at,
        closed_at,
        'https://github.com/' || repository || '/issues/' || issue_number as url
    from {{ ref('stg_github__issues') }}
),

final as (
    select * from github
)

select * from final
