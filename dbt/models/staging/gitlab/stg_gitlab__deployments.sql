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
    select * from {{ source('raw', 'gitlab_deployments') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as deployment_key,
        source as source_instance,
        scope as project,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as deployment_id,
        cast({{ pm_json_text('payload', '$.iid') }} as bigint) as deployment_iid,
        {{ pm_json_text('payload', '$.environment.name') }} as environment,
        cast({{ pm_json_text('payload', '$.environment.id') }} as bigint) as environment_id,
        {{ pm_json_text('payload', '$.ref') }} as ref,
        {{ pm_json_text('payload', '$.sha') }} as commit_sha,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.user.username') }} as deployer,
        cast({{ pm_json_text('payload', '$.deployable.id') }} as bigint) as job_id,
        {{ pm_json_text('payload', '$.deployable.name') }} as job_name,
        cast({{ pm_json_text('payload', '$.deployable.pipeline.id') }} as bigint) as pipeline_id,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.deployable.started_at') }} as {{ pm_timestamptz() }}
        ) as started_at,
        coalesce(
            cast({{ pm_json_text('payload', '$.finished_at') }} as {{ pm_timestamptz() }}),
            cast(
                {{ pm_json_text('payload', '$.deployable.finished_at') }} as {{ pm_timestamptz() }}
            )
        ) as finished_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        {{ incremental_columns() }}
    from source
)

select * from renamed
