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
        ) as last_status_change_at,
        -- First acknowledgement / last resolution in the log entries the sync attaches, else the
        -- incident's own acknowledgements (present while it is acknowledged).
        coalesce(
            (
                select min(cast(entry ->> '$.created_at' as timestamp with time zone))
                from
                    unnest(
                        cast(coalesce(payload -> '$.log_entries', '[]') as json[])
                    ) as e (entry)
                where entry ->> '$.type' = 'acknowledge_log_entry'
            ),
            (
                select min(cast(ack ->> '$.at' as timestamp with time zone))
                from
                    unnest(
                        cast(coalesce(payload -> '$.acknowledgements', '[]') as json[])
                    ) as a (ack)
            )
        ) as acknowledged_at,
        (
            select max(cast(entry ->> '$.created_at' as timestamp with time zone))
            from unnest(cast(coalesce(payload -> '$.log_entries', '[]') as json[])) as e (entry)
            where entry ->> '$.type' = 'resolve_log_entry'
        ) as resolve_logged_at,
        json_extract_string(payload, '$.assignments[*].assignee.summary') as assignees
    from source
)

select * from renamed
