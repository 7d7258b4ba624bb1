{{
    config(
        materialized=pm_incremental_materialization(),
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
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as job_id,
        cast({{ pm_json_text('payload', '$.run_id') }} as bigint) as run_id,
        cast({{ pm_json_text('payload', '$.run_attempt') }} as integer) as run_attempt,
        {{ pm_json_text('payload', '$.name') }} as job_name,
        {{ pm_json_text('payload', '$.workflow_name') }} as workflow_name,
        {{ pm_json_text('payload', '$.head_branch') }} as head_branch,
        {{ pm_json_text('payload', '$.head_sha') }} as head_sha,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.conclusion') }} as conclusion,
        {{ pm_json_text('payload', '$.runner_name') }} as runner_name,
        -- A job read through GraphQL (a check run) has no runner labels: null, not [].
        case
            when {{ pm_json_is_array('payload', '$.labels') }}
                then {{ pm_json_string_list('payload', '$.labels[*]') }}
        end as runner_labels,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.started_at') }} as {{ pm_timestamptz() }}) as started_at,
        cast(
            {{ pm_json_text('payload', '$.completed_at') }} as {{ pm_timestamptz() }}
        ) as completed_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
