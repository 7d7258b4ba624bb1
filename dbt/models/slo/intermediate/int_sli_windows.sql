-- Trailing sums of good and total budget units per SLO at the end of every interval, over the
-- windows of the multi-window burn-rate alerts. A window shorter than the SLO's interval covers
-- that one interval (it cannot be resolved any finer from the stored data).
with

intervals as (
    select * from {{ ref('fct_sli_intervals') }}
),

{%- set windows = {'5m': 300, '30m': 1800, '1h': 3600, '2h': 7200, '6h': 21600,
    '24h': 86400, '72h': 259200} %}

windowed as (
    select
        slo,
        interval_start,
        interval_end,
        {%- for name, seconds in windows.items() %}
            sum(good) over (
                partition by slo order by interval_start
                range between interval {{ seconds - 1 }} second preceding and current row
            ) as good_{{ name }},
            sum(total) over (
                partition by slo order by interval_start
                range between interval {{ seconds - 1 }} second preceding and current row
            ) as total_{{ name }},
        {%- endfor %}
        good,
        total
    from intervals
)

select * from windowed
