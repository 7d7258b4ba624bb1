{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'commit_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'gitlab_commits') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as commit_key,
        source as source_instance,
        scope as project,
        payload ->> '$.id' as sha,
        payload ->> '$.author_name' as author_name,
        payload ->> '$.message' as message,
        cast(payload ->> '$.authored_date' as timestamp with time zone) as authored_at,
        cast(payload ->> '$.committed_date' as timestamp with time zone) as committed_at,
        coalesce(json_extract_string(payload, '$.parent_ids[*]'), []) as parent_shas,
        len(coalesce(json_extract_string(payload, '$.parent_ids[*]'), [])) as n_parents,
        {{ incremental_columns() }}
    from source
)

select * from renamed
