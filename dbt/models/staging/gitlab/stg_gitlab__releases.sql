with

source as (
    select * from {{ source('raw', 'gitlab_releases') }}
),

renamed as (
    select
        natural_key as release_key,
        source as source_instance,
        scope as project,
        payload ->> '$.tag_name' as tag_name,
        payload ->> '$.name' as release_name,
        payload ->> '$.commit.id' as commit_sha,
        payload ->> '$.author.username' as author,
        coalesce(cast(payload ->> '$.upcoming_release' as boolean), false) as is_upcoming,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.released_at' as timestamp with time zone) as released_at
    from source
)

select * from renamed
