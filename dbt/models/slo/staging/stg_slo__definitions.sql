with

source as (
    select * from {{ source('raw', 'slo_definitions') }}
),

renamed as (
    select
        cast(slo as varchar) as slo,
        cast(display_name as varchar) as display_name,
        cast(service as varchar) as service,
        cast(description as varchar) as description,
        cast(spec_file as varchar) as spec_file,
        cast(indicator as varchar) as indicator,
        cast(source_type as varchar) as source_type,
        cast(datasource as varchar) as datasource,
        cast(budgeting_method as varchar) as budgeting_method,
        cast(target as double) as target,
        cast(op as varchar) as op,
        cast(threshold_value as double) as threshold_value,
        cast(time_slice_target as double) as time_slice_target,
        cast(interval_seconds as integer) as interval_seconds,
        cast(time_window as varchar) as time_window,
        cast(is_rolling as boolean) as is_rolling,
        cast(period_kind as varchar) as period_kind,
        cast(period_hours as integer) as period_hours,
        cast(time_zone as varchar) as time_zone,
        cast(good_query as varchar) as good_query,
        cast(bad_query as varchar) as bad_query,
        cast(total_query as varchar) as total_query,
        cast(threshold_query as varchar) as threshold_query,
        cast(incident_severities as varchar) as incident_severities
    from source
)

select * from renamed
