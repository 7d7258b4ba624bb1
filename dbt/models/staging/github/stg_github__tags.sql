with

source as (
    select * from {{ source('raw', 'github_tags') }}
),

renamed as (
    select
        natural_key as tag_key,
        source as source_instance,
        scope as repository,
        {{ pm_json_text('payload', '$.name') }} as tag_name,
        {{ pm_json_text('payload', '$.commit.sha') }} as commit_sha
    from source
)

select * from renamed
