with

source as (
    select * from {{ source('raw', 'github_issues') }}
),

renamed as (
    select
        natural_key as issue_key,
        source as source_instance,
        scope as repository,
        cast(payload ->> '$.id' as bigint) as issue_id,
        cast(payload ->> '$.number' as integer) as issue_number,
        payload ->> '$.title' as title,
        payload ->> '$.body' as body,
        payload ->> '$.state' as state,
        payload ->> '$.state_reason' as state_reason,
        payload ->> '$.user.login' as author,
        json_extract_string(payload, '$.labels[*].name') as labels,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at,
        cast(payload ->> '$.closed_at' as timestamp with time zone) as closed_at
    from source
)

select * from renamed
