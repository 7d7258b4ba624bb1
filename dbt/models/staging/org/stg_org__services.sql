with

source as (
    select * from {{ source('raw', 'org_services') }}
),

renamed as (
    select
        cast(service as varchar) as service,
        cast(team as varchar) as team,
        cast(tier as varchar) as tier
    from source
)

select * from renamed
