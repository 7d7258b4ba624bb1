with

source as (
    select * from {{ source('raw', 'statuspage_incidents') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        coalesce(payload ->> '$.page_id', scope) as page_id,
        payload ->> '$.name' as title,
        payload ->> '$.status' as status,
        payload ->> '$.impact' as impact,
        payload ->> '$.shortlink' as url,
        json_extract_string(payload, '$.components[*].name') as components,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.started_at' as timestamp with time zone) as started_at,
        cast(payload ->> '$.monitoring_at' as timestamp with time zone) as monitoring_at,
        cast(payload ->> '$.resolved_at' as timestamp with time zone) as resolved_at,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as updated_at
    from source
)

select * from renamed
