{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'pull_request_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_pull_requests') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as pull_request_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as pull_request_id,
        cast(payload ->> '$.number' as integer) as pr_number,
        payload ->> '$.title' as title,
        payload ->> '$.html_url' as url,
        payload ->> '$.body' as body,
        payload ->> '$.state' as state,
        cast(payload ->> '$.draft' as boolean) as is_draft,
        payload ->> '$.user.login' as author,
        payload ->> '$.user.type' as author_type,
        payload ->> '$.head.ref' as head_ref,
        payload ->> '$.head.sha' as head_sha,
        payload ->> '$.base.ref' as base_ref,
        payload ->> '$.merge_commit_sha' as merge_commit_sha,
        json_extract_string(payload, '$.labels[*].name') as labels,
        cast(payload ->> '$.created_at' as timestamp with time zone) as opened_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        cast(payload ->> '$.closed_at' as timestamp with time zone) as closed_at,
        cast(payload ->> '$.merged_at' as timestamp with time zone) as merged_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
