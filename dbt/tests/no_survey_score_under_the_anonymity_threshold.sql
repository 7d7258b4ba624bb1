-- Privacy gate (docs/surveys.md#privacy): a failing row here stops the dbt build, so nothing is
-- published from it and the previous site stays up. A row is a wave and group of
-- metrics_devex_wave that breaks the anonymity rules: a group under the threshold that is shown,
-- a hidden group with a score, or hidden groups of one kind that together hold between 1 and
-- threshold - 1 respondents while the organisation is shown (the organisation minus the shown
-- groups would reveal them).
{%- set k = survey_var('survey_anonymity_threshold') %}

with devex as (
    select * from {{ ref('metrics_devex_wave') }}
),

shown_org_waves as (
    select wave from devex
    where group_type = 'org' and not suppressed
),

hidden_sums as (
    select
        devex.wave,
        devex.group_type,
        sum(devex.respondents) as hidden_respondents
    from devex
    inner join shown_org_waves
        on devex.wave = shown_org_waves.wave
    where devex.group_type <> 'org' and devex.suppressed
    group by devex.wave, devex.group_type
)

select
    wave,
    group_type,
    group_value,
    'shown with ' || respondents || ' respondents' as problem
from devex
where respondents < {{ k }} and not suppressed

union all

select
    wave,
    group_type,
    group_value,
    'hidden but carries a score' as problem
from devex
where
    suppressed
    and (
        devex_index is not null
        or satisfaction_mean is not null
        or platform_nps is not null
        or hours_lost_per_week is not null
        or cognitive_load_index is not null
    )

union all

select
    wave,
    group_type,
    null as group_value,
    'hidden groups hold ' || hidden_respondents || ' respondents together' as problem
from hidden_sums
where hidden_respondents > 0 and hidden_respondents < {{ k }}
