{#-
    The DORA metrics table for one grain ('week', 'month', 'quarter' or 'rolling_28d'): every period x scope
    (org, team, service), from the first to the last period with any deployment, change or
    incident. Periods are cut in var('timezone'); weeks start on Monday. A rolling_28d period is
    the 28 days period_start .. period_start + 27, one per day, computed by window functions over
    each fact once (rolling_stats below). As an incremental model it recomputes the windows
    starting within var('rolling_lookback_days') of its latest one, and every window containing a
    day whose facts changed since the last run (day_facts_hash, rolling_since below); everything
    when the metric definitions changed (definitions_hash), a scope was gained or lost (a team or
    service configured, or named by a fact, that has no rows yet, or the reverse), or the stored
    table predates day_facts_hash. Every row says when its
    period ends (period_end) and whether it is over at the run's clock (is_complete, periods.sql).
-#}
{% macro dora_metrics(grain) %}
{%- set rolling = grain == 'rolling_28d' -%}
{%- set since = none -%}
{%- if rolling and is_incremental() -%}
    {#- (the SQL linter's jinja templater has no adapter: it lints the fingerprint path) -#}
    {%- set stored_columns = (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list)
        if adapter is defined else ['day_facts_hash'] -%}
    {%- if 'day_facts_hash' in stored_columns -%}
        {%- set since = "(select since from rolling_since)" -%}
    {%- else -%}
        {%- set since = "date '1900-01-01'" -%}
    {%- endif -%}
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

-- The scopes every period has: the organisation, each configured team and service.
configured_scopes as (
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
),

{%- if rolling %}

{#-
    Each local day's facts as one number: the bit_xor of an md5 prefix of every deployment, change
    and incident dated that day, over what the windows read of it (its id, team, service and
    measures). Stored on the rows of the window starting that day (day_facts_hash), it tells the
    next run which days changed: a late change to an old fact, a status moved to another
    deployment, a repository given to another team.
-#}
day_fingerprints as (
    select
        day,
        bit_xor({{ pm_md5_bigint('fact') }}) as facts_hash
    from (
        select
            cast({{ to_local_timestamp('deployed_at') }} as date) as day,
            concat_ws(
                '|', 'deployment', deployment_id, coalesce(team, ''), coalesce(service, ''),
                coalesce(status, ''),
                case when is_failure then '1' else '0' end,
                case when is_rework then '1' else '0' end
            ) as fact
        from deployments
        {%- for kind, facts, ts, id, hours in [
            ('change', 'changes', 'deployed_at', 'change_id', 'lead_time_hours'),
            ('incident', 'incidents', 'resolved_at', 'incident_id', 'recovery_hours')
        ] %}
        union all
        select
            cast({{ to_local_timestamp(ts) }} as date) as day,
            concat_ws(
                '|', '{{ kind }}', {{ id }}, coalesce(team, ''), coalesce(service, ''),
                coalesce(cast({{ pm_double_to_bigint(hours ~ ' * 3600000') }} as {{ pm_string_type() }}), '')
            ) as fact
        from {{ facts }}
        where {{ ts }} is not null
        {%- endfor %}
    ) as facts
    group by day
),

-- Every scope configured or named by a fact, in all of history: a full build gives each a row in
-- every period, and so does an incremental run (scopes); one gained or lost recomputes every window.
current_scopes as (
    select
        scope,
        scope_name
    from configured_scopes
    {%- for facts in ['deployments', 'changes', 'incidents'] %}
        {%- for scope in ['team', 'service'] %}
    union
    select
        '{{ scope }}' as scope,
        {{ scope }} as scope_name
    from {{ facts }}
    where {{ scope }} is not null
        {%- endfor %}
    {%- endfor %}
),

{%- if since is not none and since != "date '1900-01-01'" %}

{#-
    The first window to recompute: within rolling_lookback_days of the latest stored one, or
    earlier where a stored day's facts changed (every window containing that day); the first
    window of all when the definitions changed or a scope was gained or lost.
-#}
stored_days as (
    select
        period_start as day,
        max(day_facts_hash) as facts_hash
    from {{ this }}
    where scope = 'org'
    group by period_start
),

changed_days as (
    select coalesce(stored_days.day, day_fingerprints.day) as day
    from stored_days
    full outer join day_fingerprints
        on stored_days.day = day_fingerprints.day
    where
        coalesce(stored_days.day, day_fingerprints.day) <= (select max(period_start) from {{ this }})
        and coalesce(stored_days.facts_hash, 0) <> coalesce(day_fingerprints.facts_hash, 0)
),

changed_scopes as (
    (
        select
            scope,
            scope_name
        from current_scopes
        except
        select
            scope,
            scope_name
        from {{ this }}
    )
    union all
    (
        select
            scope,
            scope_name
        from {{ this }}
        except
        select
            scope,
            scope_name
        from current_scopes
    )
),

rolling_since as (
    select
        case
            when
                stored.definitions_hash = {{ sql_literal(definitions_fingerprint()) }}
                and stored.n_definitions = 1
                and not exists (select * from changed_scopes)
                then least(
                    stored.last_period - {{ var('rolling_lookback_days') | int }},
                    coalesce(
                        (select min(day) from changed_days) - 27,
                        stored.last_period - {{ var('rolling_lookback_days') | int }}
                    )
                )
            else date '1900-01-01'
        end as since
    from (
        select
            max(definitions_hash) as definitions_hash,
            count(distinct definitions_hash) as n_definitions,
            max(period_start) as last_period
        from {{ this }}
    ) as stored
),
{%- endif %}
{%- endif %}

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
        scope,
        scope_name
    from configured_scopes
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
    {%- if rolling %}
    union
    select
        scope,
        scope_name
    from current_scopes
    {%- endif %}
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
            {{ sql_literal(definitions_fingerprint()) }} as definitions_hash,
            coalesce(day_fingerprints.facts_hash, 0) as day_facts_hash
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
    {%- if rolling %}
    left join day_fingerprints
        on rated.period_start = day_fingerprints.day
    {%- endif %}
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

{#- Incremental runs read only the facts of the windows they recompute. -#}
{% macro fact_since(ts, since) -%}
    {%- if since is none -%}
        true
    {%- else -%}
        cast({{ to_local_timestamp(ts) }} as date) >= {{ since }}
    {%- endif -%}
{%- endmacro %}
