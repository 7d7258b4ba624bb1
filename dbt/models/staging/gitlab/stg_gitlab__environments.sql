with

source as (
    select * from {{ source('raw', 'gitlab_environments') }}
),

renamed as (
    select
        natural_key as environment_key,
        source as source_instance,
        scope as project,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as environment_id,
        {{ pm_json_text('payload', '$.name') }} as environment,
        {{ pm_json_text('payload', '$.tier') }} as tier,
        {{ pm_json_text('payload', '$.state') }} as state,
        {{ pm_json_text('payload', '$.external_url') }} as external_url,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at
    from source
)

select * from renamed
