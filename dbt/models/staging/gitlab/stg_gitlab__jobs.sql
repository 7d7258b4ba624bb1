{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'job_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'gitlab_jobs') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as job_key,
        coalesce(
            parent_key, scope || '/pipeline/' || (payload ->> '$.pipeline.id')
        ) as pipeline_key,
        source as source_instance,
        scope as project,
        cast(payload ->> '$.id' as bigint) as job_id,
        cast(payload ->> '$.pipeline.id' as bigint) as pipeline_id,
        payload ->> '$.name' as job_name,
        payload ->> '$.stage' as stage,
        payload ->> '$.ref' as ref,
        coalesce(payload ->> '$.commit.id', payload ->> '$.pipeline.sha') as sha,
        payload ->> '$.status' as status,
        cast(payload ->> '$.allow_failure' as boolean) as allow_failure,
        payload ->> '$.runner.description' as runner_name,
        json_extract_string(payload, '$.tag_list[*]') as runner_tags,
        cast(payload ->> '$.duration' as double) as duration_seconds,
        cast(payload ->> '$.queued_duration' as double) as queued_duration_seconds,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.started_at' as timestamp with time zone) as started_at,
        cast(payload ->> '$.finished_at' as timestamp with time zone) as finished_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
