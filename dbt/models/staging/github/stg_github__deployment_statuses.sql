{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'deployment_status_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_deployment_statuses') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as deployment_status_key,
        parent_key as deployment_key,
        source as source_instance,
        scope as repository,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as status_id,
        {{ pm_json_text('payload', '$.state') }} as state,
        {{ pm_json_text('payload', '$.environment') }} as environment,
        {{ pm_json_text('payload', '$.description') }} as description,
        {{ pm_json_text('payload', '$.creator.login') }} as creator,
        {{ pm_json_text('payload', '$.target_url') }} as target_url,
        {{ pm_json_text('payload', '$.log_url') }} as log_url,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
