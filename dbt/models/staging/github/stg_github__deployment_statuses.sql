{{
    config(
        materialized='incremental',
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
        cast(payload ->> '$.id' as bigint) as status_id,
        payload ->> '$.state' as state,
        payload ->> '$.environment' as environment,
        payload ->> '$.description' as description,
        payload ->> '$.creator.login' as creator,
        payload ->> '$.target_url' as target_url,
        payload ->> '$.log_url' as log_url,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
