{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'review_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_pull_request_reviews') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as review_key,
        parent_key as pull_request_key,
        source as source_instance,
        scope as repository,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as review_id,
        {{ pm_json_text('payload', '$.user.login') }} as reviewer,
        {{ pm_json_text('payload', '$.state') }} as state,
        {{ pm_json_text('payload', '$.commit_id') }} as commit_sha,
        cast(
            {{ pm_json_text('payload', '$.submitted_at') }} as {{ pm_timestamptz() }}
        ) as submitted_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
