with

source as (
    select * from {{ source('raw', 'gitlab_tags') }}
),

renamed as (
    select
        natural_key as tag_key,
        source as source_instance,
        scope as project,
        {{ pm_json_text('payload', '$.name') }} as tag_name,
        {{ pm_json_text('payload', '$.commit.id') }} as commit_sha
    from source
)

select * from renamed
