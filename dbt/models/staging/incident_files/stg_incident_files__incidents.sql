with

source as (
    select * from {{ source('raw', 'incident_file_rows') }}
),

renamed as (
    select
        natural_key as incident_id,
        source as source_instance,
        payload ->> '$.file' as file_name,
        cast(payload ->> '$.row' as integer) as file_row,
        payload ->> '$.title' as title,
        payload ->> '$.service' as service_value,
        payload ->> '$.severity' as severity,
        payload ->> '$.url' as url,
        payload ->> '$.deployment_id' as cause_deployment_id,
        lower(payload ->> '$.commit_sha') as cause_commit_sha,
        payload ->> '$.revert_pr' as cause_revert_pr,
        cast(payload ->> '$.started_at' as timestamp with time zone) as started_at,
        cast(payload ->> '$.detected_at' as timestamp with time zone) as detected_at,
        cast(payload ->> '$.acknowledged_at' as timestamp with time zone) as acknowledged_at,
        cast(payload ->> '$.resolved_at' as timestamp with time zone) as resolved_at
    from source
)

select * from renamed
