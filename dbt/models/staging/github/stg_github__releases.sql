with

source as (
    select * from {{ source('raw', 'github_releases') }}
),

renamed as (
    select
        natural_key as release_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as release_id,
        payload ->> '$.tag_name' as tag_name,
        payload ->> '$.name' as release_name,
        payload ->> '$.target_commitish' as target_commitish,
        payload ->> '$.author.login' as author,
        cast(payload ->> '$.draft' as boolean) as is_draft,
        cast(payload ->> '$.prerelease' as boolean) as is_prerelease,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.published_at' as timestamp with time zone) as published_at
    from source
)

select * from renamed
