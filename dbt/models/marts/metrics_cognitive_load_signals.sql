{#-
    The objective side of cognitive load, beside the developer survey: one row per team and week
    (Monday, in var('timezone'), cut like metrics_dora_weekly). Team scope (services and
    repositories owned per engineer), interrupt load (incidents per on-call engineer), work in
    progress (open pull requests at the end of the week per engineer), context switching
    (repositories touched per active developer) and feedback-loop wait (CI queue and run time).
    Each team has a row for every week from its first week with any activity (a pull request or
    commit in its repositories, a developer whose home team it is active, an incident on its
    services, a CI job in its repositories; the organisation's first such week for a team with
    none) to the latest week with any activity in the organisation, quiet weeks with zero counts.
    CI times come from a weekly sample of runs (int_ci_jobs): ci_sampled_runs of ci_total_runs;
    queue times from ci_queue_sampled_runs of them (jobs read through GraphQL have no queued-at
    time). A CI job's week is that of its created_at, else (no queue time) of its started_at.
    Context for the survey, not a productivity score: nothing here is reported per person.
-#}

with

org_teams as (
    select * from {{ ref('stg_org__teams') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

code_host_repositories as (
    select * from {{ ref('int_repositories') }}
),

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

incidents as (
    select * from {{ ref('fct_incidents') }}
),

developer_activity as (
    select * from {{ ref('int_developer_activity') }}
),

home_teams as (
    select * from {{ ref('int_developer_home_teams') }}
),

ci_jobs as (
    select * from {{ ref('int_ci_feedback_jobs') }}
),

-- Creation time where the repository was synced; null (always existed) otherwise.
repository_created as (
    select
        repository,
        min(created_at) as created_at
    from code_host_repositories
    group by repository
),

team_repositories as (
    select
        repositories.repository,
        repositories.service,
        repositories.team,
        repository_created.created_at
    from repositories
    left join repository_created
        on repositories.repository = repository_created.repository
    where repositories.team is not null
),

-- A service exists from its earliest known repository creation; always, when none is known.
team_services as (
    select
        org_services.service,
        org_services.team,
        min(repository_created.created_at) as created_at
    from org_services
    left join repositories
        on org_services.service = repositories.service
    left join repository_created
        on repositories.repository = repository_created.repository
    where org_services.team is not null
    group by org_services.service, org_services.team
),

teams as (
    select team from org_teams
    union
    select team from team_services
    union
    select team from team_repositories
),

team_pull_requests as (
    select
        pull_requests.pull_request_key,
        team_repositories.team,
        -- Local wall-clock times, converted once per pull request rather than once per week.
        {{ to_local_timestamp('pull_requests.opened_at') }} as opened_at_local,
        {{ to_local_timestamp('coalesce(pull_requests.closed_at, pull_requests.merged_at)') }}
            as closed_at_local
    from pull_requests
    inner join team_repositories
        on pull_requests.repository = team_repositories.repository
    where
        pull_requests.opened_at is not null
        and not {{ knob_matches(
            'pull_requests.author',
            'bot_authors_regex',
            'team_repositories.service'
        ) }}
),

-- Developers by home team: distinct repositories each touched in the week.
developer_weeks as (
    select
        home_teams.home_team as team,
        {{ period_start('week', 'developer_activity.activity_at') }} as week,
        developer_activity.developer,
        count(distinct developer_activity.repository) as repositories_touched
    from developer_activity
    inner join home_teams
        on developer_activity.developer = home_teams.developer
    group by
        home_teams.home_team,
        {{ period_start('week', 'developer_activity.activity_at') }},
        developer_activity.developer
),

developer_stats as (
    select
        team,
        week,
        count(*) as active_developers,
        avg(repositories_touched) as repos_touched_per_developer
    from developer_weeks
    group by team, week
),

incident_stats as (
    select
        team,
        {{ period_start('week', 'started_at') }} as week,
        count(*) as incidents
    from incidents
    where team is not null and started_at is not null
    group by team, {{ period_start('week', 'started_at') }}
),

ci_job_weeks as (
    select
        *,
        {{ period_start('week', 'coalesce(created_at, started_at)') }} as week
    from ci_jobs
    where team is not null
),

ci_stats as (
    select
        team,
        week,
        count(*) as ci_runs,
        percentile_cont(0.5) within group (order by queue_seconds) as ci_queue_p50_seconds,
        percentile_cont(0.5) within group (order by run_seconds) as ci_run_p50_seconds
    from ci_job_weeks
    group by team, week
),

-- The sample behind the CI times: per repository and week, its runs and those measured.
ci_repository_weeks as (
    select
        team,
        repository,
        week,
        max(week_ci_runs) as week_ci_runs,
        max(sampled_ci_runs) as sampled_ci_runs,
        max(queue_sampled_ci_runs) as queue_sampled_ci_runs
    from ci_job_weeks
    group by team, repository, week
),

ci_sample_stats as (
    select
        team,
        week,
        sum(week_ci_runs) as ci_total_runs,
        sum(sampled_ci_runs) as ci_sampled_runs,
        sum(queue_sampled_ci_runs) as ci_queue_sampled_runs
    from ci_repository_weeks
    group by team, week
),

activity_weeks as (
    select
        team,
        {{ period_start('week', 'activity_at') }} as week
    from developer_activity
    where team is not null
    union all
    select
        team,
        week
    from developer_stats
    union all
    select
        team,
        week
    from incident_stats
    union all
    select
        team,
        week
    from ci_stats
),

bounds as (
    select
        min(week) as first_week,
        max(week) as last_week
    from activity_weeks
),

periods as (
    {{ period_spine('week', 'bounds', 'first_week', 'last_week') }}
),

team_first_weeks as (
    select
        teams.team,
        coalesce(min(activity_weeks.week), bounds.first_week) as first_week
    from teams
    cross join bounds
    left join activity_weeks
        on teams.team = activity_weeks.team
    group by teams.team, bounds.first_week
),

-- Every week of every team; week_end is the next Monday 00:00, local wall-clock time.
team_weeks as (
    select
        team_first_weeks.team,
        periods.period_start as week,
        cast(periods.period_start + 7 as timestamp) as week_end
    from team_first_weeks
    inner join periods
        on team_first_weeks.first_week <= periods.period_start
),

owned_repository_stats as (
    select
        team_weeks.team,
        team_weeks.week,
        count(*) as repositories_owned
    from team_weeks
    inner join team_repositories
        on
            team_weeks.team = team_repositories.team
            and (
                team_repositories.created_at is null
                or {{ to_local_timestamp('team_repositories.created_at') }} < team_weeks.week_end
            )
    group by team_weeks.team, team_weeks.week
),

owned_service_stats as (
    select
        team_weeks.team,
        team_weeks.week,
        count(*) as services_owned
    from team_weeks
    inner join team_services
        on
            team_weeks.team = team_services.team
            and (
                team_services.created_at is null
                or {{ to_local_timestamp('team_services.created_at') }} < team_weeks.week_end
            )
    group by team_weeks.team, team_weeks.week
),

-- Open at the end of the week: opened before it, not closed (or merged) before it.
open_pull_request_stats as (
    select
        team_weeks.team,
        team_weeks.week,
        count(*) as open_prs
    from team_weeks
    inner join team_pull_requests
        on
            team_weeks.team = team_pull_requests.team
            and team_weeks.week_end > team_pull_requests.opened_at_local
            and (
                team_pull_requests.closed_at_local is null
                or team_weeks.week_end <= team_pull_requests.closed_at_local
            )
    group by team_weeks.team, team_weeks.week
),

measured as (
    select
        team_weeks.team,
        team_weeks.week,
        org_teams.engineers,
        org_teams.on_call,
        coalesce(owned_service_stats.services_owned, 0) as services_owned,
        coalesce(owned_repository_stats.repositories_owned, 0) as repositories_owned,
        coalesce(incident_stats.incidents, 0) as incidents,
        coalesce(open_pull_request_stats.open_prs, 0) as open_prs,
        coalesce(developer_stats.active_developers, 0) as active_developers,
        developer_stats.repos_touched_per_developer,
        coalesce(ci_stats.ci_runs, 0) as ci_runs,
        ci_stats.ci_queue_p50_seconds,
        ci_stats.ci_run_p50_seconds,
        coalesce(ci_sample_stats.ci_sampled_runs, 0) as ci_sampled_runs,
        coalesce(ci_sample_stats.ci_total_runs, 0) as ci_total_runs,
        coalesce(ci_sample_stats.ci_queue_sampled_runs, 0) as ci_queue_sampled_runs
    from team_weeks
    left join org_teams
        on team_weeks.team = org_teams.team
    left join owned_service_stats
        on
            team_weeks.team = owned_service_stats.team
            and team_weeks.week = owned_service_stats.week
    left join owned_repository_stats
        on
            team_weeks.team = owned_repository_stats.team
            and team_weeks.week = owned_repository_stats.week
    left join incident_stats
        on
            team_weeks.team = incident_stats.team
            and team_weeks.week = incident_stats.week
    left join open_pull_request_stats
        on
            team_weeks.team = open_pull_request_stats.team
            and team_weeks.week = open_pull_request_stats.week
    left join developer_stats
        on
            team_weeks.team = developer_stats.team
            and team_weeks.week = developer_stats.week
    left join ci_stats
        on
            team_weeks.team = ci_stats.team
            and team_weeks.week = ci_stats.week
    left join ci_sample_stats
        on
            team_weeks.team = ci_sample_stats.team
            and team_weeks.week = ci_sample_stats.week
),

final as (
    select
        team,
        week,
        week as period_start,
        {{ period_end('week', 'week') }} as period_end,
        {{ period_is_complete('week', period_end('week', 'week')) }} as is_complete,
        engineers,
        on_call,
        services_owned,
        repositories_owned,
        case
            when engineers > 0 then cast(services_owned as double) / engineers
        end as services_per_engineer,
        case
            when engineers > 0 then cast(repositories_owned as double) / engineers
        end as repositories_per_engineer,
        incidents,
        case
            when on_call > 0 then cast(incidents as double) / on_call
        end as incidents_per_on_call,
        open_prs,
        active_developers,
        case
            when engineers > 0 then cast(open_prs as double) / engineers
        end as open_prs_per_developer,
        cast(repos_touched_per_developer as double) as repos_touched_per_developer,
        ci_runs,
        cast(ci_queue_p50_seconds as double) as ci_queue_p50_seconds,
        cast(ci_run_p50_seconds as double) as ci_run_p50_seconds,
        cast(ci_sampled_runs as bigint) as ci_sampled_runs,
        cast(ci_total_runs as bigint) as ci_total_runs,
        cast(ci_queue_sampled_runs as bigint) as ci_queue_sampled_runs
    from measured
)

select * from final
