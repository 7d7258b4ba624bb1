{#-
    Developer activity: one row per pull request a person opened and per commit a person
    authored (default-branch history and pull-request branches, one row per repository and SHA),
    in any synced repository, mapped to a team or not. Authors matching var('bot_authors_regex')
    (per service, as int_changes does) and commits whose author has no GitHub login are left out:
    the activity cannot be tied to a person. The input of the cognitive-load signals
    (metrics_cognitive_load_signals), never a score of individuals.
-#}

with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

commits as (
    select * from {{ ref('int_commits') }}
),

pull_request_commits as (
    select * from {{ ref('int_pull_request_commits') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

pull_request_activity as (
    select
        author as developer,
        repository,
        'pull_request' as activity,
        pull_request_key as activity_key,
        opened_at as activity_at
    from pull_requests
    where author is not null and opened_at is not null
),

-- The same commit can be on a pull request branch and on the default branch: counted once.
all_commits as (
    select
        repository,
        sha,
        author_login,
        authored_at
    from commits
    union all
    select
        repository,
        sha,
        author_login,
        authored_at
    from pull_request_commits
),

commit_activity as (
    select
        author_login as developer,
        repository,
        'commit' as activity,
        repository || '@' || sha as activity_key,
        min(authored_at) as activity_at
    from all_commits
    where author_login is not null and sha is not null and authored_at is not null
    group by author_login, repository, sha
),

activities as (
    select * from pull_request_activity
    union all
    select * from commit_activity
),

final as (
    select
        activities.developer,
        activities.repository,
        repositories.service,
        repositories.team,
        activities.activity,
        activities.activity_key,
        activities.activity_at
    from activities
    left join repositories
        on activities.repository = repositories.repository
    where
        not {{ knob_matches('activities.developer', 'bot_authors_regex', 'repositories.service') }}
)

select * from final
