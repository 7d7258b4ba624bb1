{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['datasource', 'sample_id'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'prometheus_sli_samples') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as sample_id,
        source as datasource,
        scope as slo,
        {{ pm_json_text('payload', '$.sli_metric') }} as sli_metric,
        {{ pm_json_text('payload', '$.query') }} as query,
        cast({{ pm_json_text('payload', '$.step_seconds') }} as integer) as step_seconds,
        {{ pm_to_timestamp(
            'cast(' ~ pm_json_text('payload', '$.value[0]') ~ ' as double)'
        ) }} as sampled_at,
        try_cast({{ pm_json_text('payload', '$.value[1]') }} as double) as sample_value,
        fetched_at,
        {{ sql_literal(incremental_hash()) }} as definitions_hash
    from source
)

select * from renamed
