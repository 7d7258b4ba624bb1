with

source as (
    select * from {{ source('raw', 'gitlab_projects') }}
),

renamed as (
    select
        source as source_instance,
        scope as project,
        cast(payload ->> '$.id' as bigint) as project_id,
        payload ->> '$.namespace.full_path' as namespace,
        payload ->> '$.path' as project_name,
        payload ->> '$.default_branch' as default_branch,
        payload ->> '$.visibility' as visibility,
        cast(payload ->> '$.archived' as boolean) as is_archived,
        payload ->> '$.web_url' as web_url,
        json_extract_string(payload, '$.topics[*]') as topics,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.last_activity_at' as timestamp with time zone) as last_activity_at,
        fetched_at
    from source
)

select * from renamed
