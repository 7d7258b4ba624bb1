with

incidents as (
    select * from {{ ref('int_incidents') }}
),

final as (
    select
        incident_id,
        source,
        service,
        team,
        severity,
        started_at,
        resolved_at,
        {{ hours_between('started_at', 'resolved_at') }} as recovery_hours,
        deployment_id,
        attribution,
        url
    from incidents
)

select * from final
