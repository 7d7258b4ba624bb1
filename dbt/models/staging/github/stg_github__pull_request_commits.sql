{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'pull_request_commit_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_pull_request_commits') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as pull_request_commit_key,
        parent_key as pull_request_key,
        source as source_instance,
        scope as repository,
        {{ pm_json_text('payload', '$.sha') }} as sha,
        {{ pm_json_text('payload', '$.author.login') }} as author_login,
        {{ pm_json_text('payload', '$.commit.author.name') }} as author_name,
        {{ pm_json_text('payload', '$.commit.message') }} as message,
        cast(
            {{ pm_json_text('payload', '$.commit.author.date') }} as {{ pm_timestamptz() }}
        ) as authored_at,
        cast(
            {{ pm_json_text('payload', '$.commit.committer.date') }} as {{ pm_timestamptz() }}
        ) as committed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
