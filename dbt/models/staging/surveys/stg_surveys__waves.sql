with

source as (
    select * from {{ source('raw', 'survey_waves') }}
),

renamed as (
    select
        natural_key as wave_team_key,
        source as source_instance,
        {{ pm_json_text('payload', '$.wave') }} as wave,
        {{ pm_json_text('payload', '$.team') }} as team,
        cast({{ pm_json_text('payload', '$.invited') }} as integer) as invited
    from source
)

select * from renamed
