with

source as (
    select * from {{ source('raw', 'slo_alert_policies') }}
),

renamed as (
    select
        cast(slo as {{ pm_string_type() }}) as slo,
        cast(severity as {{ pm_string_type() }}) as severity,
        cast(long_window_hours as double) as long_window_hours,
        cast(short_window_hours as double) as short_window_hours,
        cast(burn_rate_factor as double) as burn_rate_factor
    from source
)

select * from renamed
