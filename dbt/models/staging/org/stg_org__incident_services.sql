with

source as (
    select * from {{ source('raw', 'org_incident_services') }}
),

renamed as (
    select
        cast(source as {{ pm_string_type() }}) as source_instance,
        cast(kind as {{ pm_string_type() }}) as kind,
        cast(external_service as {{ pm_string_type() }}) as external_service,
        cast(service as {{ pm_string_type() }}) as service
    from source
)

select * from renamed
