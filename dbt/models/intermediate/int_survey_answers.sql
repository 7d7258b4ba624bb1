{#-
    Survey answers in long form, scored: one row per response and scored item (Likert, NPS and
    hours-lost items; free text never enters). A reverse-scored Likert item is flipped
    (score = scale min + scale max - answer), so a higher score is always the better experience;
    a score at or above var('survey_favourable_from') is favourable. N/A and empty answers are
    null and count in no denominator. Respondent-level: never published (docs/surveys.md).
-#}

{%- set scale = survey_var('survey_scale') %}

with

responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

items as (
    {{ survey_items() }}
),

answers as (
    select
        responses.response_key,
        responses.wave,
        responses.team,
        responses.tenure,
        responses.role,
        items.item_id,
        items.kind,
        items.construct,
        items.is_reversed,
        {{ pm_json_text_at('responses.answers', "'$.' || items.item_id") }} as answer
    from responses
    cross join items
    where items.kind <> 'free_text'
),

scored as (
    select
        response_key,
        wave,
        team,
        tenure,
        role,
        item_id,
        kind,
        construct,
        is_reversed,
        answer,
        case
            when kind = 'likert' and is_reversed
                then {{ scale['min'] + scale['max'] }} - cast(answer as integer)
            when kind = 'likert'
                then cast(answer as integer)
        end as score,
        case when kind = 'nps' then cast(answer as integer) end as nps_score,
        case
            when kind = 'hours_lost' then {{ survey_hours_lost('item_id', 'answer') }}
        end as hours_lost
    from answers
)

select
    response_key,
    wave,
    team,
    tenure,
    role,
    item_id,
    kind,
    construct,
    is_reversed,
    answer,
    score,
    score >= {{ survey_var('survey_favourable_from') }} as is_favourable,
    nps_score,
    hours_lost
from scored
