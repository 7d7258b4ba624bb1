with

source as (
    select * from {{ source('raw', 'org_pagerduty_services') }}
),

renamed as (
    select
        cast(pagerduty_service_id as varchar) as pagerduty_service_id,
        cast(service as varchar) as service
    from source
)

select * from renamed
