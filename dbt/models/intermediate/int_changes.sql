{#-
    Changes: merged pull requests by humans (authors matching var('bot_authors_regex') excluded),
    with their first commit, first review by someone else, and the deployment that shipped them.
    Deployment attribution is time-based for now: the earliest successful production deployment
    of the same repository that finished at or after the merge. Commit-ancestry attribution will
    replace it.
-#}

with

pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

pull_request_commits as (
    select * from {{ ref('stg_github__pull_request_commits') }}
),

pull_request_reviews as (
    select * from {{ ref('stg_github__pull_request_reviews') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

merged_pull_requests as (
    select *
    from pull_requests
    where
        merged_at is not null
        and not {{ regex_matches('author', var('bot_authors_regex')) }}
),

first_commits as (
    select
        pull_request_key,
        min(authored_at) as first_commit_at
    from pull_request_commits
    group by pull_request_key
),

-- Reviews by someone other than the author that gated the merge (submitted before it).
first_reviews as (
    select
        merged_pull_requests.pull_request_key,
        min(pull_request_reviews.submitted_at) as first_review_at
    from merged_pull_requests
    inner join pull_request_reviews
        on merged_pull_requests.pull_request_key = pull_request_reviews.pull_request_key
    where
        pull_request_reviews.submitted_at is not null
        and pull_request_reviews.submitted_at <= merged_pull_requests.merged_at
        and pull_request_reviews.reviewer is not null
        and pull_request_reviews.reviewer <> merged_pull_requests.author
    group by merged_pull_requests.pull_request_key
),

successful_deployments as (
    select * from deployments
    where status = 'success'
),

-- Time-based attribution: the first successful production deployment at or after the merge.
deployment_candidates as (
    select
        merged_pull_requests.pull_request_key,
        successful_deployments.deployment_id,
        successful_deployments.deployed_at,
        row_number() over (
            partition by merged_pull_requests.pull_request_key
            order by successful_deployments.deployed_at, successful_deployments.deployment_id
        ) as deployment_rank
    from merged_pull_requests
    inner join successful_deployments
        on
            merged_pull_requests.repository = successful_deployments.repository
            and merged_pull_requests.merged_at <= successful_deployments.deployed_at
),

shipping_deployments as (
    select
        pull_request_key,
        deployment_id,
        deployed_at
    from deployment_candidates
    where deployment_rank = 1
),

final as (
    select
        merged_pull_requests.pull_request_key as change_id,
        merged_pull_requests.repository,
        org_repositories.service,
        coalesce(org_repositories.team, org_services.team) as team,
        merged_pull_requests.pr_number,
        merged_pull_requests.author,
        merged_pull_requests.title,
        merged_pull_requests.head_ref,
        merged_pull_requests.merge_commit_sha,
        first_commits.first_commit_at,
        merged_pull_requests.opened_at,
        first_reviews.first_review_at,
        merged_pull_requests.merged_at,
        shipping_deployments.deployed_at,
        shipping_deployments.deployment_id,
        case
            when
                lower(merged_pull_requests.title) like 'revert%'
                or lower(merged_pull_requests.head_ref) like 'revert-%'
                then 'revert'
            when
                lower(merged_pull_requests.head_ref) like 'hotfix%'
                or lower(merged_pull_requests.title) like '%hotfix%'
                or list_contains(merged_pull_requests.labels, 'hotfix')
                then 'hotfix'
        end as rework_reason
    from merged_pull_requests
    left join first_commits
        on merged_pull_requests.pull_request_key = first_commits.pull_request_key
    left join first_reviews
        on merged_pull_requests.pull_request_key = first_reviews.pull_request_key
    left join shipping_deployments
        on merged_pull_requests.pull_request_key = shipping_deployments.pull_request_key
    left join org_repositories
        on merged_pull_requests.repository = org_repositories.repository
    left join org_services
        on org_repositories.service = org_services.service
)

select * from final
