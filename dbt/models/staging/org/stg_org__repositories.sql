with

source as (
    select * from {{ source('raw', 'org_repositories') }}
),

renamed as (
    select
        cast(repository as varchar) as repository,
        cast(service as varchar) as service,
        cast(team as varchar) as team
    from source
)

select * from renamed
