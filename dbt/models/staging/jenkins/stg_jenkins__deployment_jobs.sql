with

source as (
    select * from {{ source('raw', 'jenkins_deployment_jobs') }}
),

renamed as (
    select
        source as source_instance,
        job as job_full_name,
        environment
    from source
)

select * from renamed
