{#-
    Each developer's home team: the team owning the repositories where they opened the most pull
    requests over the whole synced history (ties broken by team name, alphabetically first).
    Pull requests in repositories mapped to no team do not count; a developer with no pull
    request in a mapped repository (commits only) has no home team and no row. Bots are already
    out (int_developer_activity).
-#}

with

developer_activity as (
    select * from {{ ref('int_developer_activity') }}
),

team_pull_requests as (
    select
        developer,
        team,
        count(*) as n_pull_requests
    from developer_activity
    where activity = 'pull_request' and team is not null
    group by developer, team
),

ranked as (
    select
        developer,
        team,
        n_pull_requests,
        sum(n_pull_requests) over (partition by developer) as n_mapped_pull_requests,
        row_number() over (
            partition by developer
            order by n_pull_requests desc, team asc
        ) as team_rank
    from team_pull_requests
),

final as (
    select
        developer,
        team as home_team,
        n_pull_requests as home_team_pull_requests,
        n_mapped_pull_requests
    from ranked
    where team_rank = 1
)

select * from final
