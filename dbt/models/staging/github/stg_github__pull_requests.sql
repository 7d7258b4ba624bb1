{{
    config(
        materialized=pm_incremental_materialization(),
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
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as pull_request_id,
        cast({{ pm_json_text('payload', '$.number') }} as integer) as pr_number,
        {{ pm_json_text('payload', '$.title') }} as title,
        {{ pm_json_text('payload', '$.html_url') }} as url,
        {{ pm_json_text('payload', '$.body') }} as body,
        {{ pm_json_text('payload', '$.state') }} as state,
        cast({{ pm_json_text('payload', '$.draft') }} as boolean) as is_draft,
        {{ pm_json_text('payload', '$.user.login') }} as author,
        {{ pm_json_text('payload', '$.user.type') }} as author_type,
        {{ pm_json_text('payload', '$.head.ref') }} as head_ref,
        {{ pm_json_text('payload', '$.head.sha') }} as head_sha,
        {{ pm_json_text('payload', '$.base.ref') }} as base_ref,
        {{ pm_json_text('payload', '$.merge_commit_sha') }} as merge_commit_sha,
        {{ pm_json_string_list('payload', '$.labels[*].name') }} as labels,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as opened_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        cast({{ pm_json_text('payload', '$.closed_at') }} as {{ pm_timestamptz() }}) as closed_at,
        cast({{ pm_json_text('payload', '$.merged_at') }} as {{ pm_timestamptz() }}) as merged_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
