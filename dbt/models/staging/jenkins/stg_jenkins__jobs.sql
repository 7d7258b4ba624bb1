with

source as (
    select * from {{ source('raw', 'jenkins_jobs') }}
),

renamed as (
    select
        natural_key as job_key,
        source as source_instance,
        scope as job_full_name,
        payload ->> '$.name' as job_name,
        payload ->> '$._class' as job_class,
        payload ->> '$.url' as url,
        payload ->> '$.color' as color,
        payload ->> '$.description' as description
    from source
)

select * from renamed
