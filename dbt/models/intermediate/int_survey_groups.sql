{#-
    Every survey group of every wave with its size and whether it may be shown
    (docs/surveys.md#privacy). With k = var('survey_anonymity_threshold'):
    1. a group with fewer than k respondents is suppressed (primary suppression);
    2. the organisation total minus its visible groups of one kind (team, tenure, role) must not
       reveal a suppressed group: when the suppressed siblings hold between 1 and k - 1
       respondents together, the smallest visible siblings are suppressed as well until the
       hidden groups hold at least k (complementary suppression).
    A team that was invited but did not answer is a group of 0 respondents (suppressed; it hides
    nobody). Waves are ordered by their last submission.
-#}

{%- set k = survey_var('survey_anonymity_threshold') %}

with

responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

members as (
    select * from {{ ref('int_survey_group_members') }}
),

invitations as (
    select * from {{ ref('stg_surveys__waves') }}
),

waves as (
    select
        wave,
        max(submitted_at) as wave_closed_at
    from responses
    group by wave
),

answered as (
    select
        wave,
        group_type,
        group_value,
        count(distinct response_key) as respondents
    from members
    group by wave, group_type, group_value
),

team_invited as (
    select
        wave,
        team,
        sum(invited) as invited
    from invitations
    group by wave, team
),

org_invited as (
    select
        wave,
        sum(invited) as invited
    from team_invited
    group by wave
),

invited_teams_without_answers as (
    select
        team_invited.wave,
        'team' as group_type,
        team_invited.team as group_value,
        0 as respondents
    from team_invited
    inner join waves
        on team_invited.wave = waves.wave
    left join answered
        on
            team_invited.wave = answered.wave
            and answered.group_type = 'team'
            and team_invited.team = answered.group_value
    where answered.group_value is null
),

all_groups as (
    select * from answered
    union all
    select * from invited_teams_without_answers
),

sized as (
    select
        all_groups.wave,
        waves.wave_closed_at,
        all_groups.group_type,
        all_groups.group_value,
        all_groups.respondents,
        case
            when all_groups.group_type = 'team' then team_invited.invited
            when all_groups.group_type = 'org' then org_invited.invited
        end as invited,
        all_groups.respondents < {{ k }} as is_below_threshold
    from all_groups
    inner join waves
        on all_groups.wave = waves.wave
    left join team_invited
        on
            all_groups.wave = team_invited.wave
            and all_groups.group_type = 'team'
            and all_groups.group_value = team_invited.team
    left join org_invited
        on
            all_groups.wave = org_invited.wave
            and all_groups.group_type = 'org'
),

siblings as (
    select
        *,
        sum(case when is_below_threshold then respondents else 0 end) over (
            partition by wave, group_type
        ) as hidden_respondents,
        coalesce(sum(respondents) over (
            partition by wave, group_type, is_below_threshold
            order by respondents, group_value {{ pm_nulls_last() }}
            rows between unbounded preceding and 1 preceding
        ), 0) as smaller_visible_respondents
    from sized
),

flagged as (
    select
        *,
        group_type <> 'org'
        and not is_below_threshold
        and hidden_respondents > 0
        and hidden_respondents + smaller_visible_respondents < {{ k }} as is_complementary
    from siblings
)

select
    wave,
    wave_closed_at,
    {{ pm_rank_bigint(
        'dense_rank() over (order by wave_closed_at ' ~ pm_nulls_last() ~ ', wave)'
    ) }} as wave_number,
    group_type,
    group_value,
    respondents,
    invited,
    case when invited > 0 then respondents / invited end as response_rate,
    is_below_threshold or is_complementary as suppressed,
    case
        when respondents = 0 then 'no responses'
        when is_below_threshold
            then 'fewer than ' || {{ k }} || ' responses'
        when is_complementary
            then 'hidden so that the organisation minus the other ' || group_type
                || ' groups does not reveal a group under ' || {{ k }}
    end as suppression_reason
from flagged
