with

source as (
    select * from {{ source('raw', 'slo_definitions') }}
),

renamed as (
    select
        cast(slo as {{ pm_string_type() }}) as slo,
        cast(display_name as {{ pm_string_type() }}) as display_name,
        cast(service as {{ pm_string_type() }}) as service,
        cast(description as {{ pm_string_type() }}) as description,
        cast(spec_file as {{ pm_string_type() }}) as spec_file,
        cast(indicator as {{ pm_string_type() }}) as indicator,
        cast(source_type as {{ pm_string_type() }}) as source_type,
        cast(datasource as {{ pm_string_type() }}) as datasource,
        cast(budgeting_method as {{ pm_string_type() }}) as budgeting_method,
        cast(target as double) as target,
        cast(op as {{ pm_string_type() }}) as op,
        cast(threshold_value as double) as threshold_value,
        cast(time_slice_target as double) as time_slice_target,
        cast(interval_seconds as integer) as interval_seconds,
        cast(time_window as {{ pm_string_type() }}) as time_window,
        cast(is_rolling as boolean) as is_rolling,
        cast(period_kind as {{ pm_string_type() }}) as period_kind,
        cast(period_hours as integer) as period_hours,
        cast(time_zone as {{ pm_string_type() }}) as time_zone,
        cast(good_query as {{ pm_string_type() }}) as good_query,
        cast(bad_query as {{ pm_string_type() }}) as bad_query,
        cast(total_query as {{ pm_string_type() }}) as total_query,
        cast(threshold_query as {{ pm_string_type() }}) as threshold_query,
        cast(incident_severities as {{ pm_string_type() }}) as incident_severities
    from source
)

select * from renamed
