{{
    config(
        materialized=pm_incremental_materialization(),
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
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as merge_request_id,
        cast({{ pm_json_text('payload', '$.iid') }} as integer) as iid,
        {{ pm_json_text('payload', '$.title') }} as title,
        {{ pm_json_text('payload', '$.description') }} as description,
        {{ pm_json_text('payload', '$.state') }} as state,
        coalesce(
            cast({{ pm_json_text('payload', '$.draft') }} as boolean),
            cast({{ pm_json_text('payload', '$.work_in_progress') }} as boolean)
        ) as is_draft,
        {{ pm_json_text('payload', '$.author.username') }} as author,
        coalesce(
            cast({{ pm_json_text('payload', '$.author.bot') }} as boolean), false
        ) as author_is_bot,
        {{ pm_json_text('payload', '$.source_branch') }} as source_branch,
        {{ pm_json_text('payload', '$.target_branch') }} as target_branch,
        {{ pm_json_text('payload', '$.sha') }} as head_sha,
        coalesce(
            {{ pm_json_text('payload', '$.merge_commit_sha') }},
            {{ pm_json_text('payload', '$.squash_commit_sha') }}
        ) as merge_commit_sha,
        {{ pm_json_string_list('payload', '$.labels[*]') }} as labels,
        {{ pm_json_text('payload', '$.web_url') }} as web_url,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        cast({{ pm_json_text('payload', '$.closed_at') }} as {{ pm_timestamptz() }}) as closed_at,
        cast({{ pm_json_text('payload', '$.merged_at') }} as {{ pm_timestamptz() }}) as merged_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
