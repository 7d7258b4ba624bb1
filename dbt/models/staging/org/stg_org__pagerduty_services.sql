with

source as (
    select * from {{ source('raw', 'org_pagerduty_services') }}
),

renamed as (
    select
        cast(pagerduty_service_id as {{ pm_string_type() }}) as pagerduty_service_id,
        cast(service as {{ pm_string_type() }}) as service
    from source
)

select * from renamed
