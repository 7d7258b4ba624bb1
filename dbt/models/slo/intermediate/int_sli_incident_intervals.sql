-- Incident SLIs: every minute from the first to the last observation in the warehouse is up unless
-- an incident of the SLO's service (of the listed severities, if any) covers it. Overlapping
-- incidents count a minute once. Minutes are then summed per interval.
with

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
    where source_type = 'Incidents'
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

observed as (
    select
        min(observed_at) as first_at,
        max(observed_at) as last_at
    from (
        select started_at as observed_at from incidents
        union all
        select coalesce(resolved_at, started_at) as observed_at from incidents
        union all
        select deployed_at as observed_at from deployments
    ) as observations
),

bounds as (
    select
        {{ interval_floor('first_at', 86400) }} as first_minute,
        {{ interval_floor('last_at', 60) }} as last_minute
    from observed
    where first_at is not null
),

minutes as (
    select cast(spine.minute_start as {{ pm_timestamptz() }}) as minute_start
    from bounds
    {{ pm_cross_join_series(
        'cast(bounds.first_minute as timestamp)',
        'cast(bounds.last_minute as timestamp)',
        'interval 1 minute',
        'spine',
        'minute_start'
    ) }}
),

slo_incidents as (
    select
        definitions.slo,
        incidents.started_at,
        coalesce(incidents.resolved_at, observed.last_at) as ended_at
    from definitions
    inner join incidents on definitions.service = incidents.service
    cross join observed
    where
        definitions.incident_severities is null
        or {{ pm_list_contains(
            pm_string_split('definitions.incident_severities', ','), 'incidents.severity'
        ) }}
),

down_minutes as (
    select distinct
        slo_incidents.slo,
        minutes.minute_start
    from slo_incidents
    inner join minutes
        on
            minutes.minute_start >= {{ interval_floor('slo_incidents.started_at', 60) }}
            and slo_incidents.ended_at > minutes.minute_start
),

slo_minutes as (
    select
        definitions.slo,
        definitions.interval_seconds,
        minutes.minute_start,
        down_minutes.minute_start is not null as is_down
    from definitions
    cross join minutes
    left join down_minutes
        on
            definitions.slo = down_minutes.slo
            and minutes.minute_start = down_minutes.minute_start
),

final as (
    select
        slo,
        {{ interval_floor('minute_start', 'interval_seconds') }} as interval_start,
        cast(count(*) filter (where not is_down) as double) as good_events,
        cast(count(*) as double) as total_events,
        cast(null as double) as reading
    from slo_minutes
    group by 1, 2
)

select * from final
