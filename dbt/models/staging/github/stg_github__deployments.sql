{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'deployment_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_deployments') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as deployment_key,
        source as source_instance,
        scope as repository,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as github_deployment_id,
        {{ pm_json_text('payload', '$.environment') }} as environment,
        {{ pm_json_text('payload', '$.original_environment') }} as original_environment,
        {{ pm_json_text('payload', '$.ref') }} as ref,
        {{ pm_json_text('payload', '$.sha') }} as commit_sha,
        {{ pm_json_text('payload', '$.task') }} as task,
        {{ pm_json_text('payload', '$.creator.login') }} as creator,
        cast(
            {{ pm_json_text('payload', '$.production_environment') }} as boolean
        ) as is_production_environment,
        cast(
            {{ pm_json_text('payload', '$.transient_environment') }} as boolean
        ) as is_transient_environment,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
