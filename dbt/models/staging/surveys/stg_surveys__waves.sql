with

source as (
    select * from {{ source('raw', 'survey_waves') }}
),

renamed as (
    select
        natural_key as wave_team_key,
        source as source_instance,
        payload ->> '$.wave' as wave,
        payload ->> '$.team' as team,
        cast(payload ->> '$.invited' as integer) as invited
    from source
)

select * from renamed
