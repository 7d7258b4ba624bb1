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
    select * from {{ source('raw', 'gitlab_deployments') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as deployment_key,
        source as source_instance,
        scope as project,
        cast(payload ->> '$.id' as bigint) as deployment_id,
        cast(payload ->> '$.iid' as bigint) as deployment_iid,
        payload ->> '$.environment.name' as environment,
        cast(payload ->> '$.environment.id' as bigint) as environment_id,
        payload ->> '$.ref' as ref,
        payload ->> '$.sha' as commit_sha,
        payload ->> '$.status' as status,
        payload ->> '$.user.username' as deployer,
        cast(payload ->> '$.deployable.id' as bigint) as job_id,
        payload ->> '$.deployable.name' as job_name,
        cast(payload ->> '$.deployable.pipeline.id' as bigint) as pipeline_id,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.deployable.started_at' as timestamp with time zone) as started_at,
        coalesce(
            cast(payload ->> '$.finished_at' as timestamp with time zone),
            cast(payload ->> '$.deployable.finished_at' as timestamp with time zone)
        ) as finished_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
