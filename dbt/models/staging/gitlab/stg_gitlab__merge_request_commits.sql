{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'merge_request_commit_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'gitlab_merge_request_commits') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as merge_request_commit_key,
        parent_key as merge_request_key,
        source as source_instance,
        scope as project,
        payload ->> '$.id' as sha,
        payload ->> '$.author_name' as author_name,
        payload ->> '$.message' as message,
        cast(payload ->> '$.authored_date' as timestamp with time zone) as authored_at,
        cast(payload ->> '$.committed_date' as timestamp with time zone) as committed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
