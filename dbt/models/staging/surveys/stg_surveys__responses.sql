with

source as (
    select * from {{ source('raw', 'survey_responses') }}
),

renamed as (
    select
        natural_key as response_key,
        source as source_instance,
        payload ->> '$.wave' as wave,
        payload ->> '$.team' as team,
        nullif(trim(payload ->> '$.tenure'), '') as tenure,
        nullif(trim(payload ->> '$.role'), '') as role,
        payload ->> '$.respondent' as respondent,
        cast(payload ->> '$.submitted_at' as timestamp with time zone) as submitted_at,
        payload -> '$.answers' as answers
    from source
)

select * from renamed
