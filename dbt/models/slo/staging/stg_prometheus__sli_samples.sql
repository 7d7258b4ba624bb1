with

source as (
    select * from {{ source('raw', 'prometheus_sli_samples') }}
),

renamed as (
    select
        natural_key as sample_id,
        source as datasource,
        scope as slo,
        payload ->> '$.sli_metric' as sli_metric,
        payload ->> '$.query' as query,
        cast(payload ->> '$.step_seconds' as integer) as step_seconds,
        to_timestamp(cast(payload ->> '$.value[0]' as double)) as sampled_at,
        try_cast(payload ->> '$.value[1]' as double) as sample_value,
        fetched_at
    from source
)

select * from renamed
