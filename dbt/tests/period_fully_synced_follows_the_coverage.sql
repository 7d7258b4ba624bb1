-- period_fully_synced(): a period starting a day before the organisation-wide synced_from is
-- fully synced only once the backfill is complete; one starting a day after always is.
with

coverage as (
    select * from {{ ref('int_sync_coverage') }}
    where is_org_wide
),

periods as (
    select
        coverage.is_complete,
        offsets.offset_days,
        cast({{ to_local_timestamp('coverage.synced_from') }} as date)
        + offsets.offset_days as period_start
    from coverage
    cross join (values (-1), (1)) as offsets (offset_days)
)

select *
from periods
where {{ period_fully_synced('periods.period_start') }} != (is_complete or offset_days > 0)
