with

source as (
    select * from {{ source('raw', 'opsgenie_incidents') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        {{ pm_json_text('payload', '$.tinyId') }} as tiny_id,
        {{ pm_json_text('payload', '$.message') }} as title,
        {{ pm_json_text('payload', '$.description') }} as description,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.priority') }} as priority,
        {{ pm_json_string_list('payload', '$.impactedServices[*]') }} as impacted_services,
        {{ pm_json_string_list('payload', '$.tags[*]') }} as tags,
        {{ pm_json_text('payload', '$.links.web') }} as url,
        cast({{ pm_json_text('payload', '$.createdAt') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updatedAt') }} as {{ pm_timestamptz() }}) as updated_at,
        cast(
            {{ pm_json_text('payload', '$.impactStartDate') }} as {{ pm_timestamptz() }}
        ) as impact_started_at,
        cast(
            {{ pm_json_text('payload', '$.impactEndDate') }} as {{ pm_timestamptz() }}
        ) as impact_ended_at
    from source
)

select * from renamed
