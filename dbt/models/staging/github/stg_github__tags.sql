with

source as (
    select * from {{ source('raw', 'github_tags') }}
),

renamed as (
    select
        natural_key as tag_key,
        source as source_instance,
        scope as repository,
        payload ->> '$.name' as tag_name,
        payload ->> '$.commit.sha' as commit_sha
    from source
)

select * from renamed
