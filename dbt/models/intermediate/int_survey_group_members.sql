{#-
    Which groups each survey response belongs to, per wave: the organisation ('org', 'all'), its
    team, and, in a wave where anyone answered them, its tenure and role. A respondent who left
    tenure (role) empty is in the 'not stated' group, so the named groups and 'not stated' always
    add up to the organisation and no group can be worked out by subtraction from the others.
    Respondent-level: never published.
-#}

with

responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

waves_with_tenure as (
    select distinct wave from responses
    where tenure is not null
),

waves_with_role as (
    select distinct wave from responses
    where role is not null
),

members as (
    select
        response_key,
        wave,
        'org' as group_type,
        'all' as group_value
    from responses

    union all

    select
        response_key,
        wave,
        'team' as group_type,
        team as group_value
    from responses

    union all

    select
        responses.response_key,
        responses.wave,
        'tenure' as group_type,
        coalesce(responses.tenure, 'not stated') as group_value
    from responses
    inner join waves_with_tenure
        on responses.wave = waves_with_tenure.wave

    union all

    select
        responses.response_key,
        responses.wave,
        'role' as group_type,
        coalesce(responses.role, 'not stated') as group_value
    from responses
    inner join waves_with_role
        on responses.wave = waves_with_role.wave
)

select * from members
