with

source as (
    select * from {{ source('raw', 'github_pull_request_reviews') }}
),

renamed as (
    select
        natural_key as review_key,
        parent_key as pull_request_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as review_id,
        payload ->> '$.user.login' as reviewer,
        payload ->> '$.state' as state,
        payload ->> '$.commit_id' as commit_sha,
        cast(payload ->> '$.submitted_at' as timestamp with time zone) as submitted_at
    from source
)

select * from renamed
