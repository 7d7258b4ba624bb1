{#-
    The DORA metrics table for one grain ('week', 'month', 'quarter' or 'rolling_28d'): every period x scope
    (org, team, service), from the first to the last period with any deployment, change or
    incident. Periods are cut in var('timezone'); weeks start on Monday. A rolling_28d period is
    the 28 days period_start .. period_start + 27, one per day, computed by window functions over
    each fact once (rolling_stats below); as an incremental model it
    recomputes only windows starting within var('rolling_lookback_days') of its latest one, and
    everything when the metric definitions changed (definitions_hash). Every row says when its
    period ends (period_end) and whether it is over at the run's clock (is_complete, periods.sql).
-#}
{% macro dora_metrics(grain) %}
{%- set rolling = grain == 'rolling_28d' -%}
{%- set since = none -%}
{%- if rolling and is_incremental() -%}
    {%- set since = "(select case when min(definitions_hash) = max(definitions_hash) and max(definitions_hash) = '"
        ~ definitions_fingerprint() ~ "' then max(period_start) - " ~ (var('rolling_lookback_days') | int)
        ~ " else date '1900-01-01' end from " ~ this ~ ")" -%}
{%- endif -%}
{%- set min_sample = var('min_sample') | int -%}
{%- set scopes = [('org', "'all'"), ('team', 'team'), ('service', 'service')] -%}
{%- set levels = {1: 'elite', 2: 'high', 3: 'medium', 4: 'low'} -%}

with

deployments as (
    select * from {{ ref('fct_deployments') }}
),

changes as (
    select * from {{ ref('fct_changes') }}
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

org_teams as (
    select * from {{ ref('stg_org__teams') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

benchmarks as (
    select * from {{ ref('dora_benchmarks') }}
    where benchmark = {{ sql_literal(var('benchmark')) }}
),

deployment_facts as (
    select
        {{ fact_period_start(grain, 'deployed_at') }} as period_start,
        team,
        service,
        status,
        is_failure,
        is_rework,
        cast({{ to_local_timestamp('deployed_at') }} as date) as deployed_on
    from deployments
    where {{ fact_since('deployed_at', since) }}
),

change_facts as (
    select
        {{ fact_period_start(grain, 'deployed_at') }} as period_start,
        team,
        service,
        lead_time_hours
    from changes
    where deployed_at is not null and {{ fact_since('deployed_at', since) }}
),

incident_facts as (
    select
        {{ fact_period_start(grain, 'resolved_at') }} as period_start,
        team,
        service,
        recovery_hours
    from incidents
    where resolved_at is not null and {{ fact_since('resolved_at', since) }}
),

{% for fact in ['deployment_facts', 'change_facts', 'incident_facts'] %}
scoped_{{ fact }} as (
    {%- for scope, scope_name in scopes %}
        select
            *,
            '{{ scope }}' as scope,
            {{ scope_name }} as scope_name
        from {{ fact }}
        {%- if scope != 'org' %}
            where {{ scope }} is not null
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

{% endfor %}

{%- if rolling %}

{#-
    Each window's facts, without copying them into the window: ordered by day within a scope, the
    window starting on day d is the frame of day d and the 27 days after it. Every window is a
    marker row of its own (no measure) among its scope's facts; window functions over that frame
    give its counts and quantiles, and only the markers are kept. (Putting each fact into each of
    its 28 windows and grouping held 28 copies of every fact in memory: what held a 10x build
    above 8 GB, docs/operations.md#transform-scale-measured.)
-#}
fact_days as (
    select period_start from deployment_facts
    union all
    select period_start from change_facts
    union all
    select period_start from incident_facts
),

bounds as (
    select
        {%- if since is not none %}
            greatest(min(period_start) - 27, {{ since }}) as first_period,
        {%- else %}
            -- The first window ends on the first day with data, the last on the last.
            min(period_start) - 27 as first_period,
        {%- endif %}
        max(period_start) - 27 as last_period
    from fact_days
),

periods as (
    {{ period_spine('day', "bounds", "first_period", "last_period") }}
),

window_markers as (
    select
        periods.period_start,
        fact_scopes.scope,
        fact_scopes.scope_name
    from periods
    cross join (
        select
            scope,
            scope_name
        from scoped_deployment_facts
        union
        select
            scope,
            scope_name
        from scoped_change_facts
        union
        select
            scope,
            scope_name
        from scoped_incident_facts
    ) as fact_scopes
),

deployment_days as (
    select
        period_start,
        scope,
        scope_name,
        count(*) as deployment_attempts,
        sum(case when status = 'success' then 1 else 0 end) as deployments,
        sum(case when is_failure then 1 else 0 end) as n_failed_deployments,
        sum(case when status = 'success' and is_rework then 1 else 0 end) as n_rework_deployments
    from scoped_deployment_facts
    group by period_start, scope, scope_name
),

deployment_windows as (
    select
        period_start,
        scope,
        scope_name,
        is_window,
        sum(deployment_attempts) over {{ rolling_frame() }} as deployment_attempts,
        sum(deployments) over {{ rolling_frame() }} as deployments,
        count(case when deployments > 0 then 1 end) over {{ rolling_frame() }} as deploy_days,
        sum(n_failed_deployments) over {{ rolling_frame() }} as n_failed_deployments,
        sum(n_rework_deployments) over {{ rolling_frame() }} as n_rework_deployments
    from (
        select
            period_start,
            scope,
            scope_name,
            deployment_attempts,
            deployments,
            n_failed_deployments,
            n_rework_deployments,
            false as is_window
        from deployment_days
        union all
        select
            period_start,
            scope,
            scope_name,
            null as deployment_attempts,
            null as deployments,
            null as n_failed_deployments,
            null as n_rework_deployments,
            true as is_window
        from window_markers
    ) as window_rows
),

deployment_stats as (
    select
        period_start,
        scope,
        scope_name,
        deployment_attempts,
        deployments,
        deploy_days,
        n_failed_deployments,
        n_rework_deployments
    from deployment_windows
    where is_window and deployment_attempts > 0
),

change_stats as (
    {{ rolling_stats('scoped_change_facts', 'lead_time_hours', 'n_changes', [
        ('lead_time_p50_hours', 0.5), ('lead_time_p75_hours', 0.75), ('lead_time_p90_hours', 0.9)
    ]) }}
),

incident_stats as (
    {{ rolling_stats('scoped_incident_facts', 'recovery_hours', 'n_incidents', [
        ('recovery_time_p50_hours', 0.5), ('recovery_time_p90_hours', 0.9)
    ]) }}
),

{%- else %}

deployment_stats as (
    select
        period_start,
        scope,
        scope_name,
        count(*) as deployment_attempts,
        sum(case when status = 'success' then 1 else 0 end) as deployments,
        count(distinct case when status = 'success' then deployed_on end) as deploy_days,
        sum(case when is_failure then 1 else 0 end) as n_failed_deployments,
        sum(case when status = 'success' and is_rework then 1 else 0 end) as n_rework_deployments
    from scoped_deployment_facts
    group by period_start, scope, scope_name
),

change_stats as (
    select
        period_start,
        scope,
        scope_name,
        count(*) as n_changes,
        percentile_cont(0.5) within group (order by lead_time_hours) as lead_time_p50_hours,
        percentile_cont(0.75) within group (order by lead_time_hours) as lead_time_p75_hours,
        percentile_cont(0.9) within group (order by lead_time_hours) as lead_time_p90_hours
    from scoped_change_facts
    group by period_start, scope, scope_name
),

incident_stats as (
    select
        period_start,
        scope,
        scope_name,
        count(*) as n_incidents,
        percentile_cont(0.5) within group (order by recovery_hours) as recovery_time_p50_hours,
        percentile_cont(0.9) within group (order by recovery_hours) as recovery_time_p90_hours
    from scoped_incident_facts
    group by period_start, scope, scope_name
),

all_periods as (
    select period_start from deployment_stats
    union all
    select period_start from change_stats
    union all
    select period_start from incident_stats
),

bounds as (
    select
        min(period_start) as first_period,
        max(period_start) as last_period
    from all_periods
),

periods as (
    {{ period_spine(grain, "bounds", "first_period", "last_period") }}
),

{%- endif %}

scopes as (
    select
        'org' as scope,
        'all' as scope_name
    union
    select
        'team' as scope,
        team as scope_name
    from org_teams
    union
    select
        'team' as scope,
        team as scope_name
    from org_services
    union
    select
        'service' as scope,
        service as scope_name
    from org_services
    union
    select
        scope,
        scope_name
    from deployment_stats
    union
    select
        scope,
        scope_name
    from change_stats
    union
    select
        scope,
        scope_name
    from incident_stats
),

measured as (
    select
        periods.period_start,
        scopes.scope,
        scopes.scope_name,
        coalesce(deployment_stats.deployments, 0) as deployments,
        coalesce(deployment_stats.deploy_days, 0) as deploy_days,
        coalesce(deployment_stats.deployment_attempts, 0) as deployment_attempts,
        coalesce(deployment_stats.n_failed_deployments, 0) as n_failed_deployments,
        coalesce(deployment_stats.n_rework_deployments, 0) as n_rework_deployments,
        change_stats.lead_time_p50_hours,
        change_stats.lead_time_p75_hours,
        change_stats.lead_time_p90_hours,
        coalesce(change_stats.n_changes, 0) as n_changes,
        incident_stats.recovery_time_p50_hours,
        incident_stats.recovery_time_p90_hours,
        coalesce(incident_stats.n_incidents, 0) as n_incidents,
        {% if rolling -%}
            28 as days_in_period
        {%- else -%}
            {{ days_in_period(grain, 'periods.period_start') }} as days_in_period
        {%- endif %}
    from periods
    cross join scopes
    left join deployment_stats
        on
            periods.period_start = deployment_stats.period_start
            and scopes.scope = deployment_stats.scope
            and scopes.scope_name = deployment_stats.scope_name
    left join change_stats
        on
            periods.period_start = change_stats.period_start
            and scopes.scope = change_stats.scope
            and scopes.scope_name = change_stats.scope_name
    left join incident_stats
        on
            periods.period_start = incident_stats.period_start
            and scopes.scope = incident_stats.scope
            and scopes.scope_name = incident_stats.scope_name
),

rated as (
    select
        *,
        deployments * {{ pm_double_literal('7.0') }} / days_in_period as deployments_per_week,
        deploy_days * {{ pm_double_literal('7.0') }} / days_in_period as deploy_days_per_week,
        case
            when deployment_attempts > 0
                then cast(n_failed_deployments as double) / deployment_attempts
        end as change_failure_rate,
        case
            when deployments > 0 then cast(n_rework_deployments as double) / deployments
        end as rework_rate
    from measured
),

benchmark_checks as (
    select
        rated.period_start,
        rated.scope,
        rated.scope_name,
        benchmarks.metric,
        benchmarks.level_rank,
        benchmarks.operator,
        benchmarks.threshold,
        case benchmarks.measure
            when 'deployments_per_week' then rated.deployments_per_week
            when 'deploy_days_per_week' then rated.deploy_days_per_week
            when 'lead_time_p50_hours' then rated.lead_time_p50_hours
            when 'change_failure_rate' then rated.change_failure_rate
            when 'recovery_time_p50_hours' then rated.recovery_time_p50_hours
        end as measure_value,
        case benchmarks.metric
            when 'deployment_frequency' then rated.deployments >= {{ min_sample }}
            when 'lead_time' then rated.n_changes >= {{ min_sample }}
            when 'change_failure_rate' then rated.deployment_attempts >= {{ min_sample }}
            when 'recovery_time' then rated.n_incidents >= {{ min_sample }}
        end as has_sample
    from rated
    cross join benchmarks
),

-- Every benchmark row whose condition holds; the best (lowest) rank per metric is the level.
level_matches as (
    select *
    from benchmark_checks
    where
        has_sample
        and (
            operator = 'any'
            or (operator = '>=' and measure_value >= threshold)
            or (operator = '<' and measure_value < threshold)
            or (operator = '<=' and measure_value <= threshold)
        )
),

level_ranks as (
    select
        period_start,
        scope,
        scope_name,
        min(case when metric = 'deployment_frequency' then level_rank end) as frequency_rank,
        min(case when metric = 'lead_time' then level_rank end) as lead_time_rank,
        min(case when metric = 'change_failure_rate' then level_rank end) as failure_rank,
        min(case when metric = 'recovery_time' then level_rank end) as recovery_rank
    from level_matches
    group by period_start, scope, scope_name
),

final as (
    select
        rated.period_start,
        rated.scope,
        rated.scope_name,
        rated.deployments,
        rated.deploy_days,
        rated.lead_time_p50_hours,
        rated.lead_time_p75_hours,
        rated.lead_time_p90_hours,
        rated.n_changes,
        rated.change_failure_rate,
        rated.n_failed_deployments,
        rated.recovery_time_p50_hours,
        rated.recovery_time_p90_hours,
        rated.n_incidents,
        rated.rework_rate,
        {{ level_name('level_ranks.frequency_rank') }} as deployment_frequency_level,
        {{ level_name('level_ranks.lead_time_rank') }} as lead_time_level,
        {{ level_name('level_ranks.failure_rank') }} as change_failure_level,
        {{ level_name('level_ranks.recovery_rank') }} as recovery_level,
        case
            when
                rated.deployments < {{ min_sample }} or rated.n_changes < {{ min_sample }}
                then 'insufficient data'
            else {{ level_name(
                'greatest(coalesce(level_ranks.frequency_rank, 0),'
                ~ ' coalesce(level_ranks.lead_time_rank, 0),'
                ~ ' coalesce(level_ranks.failure_rank, 0),'
                ~ ' coalesce(level_ranks.recovery_rank, 0))'
            ) }}
        end as performance_level,
        {%- if rolling %}
            rated.period_start + 27 as period_end,
            {{ period_is_complete('rated.period_start', 'rated.period_start + 28') }} as is_complete,
            {{ sql_literal(definitions_fingerprint()) }} as definitions_hash
        {%- else %}
            {{ period_end(grain, 'rated.period_start') }} as period_end,
            {{ period_is_complete('rated.period_start', period_end(grain, 'rated.period_start')) }}
                as is_complete
            {%- if grain == 'quarter' %},
                rated.days_in_period,
                rated.deployments * {{ pm_double_literal('1.0') }} / rated.days_in_period
                    as deployments_per_day,
                rated.deployments_per_week
            {%- endif %}
        {%- endif %}
    from rated
    left join level_ranks
        on
            rated.period_start = level_ranks.period_start
            and rated.scope = level_ranks.scope
            and rated.scope_name = level_ranks.scope_name
)

select * from final
{% endmacro %}

{#- A level rank (1-4) as its name; null (no level: sample too small) as 'insufficient data'. -#}
{% macro level_name(rank_expression) -%}
    case {{ rank_expression }}
        when 1 then 'elite'
        when 2 then 'high'
        when 3 then 'medium'
        when 4 then 'low'
        else 'insufficient data'
    end
{%- endmacro %}

{#- A fact's period: its week or month, or (rolling_28d) its day, which rolling_frame() ranges over. -#}
{% macro fact_period_start(grain, ts) -%}
    {%- if grain == 'rolling_28d' -%}
        cast({{ to_local_timestamp(ts) }} as date)
    {%- else -%}
        {{ period_start(grain, ts) }}
    {%- endif -%}
{%- endmacro %}

{#- The frame of the 28-day window starting on a row's day: rows of the same scope, that day to 27 days later. -#}
{% macro rolling_frame() -%}
    (
        partition by scope, scope_name
        order by {{ pm_day_number('period_start') }}
        range between current row and 27 following
    )
{%- endmacro %}

{#-
    The windows (period_start, scope, scope_name) with any of the facts: their count (count_column)
    and the interpolated quantiles of value, one column per (column, fraction) of quantiles. The
    window markers are rows among the facts, without a value; only they are kept.
-#}
{% macro rolling_stats(facts, value, count_column, quantiles) -%}
    select
        period_start,
        scope,
        scope_name,
        {{ count_column }}
        {%- for column, _ in quantiles %},
        {{ column }}
        {%- endfor %}
    from (
        select
            period_start,
            scope,
            scope_name,
            is_window,
            count(is_fact) over {{ rolling_frame() }} as {{ count_column }}
            {%- for column, fraction in quantiles %},
            {{ pm_quantile_cont(value, fraction) }} over {{ rolling_frame() }} as {{ column }}
            {%- endfor %}
        from (
            select
                period_start,
                scope,
                scope_name,
                {{ value }},
                1 as is_fact,
                false as is_window
            from {{ facts }}
            union all
            select
                period_start,
                scope,
                scope_name,
                null as {{ value }},
                null as is_fact,
                true as is_window
            from window_markers
        ) as window_rows
    ) as windows
    where is_window and {{ count_column }} > 0
{%- endmacro %}

{#- Incremental runs read only the facts of the windows they recompute. -#}
{% macro fact_since(ts, since) -%}
    {%- if since is none -%}
        true
    {%- else -%}
        cast({{ to_local_timestamp(ts) }} as date) >= {{ since }}
    {%- endif -%}
{%- endmacro %}
