{{
    config(
        materialized='incremental',
        unique_key=['source_instance', 'workflow_run_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_workflow_runs') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as workflow_run_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as run_id,
        cast(payload ->> '$.workflow_id' as bigint) as workflow_id,
        payload ->> '$.name' as workflow_name,
        payload ->> '$.path' as workflow_path,
        payload ->> '$.display_title' as display_title,
        payload ->> '$.event' as event,
        payload ->> '$.head_branch' as head_branch,
        payload ->> '$.head_sha' as head_sha,
        payload ->> '$.status' as status,
        payload ->> '$.conclusion' as conclusion,
        cast(payload ->> '$.run_number' as integer) as run_number,
        cast(payload ->> '$.run_attempt' as integer) as run_attempt,
        payload ->> '$.actor.login' as actor,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.run_started_at' as timestamp with time zone) as run_started_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        json_extract_string(payload, '$.referenced_workflows[*].path') as referenced_workflow_paths,
        {{ incremental_columns() }}
    from source
)

select * from renamed
