with

source as (
    select * from {{ source('raw', 'org_repositories') }}
),

renamed as (
    select
        cast(repository as {{ pm_string_type() }}) as repository,
        cast(service as {{ pm_string_type() }}) as service,
        cast(team as {{ pm_string_type() }}) as team
    from source
)

select * from renamed
