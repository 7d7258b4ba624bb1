{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'pipeline_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'gitlab_pipelines') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as pipeline_key,
        source as source_instance,
        scope as project,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as pipeline_id,
        cast({{ pm_json_text('payload', '$.iid') }} as bigint) as pipeline_iid,
        {{ pm_json_text('payload', '$.name') }} as pipeline_name,
        {{ pm_json_text('payload', '$.source') }} as trigger_source,
        {{ pm_json_text('payload', '$.ref') }} as ref,
        cast({{ pm_json_text('payload', '$.tag') }} as boolean) as is_tag,
        {{ pm_json_text('payload', '$.sha') }} as sha,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.user.username') }} as author,
        {{ pm_json_text('payload', '$.web_url') }} as web_url,
        cast({{ pm_json_text('payload', '$.duration') }} as double) as duration_seconds,
        cast(
            {{ pm_json_text('payload', '$.queued_duration') }} as double
        ) as queued_duration_seconds,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.started_at') }} as {{ pm_timestamptz() }}) as started_at,
        cast(
            {{ pm_json_text('payload', '$.finished_at') }} as {{ pm_timestamptz() }}
        ) as finished_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
