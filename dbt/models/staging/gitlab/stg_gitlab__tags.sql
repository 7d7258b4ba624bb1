with

source as (
    select * from {{ source('raw', 'gitlab_tags') }}
),

renamed as (
    select
        natural_key as tag_key,
        source as source_instance,
        scope as project,
        payload ->> '$.name' as tag_name,
        payload ->> '$.commit.id' as commit_sha
    from source
)

select * from renamed
