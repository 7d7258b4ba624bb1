{{
    config(
        materialized='incremental',
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
        cast(payload ->> '$.id' as bigint) as github_deployment_id,
        payload ->> '$.environment' as environment,
        payload ->> '$.original_environment' as original_environment,
        payload ->> '$.ref' as ref,
        payload ->> '$.sha' as commit_sha,
        payload ->> '$.task' as task,
        payload ->> '$.creator.login' as creator,
        cast(payload ->> '$.production_environment' as boolean) as is_production_environment,
        cast(payload ->> '$.transient_environment' as boolean) as is_transient_environment,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
