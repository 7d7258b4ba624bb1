with

source as (
    select * from {{ source('raw', 'statuspage_incidents') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        coalesce({{ pm_json_text('payload', '$.page_id') }}, scope) as page_id,
        {{ pm_json_text('payload', '$.name') }} as title,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.impact') }} as impact,
        {{ pm_json_text('payload', '$.shortlink') }} as url,
        {{ pm_json_string_list('payload', '$.components[*].name') }} as components,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.started_at') }} as {{ pm_timestamptz() }}) as started_at,
        cast(
            {{ pm_json_text('payload', '$.monitoring_at') }} as {{ pm_timestamptz() }}
        ) as monitoring_at,
        cast(
            {{ pm_json_text('payload', '$.resolved_at') }} as {{ pm_timestamptz() }}
        ) as resolved_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at
    from source
)

select * from renamed
