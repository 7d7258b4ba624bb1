with

source as (
    select * from {{ source('raw', 'jenkins_jobs') }}
),

renamed as (
    select
        natural_key as job_key,
        source as source_instance,
        scope as job_full_name,
        {{ pm_json_text('payload', '$.name') }} as job_name,
        {{ pm_json_text('payload', '$._class') }} as job_class,
        {{ pm_json_text('payload', '$.url') }} as url,
        {{ pm_json_text('payload', '$.color') }} as color,
        {{ pm_json_text('payload', '$.description') }} as description
    from source
)

select * from renamed
