{#-
    Free-text survey answers that may be read: only those of a team whose group in that wave is
    shown in metrics_devex_wave (at least the anonymity threshold of respondents and not hidden by
    complementary suppression). No respondent, tenure or role travels with the text, and the rows
    are in a stable pseudo-random order, not the order people answered in.

    Analysts open this mart (and its Parquet file) in spreadsheets: text beginning with a formula
    character (= + - @ tab carriage-return) gets a leading apostrophe so that it stays text (OWASP
    "CSV Injection"; pipelines/surveys/text.py holds the same list, a test keeps them equal).
    raw.survey_comments keeps the text as stored.
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
    case
        when left(comments.comment_text, 1) in ('=', '+', '-', '@', chr(9), chr(13))
            then chr(39) || comments.comment_text
        else comments.comment_text
    end as comment_text
from comments
inner join survey_groups
    on
        comments.wave = survey_groups.wave
        and survey_groups.group_type = 'team'
        and comments.team = survey_groups.group_value
where not survey_groups.suppressed
order by comments.wave, comments.team, md5(comments.comment_key)
