{{
    config(
        materialized='incremental',
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
        cast(payload ->> '$.id' as bigint) as pipeline_id,
        cast(payload ->> '$.iid' as bigint) as pipeline_iid,
        payload ->> '$.name' as pipeline_name,
        payload ->> '$.source' as trigger_source,
        payload ->> '$.ref' as ref,
        cast(payload ->> '$.tag' as boolean) as is_tag,
        payload ->> '$.sha' as sha,
        payload ->> '$.status' as status,
        payload ->> '$.user.username' as author,
        payload ->> '$.web_url' as web_url,
        cast(payload ->> '$.duration' as double) as duration_seconds,
        cast(payload ->> '$.queued_duration' as double) as queued_duration_seconds,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.started_at' as timestamp with time zone) as started_at,
        cast(payload ->> '$.finished_at' as timestamp with time zone) as finished_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
