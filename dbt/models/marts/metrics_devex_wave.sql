{#-
    Developer experience per survey wave and group (docs/metrics.md#developer-experience):
    response rate, favourable % per construct, the DevEx index, cognitive load per load type,
    satisfaction (1-5), platform NPS, hours lost per week, and the change since the group's
    previous wave. A suppressed group (int_survey_groups: under the anonymity threshold, or hidden
    so that it cannot be worked out from its siblings) keeps its counts and every score is null.
-#}

{%- set constructs = survey_constructs() %}
{%- set load_constructs = survey_var('survey_cognitive_load_constructs') %}
{%- set index_constructs = survey_var('survey_devex_index_constructs') %}
{%- set satisfaction = survey_var('survey_satisfaction_construct') %}

with

answers as (
    select * from {{ ref('int_survey_answers') }}
),

members as (
    select * from {{ ref('int_survey_group_members') }}
),

survey_groups as (
    select * from {{ ref('int_survey_groups') }}
),

group_answers as (
    select
        members.wave,
        members.group_type,
        members.group_value,
        answers.item_id,
        answers.kind,
        answers.construct,
        answers.score,
        answers.is_favourable,
        answers.nps_score,
        answers.hours_lost
    from answers
    inner join members
        on answers.response_key = members.response_key
),

-- favourable % and mean score per Likert item: N/A answers are in neither numerator nor denominator
item_scores as (
    select
        wave,
        group_type,
        group_value,
        item_id,
        construct,
        {{ pm_double_literal('100.0') }} * count_if(is_favourable) / count(score) as favourable_pct,
        avg(score) as mean_score
    from group_answers
    where kind = 'likert' and score is not null
    group by wave, group_type, group_value, item_id, construct
),

-- a construct is the mean of its items
construct_scores as (
    select
        wave,
        group_type,
        group_value,
        construct,
        avg(favourable_pct) as favourable_pct,
        avg(mean_score) as mean_score
    from item_scores
    group by wave, group_type, group_value, construct
),

construct_wide as (
    select
        wave,
        group_type,
        group_value,
        {%- for construct in constructs %}
            max(case when construct = {{ sql_literal(construct) }} then favourable_pct end)
                as {{ construct }}_favourable_pct,
        {%- endfor %}
        max(case when construct = {{ sql_literal(satisfaction) }} then mean_score end)
            as satisfaction_mean
    from construct_scores
    group by wave, group_type, group_value
),

other_scores as (
    select
        wave,
        group_type,
        group_value,
        {{ pm_double_literal('100.0') }} * (count_if(nps_score >= 9) - count_if(nps_score <= 6))
        / nullif(count(nps_score), 0) as platform_nps,
        avg(hours_lost) as hours_lost_per_week
    from group_answers
    where kind in ('nps', 'hours_lost')
    group by wave, group_type, group_value
),

indices as (
    select
        *,
        -- the cognitive-load constructs' favourable % averaged (nulls, i.e. unanswered, skipped)
        {%- set load_columns = [] %}
        {%- for construct in load_constructs %}
            {%- do load_columns.append(construct ~ '_favourable_pct') %}
        {%- endfor %}
        {{ pm_list_avg(load_columns) }} as load_favourable_pct
    from construct_wide
),

scored as (
    select
        indices.*,
        {%- set index_columns = [] %}
        {%- for construct in index_constructs %}
            {%- do index_columns.append(
                'load_favourable_pct' if construct == 'cognitive_load'
                else construct ~ '_favourable_pct'
            ) %}
        {%- endfor %}
        {{ pm_list_avg(index_columns) }} as devex_index,
        {%- for construct in load_constructs %}
            100
            - {{ construct }}_favourable_pct
                as cognitive_load_{{ construct.removesuffix('_load') }},
        {%- endfor %}
        100 - indices.load_favourable_pct as cognitive_load_index
    from indices
),

joined as (
    select
        survey_groups.wave,
        survey_groups.wave_closed_at,
        survey_groups.wave_number,
        survey_groups.group_type,
        survey_groups.group_value,
        survey_groups.respondents,
        survey_groups.invited,
        survey_groups.response_rate,
        survey_groups.suppressed,
        survey_groups.suppression_reason,
        {%- for construct in constructs %}
            case when not survey_groups.suppressed then scored.{{ construct }}_favourable_pct end
                as {{ construct }}_favourable_pct,
        {%- endfor %}
        case when not survey_groups.suppressed then scored.devex_index end as devex_index,
        {%- for construct in load_constructs %}
            {%- set column = 'cognitive_load_' ~ construct.removesuffix('_load') %}
            case when not survey_groups.suppressed then scored.{{ column }} end as {{ column }},
        {%- endfor %}
        case
            when not survey_groups.suppressed then scored.cognitive_load_index
        end as cognitive_load_index,
        case
            when not survey_groups.suppressed then scored.satisfaction_mean
        end as satisfaction_mean,
        case when not survey_groups.suppressed then other_scores.platform_nps end as platform_nps,
        case
            when not survey_groups.suppressed then other_scores.hours_lost_per_week
        end as hours_lost_per_week
    from survey_groups
    left join scored
        on
            survey_groups.wave = scored.wave
            and survey_groups.group_type = scored.group_type
            and survey_groups.group_value = scored.group_value
    left join other_scores
        on
            survey_groups.wave = other_scores.wave
            and survey_groups.group_type = other_scores.group_type
            and survey_groups.group_value = other_scores.group_value
),

with_previous as (
    select
        *,
        lag(wave) over group_waves as previous_wave,
        lag(devex_index) over group_waves as previous_devex_index,
        lag(cognitive_load_index) over group_waves as previous_cognitive_load_index,
        lag(satisfaction_mean) over group_waves as previous_satisfaction_mean,
        lag(platform_nps) over group_waves as previous_platform_nps,
        lag(hours_lost_per_week) over group_waves as previous_hours_lost_per_week
    from joined
    window group_waves as (partition by group_type, group_value order by wave_number)
)

select
    wave,
    wave_closed_at,
    wave_number,
    group_type,
    group_value,
    respondents,
    invited,
    response_rate,
    suppressed,
    suppression_reason,
    {%- for construct in constructs %}
        {{ construct }}_favourable_pct,
    {%- endfor %}
    devex_index,
    {%- for construct in load_constructs %}
        cognitive_load_{{ construct.removesuffix('_load') }},
    {%- endfor %}
    cognitive_load_index,
    satisfaction_mean,
    platform_nps,
    hours_lost_per_week,
    previous_wave,
    devex_index - previous_devex_index as devex_index_change,
    cognitive_load_index - previous_cognitive_load_index as cognitive_load_index_change,
    satisfaction_mean - previous_satisfaction_mean as satisfaction_mean_change,
    platform_nps - previous_platform_nps as platform_nps_change,
    hours_lost_per_week - previous_hours_lost_per_week as hours_lost_per_week_change
from with_previous
