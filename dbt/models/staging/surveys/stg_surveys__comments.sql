with

source as (
    select * from {{ source('raw', 'survey_comments') }}
),

renamed as (
    select
        natural_key as comment_key,
        parent_key as response_key,
        source as source_instance,
        payload ->> '$.wave' as wave,
        payload ->> '$.team' as team,
        payload ->> '$.item' as item_id,
        payload ->> '$.text' as comment_text
    from source
)

select * from renamed
