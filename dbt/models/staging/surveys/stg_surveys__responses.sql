with

source as (
    select * from {{ source('raw', 'survey_responses') }}
),

renamed as (
    select
        natural_key as response_key,
        source as source_instance,
        {{ pm_json_text('payload', '$.wave') }} as wave,
        {{ pm_json_text('payload', '$.team') }} as team,
        nullif(trim({{ pm_json_text('payload', '$.tenure') }}), '') as tenure,
        nullif(trim({{ pm_json_text('payload', '$.role') }}), '') as role,
        {{ pm_json_text('payload', '$.respondent') }} as respondent,
        -- As the form tool wrote it (Google Forms: 2026/06/03 08:30:39).
        {{ pm_cast_text_timestamptz(pm_json_text('payload', '$.submitted_at')) }} as submitted_at,
        {{ pm_json('payload', '$.answers') }} as answers
    from source
)

select * from renamed
