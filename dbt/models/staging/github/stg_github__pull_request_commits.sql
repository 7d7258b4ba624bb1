{{
    config(
        materialized='incremental',
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
        payload ->> '$.sha' as sha,
        payload ->> '$.author.login' as author_login,
        payload ->> '$.commit.author.name' as author_name,
        payload ->> '$.commit.message' as message,
        cast(payload ->> '$.commit.author.date' as timestamp with time zone) as authored_at,
        cast(payload ->> '$.commit.committer.date' as timestamp with time zone) as committed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
