with

source as (
    select * from {{ source('raw', 'survey_comments') }}
),

renamed as (
    select
        natural_key as comment_key,
        parent_key as response_key,
        source as source_instance,
        {{ pm_json_text('payload', '$.wave') }} as wave,
        {{ pm_json_text('payload', '$.team') }} as team,
        {{ pm_json_text('payload', '$.item') }} as item_id,
        {{ pm_json_text('payload', '$.text') }} as comment_text
    from source
)

select * from renamed
