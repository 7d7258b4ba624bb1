-- Prometheus SLIs: one row per SLO and interval. The sample at t covers (t - step, t]; several
-- series of one query are added up; a missing good (or bad) sample beside a total means none.
with

samples as (
    select * from {{ ref('stg_prometheus__sli_samples') }}
    where sample_value is not null and not isnan(sample_value)
),

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
    where source_type = 'Prometheus'
),

per_metric as (
    select
        slo,
        sli_metric,
        {{ add_seconds('sampled_at', '-step_seconds') }} as interval_start,
        sum(sample_value) as sample_value
    from samples
    group by 1, 2, 3
),

pivoted as (
    select
        slo,
        interval_start,
        max(case when sli_metric = 'good' then sample_value end) as good_sample,
        max(case when sli_metric = 'bad' then sample_value end) as bad_sample,
        max(case when sli_metric = 'total' then sample_value end) as total_sample,
        max(case when sli_metric = 'value' then sample_value end) as reading
    from per_metric
    group by 1, 2
),

final as (
    select
        pivoted.slo,
        pivoted.interval_start,
        case
            when definitions.indicator = 'threshold' then null
            when definitions.good_query is not null
                then least(coalesce(pivoted.good_sample, 0), pivoted.total_sample)
            else greatest(pivoted.total_sample - coalesce(pivoted.bad_sample, 0), 0)
        end as good_events,
        pivoted.total_sample as total_events,
        pivoted.reading
    from pivoted
    inner join definitions on pivoted.slo = definitions.slo
    where
        (definitions.indicator = 'ratio' and pivoted.total_sample is not null)
        or (definitions.indicator = 'threshold' and pivoted.reading is not null)
)

select * from final
