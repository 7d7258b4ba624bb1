with

source as (
    select * from {{ source('raw', 'org_services') }}
),

renamed as (
    select
        cast(service as {{ pm_string_type() }}) as service,
        cast(team as {{ pm_string_type() }}) as team,
        cast(tier as {{ pm_string_type() }}) as tier
    from source
)

select * from renamed
