with

source as (
    select * from {{ source('raw', 'org_incident_services') }}
),

renamed as (
    select
        cast(source as varchar) as source_instance,
        cast(kind as varchar) as kind,
        cast(external_service as varchar) as external_service,
        cast(service as varchar) as service
    from source
)

select * from renamed
