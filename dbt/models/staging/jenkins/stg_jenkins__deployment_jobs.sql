with

source as (
    select * from {{ source('raw', 'jenkins_deployment_jobs') }}
),

renamed as (
    select
        source as source_instance,
        scope as job_full_name,
        {{ pm_json_text('payload', '$.environment') }} as environment
    from source
)

select * from renamed
