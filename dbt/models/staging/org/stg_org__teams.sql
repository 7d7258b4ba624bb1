with

source as (
    select * from {{ source('raw', 'org_teams') }}
),

renamed as (
    select
        cast(team as {{ pm_string_type() }}) as team,
        cast(engineers as integer) as engineers,
        cast(on_call as integer) as on_call
    from source
)

select * from renamed
