{{
    config(
        materialized=pm_incremental_materialization(),
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
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as run_id,
        cast({{ pm_json_text('payload', '$.workflow_id') }} as bigint) as workflow_id,
        {{ pm_json_text('payload', '$.name') }} as workflow_name,
        {{ pm_json_text('payload', '$.path') }} as workflow_path,
        {{ pm_json_text('payload', '$.display_title') }} as display_title,
        {{ pm_json_text('payload', '$.event') }} as event,
        {{ pm_json_text('payload', '$.head_branch') }} as head_branch,
        {{ pm_json_text('payload', '$.head_sha') }} as head_sha,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.conclusion') }} as conclusion,
        cast({{ pm_json_text('payload', '$.run_number') }} as integer) as run_number,
        cast({{ pm_json_text('payload', '$.run_attempt') }} as integer) as run_attempt,
        {{ pm_json_text('payload', '$.actor.login') }} as actor,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.run_started_at') }} as {{ pm_timestamptz() }}
        ) as run_started_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        {{ pm_json_string_list('payload', '$.referenced_workflows[*].path') }}
            as referenced_workflow_paths,
        {{ incremental_columns() }}
    from source
)

select * from renamed
