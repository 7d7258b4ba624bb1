{#-
    Free-text survey answers that may be read: only those of a team whose group in that wave is
    shown in metrics_devex_wave (at least the anonymity threshold of respondents and not hidden by
    complementary suppression). No respondent, tenure or role travels with the text, and the rows
    are in a stable pseudo-random order, not the order people answered in.
-#}

with

comments as (
    select * from {{ ref('stg_surveys__comments') }}
),

survey_groups as (
    select * from {{ ref('int_survey_groups') }}
)

select
    comments.wave,
    survey_groups.wave_closed_at,
    comments.team,
    comments.item_id,
    comments.comment_text
from comments
inner join survey_groups
    on
        comments.wave = survey_groups.wave
        and survey_groups.group_type = 'team'
        and comments.team = survey_groups.group_value
where not survey_groups.suppressed
order by comments.wave, comments.team, md5(comments.comment_key)
