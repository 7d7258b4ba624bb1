with

source as (
    select * from {{ source('raw', 'sync_coverage') }}
),

renamed as (
    select
        source as source_instance,
        scope,
        entity,
        synced_from,
        synced_to,
        target_from,
        resume_at,
        updated_at,
        synced_from <= target_from as is_complete
    from source
)

select * from renamed
