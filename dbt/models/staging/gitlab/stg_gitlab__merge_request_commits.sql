{{
    config(
        materialized=pm_incremental_materialization(),
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
        {{ pm_json_text('payload', '$.id') }} as sha,
        {{ pm_json_text('payload', '$.author_name') }} as author_name,
        {{ pm_json_text('payload', '$.message') }} as message,
        cast(
            {{ pm_json_text('payload', '$.authored_date') }} as {{ pm_timestamptz() }}
        ) as authored_at,
        cast(
            {{ pm_json_text('payload', '$.committed_date') }} as {{ pm_timestamptz() }}
        ) as committed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
