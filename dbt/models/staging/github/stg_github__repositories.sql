with

source as (
    select * from {{ source('raw', 'github_repositories') }}
),

renamed as (
    select
        natural_key as repository,
        source as source_instance,
        cast(payload ->> '$.id' as bigint) as repository_id,
        payload ->> '$.owner.login' as owner,
        payload ->> '$.name' as repository_name,
        payload ->> '$.default_branch' as default_branch,
        cast(payload ->> '$.private' as boolean) as is_private,
        cast(payload ->> '$.archived' as boolean) as is_archived,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.pushed_at' as timestamp with time zone) as pushed_at,
        json_extract_string(payload, '$.topics[*]') as topics,
        fetched_at
    from source
)

select * from renamed
