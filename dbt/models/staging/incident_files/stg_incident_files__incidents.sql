with

source as (
    select * from {{ source('raw', 'incident_file_rows') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        {{ pm_json_text('payload', '$.file') }} as file_name,
        cast({{ pm_json_text('payload', '$.row') }} as integer) as file_row,
        {{ pm_json_text('payload', '$.title') }} as title,
        {{ pm_json_text('payload', '$.service') }} as service_value,
        {{ pm_json_text('payload', '$.severity') }} as severity,
        {{ pm_json_text('payload', '$.url') }} as url,
        {{ pm_json_text('payload', '$.deployment_id') }} as cause_deployment_id,
        lower({{ pm_json_text('payload', '$.commit_sha') }}) as cause_commit_sha,
        {{ pm_json_text('payload', '$.revert_pr') }} as cause_revert_pr,
        cast({{ pm_json_text('payload', '$.started_at') }} as {{ pm_timestamptz() }}) as started_at,
        cast(
            {{ pm_json_text('payload', '$.detected_at') }} as {{ pm_timestamptz() }}
        ) as detected_at,
        cast(
            {{ pm_json_text('payload', '$.acknowledged_at') }} as {{ pm_timestamptz() }}
        ) as acknowledged_at,
        cast(
            {{ pm_json_text('payload', '$.resolved_at') }} as {{ pm_timestamptz() }}
        ) as resolved_at
    from source
)

select * from renamed
