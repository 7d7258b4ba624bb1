{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'workflow_job_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_workflow_jobs') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as workflow_job_key,
        parent_key as workflow_run_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as job_id,
        cast(payload ->> '$.run_id' as bigint) as run_id,
        cast(payload ->> '$.run_attempt' as integer) as run_attempt,
        payload ->> '$.name' as job_name,
        payload ->> '$.workflow_name' as workflow_name,
        payload ->> '$.head_branch' as head_branch,
        payload ->> '$.head_sha' as head_sha,
        payload ->> '$.status' as status,
        payload ->> '$.conclusion' as conclusion,
        payload ->> '$.runner_name' as runner_name,
        -- A job read through GraphQL (a check run) has no runner labels: null, not [].
        case
            when json_type(payload, '$.labels') = 'ARRAY'
                then json_extract_string(payload, '$.labels[*]')
        end as runner_labels,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.started_at' as timestamp with time zone) as started_at,
        cast(payload ->> '$.completed_at' as timestamp with time zone) as completed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
