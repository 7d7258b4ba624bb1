{{
    config(
        materialized=pm_incremental_materialization(),
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
            parent_key, scope || '/pipeline/' || ({{ pm_json_text('payload', '$.pipeline.id') }})
        ) as pipeline_key,
        source as source_instance,
        scope as project,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as job_id,
        cast({{ pm_json_text('payload', '$.pipeline.id') }} as bigint) as pipeline_id,
        {{ pm_json_text('payload', '$.name') }} as job_name,
        {{ pm_json_text('payload', '$.stage') }} as stage,
        {{ pm_json_text('payload', '$.ref') }} as ref,
        coalesce(
            {{ pm_json_text('payload', '$.commit.id') }},
            {{ pm_json_text('payload', '$.pipeline.sha') }}
        ) as sha,
        {{ pm_json_text('payload', '$.status') }} as status,
        cast({{ pm_json_text('payload', '$.allow_failure') }} as boolean) as allow_failure,
        {{ pm_json_text('payload', '$.runner.description') }} as runner_name,
        {{ pm_json_string_list('payload', '$.tag_list[*]') }} as runner_tags,
        cast({{ pm_json_text('payload', '$.duration') }} as double) as duration_seconds,
        cast(
            {{ pm_json_text('payload', '$.queued_duration') }} as double
        ) as queued_duration_seconds,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.started_at') }} as {{ pm_timestamptz() }}) as started_at,
        cast(
            {{ pm_json_text('payload', '$.finished_at') }} as {{ pm_timestamptz() }}
        ) as finished_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
