with

source as (
    select * from {{ source('raw', 'opsgenie_incidents') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        payload ->> '$.tinyId' as tiny_id,
        payload ->> '$.message' as title,
        payload ->> '$.description' as description,
        payload ->> '$.status' as status,
        payload ->> '$.priority' as priority,
        json_extract_string(payload, '$.impactedServices[*]') as impacted_services,
        json_extract_string(payload, '$.tags[*]') as tags,
        payload ->> '$.links.web' as url,
        cast(payload ->> '$.createdAt' as timestamp with time zone) as created_at,
        cast(payload ->> '$.updatedAt' as timestamp with time zone) as updated_at,
        cast(
            payload ->> '$.impactStartDate' as timestamp with time zone
        ) as impact_started_at,
        cast(payload ->> '$.impactEndDate' as timestamp with time zone) as impact_ended_at
    from source
)

select * from renamed
