-- Burn-rate alert events evaluated from the stored SLI history: at the end of every interval, a
-- policy fires when the burn rates of both its long and its short window exceed its factor
-- (raw.slo_alert_policies). Consecutive firing intervals make one event.
with

windows as (
    select * from {{ ref('int_sli_windows') }}
),

definitions as (
    select * from {{ ref('stg_slo__definitions') }}
),

policies as (
    select * from {{ ref('stg_slo__alert_policies') }}
),

{%- set windows = {'5m': 5 / 60, '30m': 0.5, '1h': 1, '2h': 2, '6h': 6, '24h': 24, '72h': 72} %}

evaluated as (
    select
        windows.slo,
        windows.interval_start,
        windows.interval_end,
        definitions.interval_seconds,
        policies.severity,
        policies.long_window_hours,
        policies.short_window_hours,
        policies.burn_rate_factor,
        1 - definitions.target as error_budget,
        case policies.long_window_hours
            {%- for name, hours in windows.items() %}
                when
                    {{ hours }}
                    then 1 - windows.good_{{ name }} / nullif(windows.total_{{ name }}, 0)
            {%- endfor %}
        end as long_error_ratio,
        case policies.short_window_hours
            {%- for name, hours in windows.items() %}
                when
                    {{ hours }}
                    then 1 - windows.good_{{ name }} / nullif(windows.total_{{ name }}, 0)
            {%- endfor %}
        end as short_error_ratio
    from windows
    inner join definitions on windows.slo = definitions.slo
    inner join policies on windows.slo = policies.slo
),

firing as (
    select
        *,
        long_error_ratio / error_budget as long_burn_rate,
        short_error_ratio / error_budget as short_burn_rate,
        row_number() over (
            partition by slo, severity, long_window_hours order by interval_start
        ) as seq
    from evaluated
    where
        long_error_ratio / error_budget > burn_rate_factor
        and short_error_ratio / error_budget > burn_rate_factor
),

islands as (
    select
        *,
        -- consecutive intervals share one value: interval index minus position among firings
        {{ pm_epoch_intervals('interval_start', 'interval_seconds') }} - seq as island
    from firing
),

final as (
    select
        slo,
        severity,
        long_window_hours,
        short_window_hours,
        burn_rate_factor,
        min(interval_end) as fired_at,
        {{ pm_add_whole_seconds('max(interval_end)', 'max(interval_seconds)') }} as resolved_at,
        count(*) as intervals_firing,
        max(long_burn_rate) as peak_long_burn_rate,
        max(short_burn_rate) as peak_short_burn_rate
    from islands
    group by slo, severity, long_window_hours, short_window_hours, burn_rate_factor, island
)

select * from final
