{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'merge_request_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'gitlab_merge_requests') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as merge_request_key,
        source as source_instance,
        scope as project,
        cast(payload ->> '$.id' as bigint) as merge_request_id,
        cast(payload ->> '$.iid' as integer) as iid,
        payload ->> '$.title' as title,
        payload ->> '$.description' as description,
        payload ->> '$.state' as state,
        coalesce(
            cast(payload ->> '$.draft' as boolean),
            cast(payload ->> '$.work_in_progress' as boolean)
        ) as is_draft,
        payload ->> '$.author.username' as author,
        coalesce(cast(payload ->> '$.author.bot' as boolean), false) as author_is_bot,
        payload ->> '$.source_branch' as source_branch,
        payload ->> '$.target_branch' as target_branch,
        payload ->> '$.sha' as head_sha,
        coalesce(
            payload ->> '$.merge_commit_sha', payload ->> '$.squash_commit_sha'
        ) as merge_commit_sha,
        json_extract_string(payload, '$.labels[*]') as labels,
        payload ->> '$.web_url' as web_url,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        cast(payload ->> '$.closed_at' as timestamp with time zone) as closed_at,
        cast(payload ->> '$.merged_at' as timestamp with time zone) as merged_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
