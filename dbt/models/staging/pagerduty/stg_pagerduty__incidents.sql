with

source as (
    select * from {{ source('raw', 'pagerduty_incidents') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        cast(payload ->> '$.incident_number' as integer) as incident_number,
        payload ->> '$.title' as title,
        payload ->> '$.description' as description,
        payload ->> '$.status' as status,
        payload ->> '$.urgency' as urgency,
        payload ->> '$.priority.summary' as priority,
        coalesce(payload ->> '$.service.id', scope) as pagerduty_service_id,
        payload ->> '$.html_url' as html_url,
        cast(payload ->> '$.created_at' as timestamp with time zone) as created_at,
        cast(payload ->> '$.resolved_at' as timestamp with time zone) as resolved_at,
        cast(
            payload ->> '$.last_status_change_at' as timestamp with time zone
        ) as last_status_change_at
    from source
)

select * from renamed
