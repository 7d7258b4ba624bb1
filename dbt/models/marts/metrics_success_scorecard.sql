{#-
    The platform plan's success metrics, one row per entry of var('scorecard') in config order:
    the current and previous value of its measure (int_scorecard_measures), the target and a
    status. With v the current value, t the target and r = at_risk_within (default 10% of |t|):
    'met' when v <op> t holds; otherwise 'at risk' when r > 0 and |v - t| <= r, else 'missed';
    'no data' (with the reason) when there is no value. The leadership report reads this table.
-#}

with

targets as (
    {{ scorecard_targets() }}
),

registry as (
    select * from {{ ref('scorecard_measures') }}
),

measures as (
    select * from {{ ref('int_scorecard_measures') }}
),

joined as (
    select
        targets.position,
        targets.metric,
        coalesce(nullif(targets.label, ''), registry.label) as label,
        targets.scope,
        registry.unit,
        registry.better,
        targets.op,
        targets.target,
        coalesce(targets.at_risk_within, 0.1 * abs(targets.target)) as at_risk_within,
        measures.current_value,
        measures.current_period,
        measures.previous_value,
        measures.previous_period,
        coalesce(
            measures.no_data_reason, 'no value for scope ' || targets.scope
        ) as no_data_reason,
        registry.source_table,
        registry.description
    from targets
    inner join registry
        on targets.metric = registry.measure
    left join measures
        on
            targets.metric = measures.measure
            and targets.scope = measures.scope
),

judged as (
    select
        *,
        case op
            when '>' then current_value > target
            when '>=' then current_value >= target
            when '<' then current_value < target
            when '<=' then current_value <= target
        end as is_met
    from joined
)

select
    position,
    metric,
    label,
    scope,
    unit,
    better,
    op,
    target,
    at_risk_within,
    current_value,
    current_period,
    previous_value,
    previous_period,
    current_value - previous_value as change,
    case
        when current_value is null then 'no data'
        when is_met then 'met'
        when
            at_risk_within > 0 and abs(current_value - target) <= at_risk_within
            then 'at risk'
        else 'missed'
    end as status,
    case
        when current_value is null then no_data_reason
    end as status_reason,
    source_table,
    description
from judged
order by position
