{#-
    Incremental (docs/adr/0009-incremental-staging-models.md): each read of the incidents parses
    their log entries, about 2 KB of JSON an incident, so the union view and the data tests read a
    table, and a daily run parses only the incidents fetched since the last build.
-#}
{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'incident_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'pagerduty_incidents') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        cast({{ pm_json_text('payload', '$.incident_number') }} as integer) as incident_number,
        {{ pm_json_text('payload', '$.title') }} as title,
        {{ pm_json_text('payload', '$.description') }} as description,
        {{ pm_json_text('payload', '$.status') }} as status,
        {{ pm_json_text('payload', '$.urgency') }} as urgency,
        {{ pm_json_text('payload', '$.priority.summary') }} as priority,
        coalesce({{ pm_json_text('payload', '$.service.id') }}, scope) as pagerduty_service_id,
        {{ pm_json_text('payload', '$.html_url') }} as html_url,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.resolved_at') }} as {{ pm_timestamptz() }}
        ) as resolved_at,
        cast(
            {{ pm_json_text('payload', '$.last_status_change_at') }} as {{ pm_timestamptz() }}
        ) as last_status_change_at,
        -- First acknowledgement / last resolution in the log entries the sync attaches, else the
        -- incident's own acknowledgements (present while it is acknowledged).
        coalesce(
            {{ pm_json_list_aggregate(
                'min', 'payload', '$.log_entries', 'e', 'entry',
                'cast(' ~ pm_json_text('entry', '$.created_at') ~ ' as ' ~ pm_timestamptz() ~ ')',
                where=pm_json_text('entry', '$.type') ~ " = 'acknowledge_log_entry'"
            ) }},
            {{ pm_json_list_aggregate(
                'min', 'payload', '$.acknowledgements', 'a', 'ack',
                'cast(' ~ pm_json_text('ack', '$.at') ~ ' as ' ~ pm_timestamptz() ~ ')'
            ) }}
        ) as acknowledged_at,
        {{ pm_json_list_aggregate(
            'max', 'payload', '$.log_entries', 'e', 'entry',
            'cast(' ~ pm_json_text('entry', '$.created_at') ~ ' as ' ~ pm_timestamptz() ~ ')',
            where=pm_json_text('entry', '$.type') ~ " = 'resolve_log_entry'"
        ) }} as resolve_logged_at,
        {{ pm_json_string_list('payload', '$.assignments[*].assignee.summary') }} as assignees,
        {{ incremental_columns() }}
    from source
)

select * from renamed
