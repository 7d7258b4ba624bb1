with

source as (
    select * from {{ source('raw', 'gitlab_environments') }}
),

renamed as (
    select
        natural_key as environment_key,
        source as source_instance,
        scope as project,
        cast(payload ->> '$.id' as bigint) as environment_id,
        payload ->> '$.name' as environment,
        payload ->> '$.tier' as tier,
        payload ->> '$.state' as state,
        payload ->> '$.external_url' as external_url,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at
    from source
)

select * from renamed
