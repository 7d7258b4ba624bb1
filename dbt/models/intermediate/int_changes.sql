{#-
    Changes: merged pull requests by humans (authors matching the bot regex excluded), with their
    first commit, first review by someone else, and the deployment that shipped them by commit
    ancestry (int_commit_deployments): the PR lands on the commit graph at its merge_commit_sha
    (merge, squash, or the last rebased commit), or, when that SHA is not in the graph, at the
    latest commit whose subject ends with `(#<number>)`; its deployment is the earliest successful
    production deployment (any production environment) that claimed that commit. A PR whose commit
    no deployment has claimed yet is "not deployed yet" (deployed_at null), never dropped.
-#}
{#- Regexes with backslashes go through sql_literal(): Spark's string literals read escapes. -#}
{%- set pr_number_regex = '[(]#([0-9]+)[)]\\s*$' -%}
{%- set numbered_regex = '[(]#[0-9]+[)]\\s*$' %}

with

pull_requests as (
    select * from {{ ref('int_pull_requests') }}
),

pull_request_commits as (
    select * from {{ ref('int_pull_request_commits') }}
),

pull_request_reviews as (
    select * from {{ ref('int_pull_request_reviews') }}
),

commits as (
    select * from {{ ref('int_commits') }}
),

commit_deployments as (
    select * from {{ ref('int_commit_deployments') }}
),

deployments as (
    select * from {{ ref('int_deployments') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

merged_pull_requests as (
    select
        pull_requests.*,
        repositories.service,
        repositories.team
    from pull_requests
    left join repositories
        on pull_requests.repository = repositories.repository
    where
        pull_requests.merged_at is not null
        and not {{ knob_matches(
            'pull_requests.author',
            'bot_authors_regex',
            'repositories.service'
        ) }}
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

-- Squash and rebase merges whose merge_commit_sha is not on the graph: `Title (#123)`.
numbered_commits as (
    select
        repository,
        sha,
        cast(regexp_extract(
            split_part(message, chr(10), 1), {{ sql_literal(pr_number_regex) }}, 1
        ) as integer) as pr_number,
        committed_at
    from commits
    where {{ pm_regexp_matches('split_part(message, chr(10), 1)', numbered_regex) }}
),

landing_by_number as (
    select
        repository,
        pr_number,
        max_by(sha, committed_at) as sha
    from numbered_commits
    group by repository, pr_number
),

landings as (
    select
        merged_pull_requests.pull_request_key,
        coalesce(merge_commits.sha, landing_by_number.sha) as landing_sha,
        case
            when merge_commits.sha is not null then 'merge_commit_sha'
            when landing_by_number.sha is not null then 'pr_number'
        end as landing_match
    from merged_pull_requests
    left join commits as merge_commits
        on
            merged_pull_requests.repository = merge_commits.repository
            and merged_pull_requests.merge_commit_sha = merge_commits.sha
    left join landing_by_number
        on
            merged_pull_requests.repository = landing_by_number.repository
            and merged_pull_requests.pr_number = landing_by_number.pr_number
),

shipping_candidates as (
    select
        landings.pull_request_key,
        deployments.deployment_id,
        deployments.deployed_at,
        row_number() over (
            partition by landings.pull_request_key
            order by deployments.deployed_at {{ pm_nulls_last() }}, deployments.deployment_id
        ) as deployment_rank
    from landings
    inner join merged_pull_requests
        on landings.pull_request_key = merged_pull_requests.pull_request_key
    inner join commit_deployments
        on
            merged_pull_requests.repository = commit_deployments.repository
            and landings.landing_sha = commit_deployments.sha
    inner join deployments
        on commit_deployments.deployment_id = deployments.deployment_id
),

shipping_deployments as (
    select * from shipping_candidates
    where deployment_rank = 1
),

incident_issues as (
    select
        repository,
        issue_number
    from issues
    where {{ pm_list_contains('labels', sql_literal(var('incident_label'))) }}
),

-- `Fixes #12` where #12 is an incident issue of the same repository.
incident_references as (
    select distinct merged_pull_requests.pull_request_key
    from merged_pull_requests
    {{ pm_cross_join_unnest(
        "regexp_extract_all(
                coalesce(merged_pull_requests.title, '') || ' '
                || coalesce(merged_pull_requests.body, ''),
                '#([0-9]+)',
                1
            )",
        'referenced',
        'issue_number'
    ) }}
    inner join incident_issues
        on
            merged_pull_requests.repository = incident_issues.repository
            and cast(referenced.issue_number as integer) = incident_issues.issue_number
),

classified as (
    select
        merged_pull_requests.*,
        case
            when
                lower(merged_pull_requests.title) like 'revert%'
                or lower(merged_pull_requests.head_ref) like 'revert-%'
                then 'revert'
            when
                {{ knob_matches(
                    'merged_pull_requests.head_ref',
                    'hotfix_regex',
                    'merged_pull_requests.service'
                ) }}
                or {{ knob_matches(
                    'merged_pull_requests.title',
                    'hotfix_regex',
                    'merged_pull_requests.service'
                ) }}
                or {{ knob_matches(
                    pm_list_join(
                        'coalesce(merged_pull_requests.labels, ' ~ pm_empty_list() ~ ')', "' '"
                    ),
                    'hotfix_regex',
                    'merged_pull_requests.service'
                ) }}
                then 'hotfix'
        end as change_kind,
        -- The reverted PR: GitHub's revert branch `revert-<n>-...` or body `Reverts o/r#<n>`.
        coalesce(
            cast(
                nullif(
                    regexp_extract(merged_pull_requests.head_ref, '^revert-([0-9]+)-', 1), ''
                ) as integer
            ),
            cast(
                nullif(
                    regexp_extract(
                        coalesce(merged_pull_requests.body, ''), 'Reverts [^ #]*#([0-9]+)', 1
                    ),
                    ''
                ) as integer
            )
        ) as reverted_pr_number,
        (
            {{ pm_list_contains(
                'merged_pull_requests.labels', sql_literal(var('incident_label'))
            ) }}
            or incident_references.pull_request_key is not null
        ) as is_incident_linked
    from merged_pull_requests
    left join incident_references
        on merged_pull_requests.pull_request_key = incident_references.pull_request_key
),

final as (
    select
        classified.pull_request_key as change_id,
        classified.repository,
        classified.service,
        classified.team,
        classified.pr_number,
        classified.author,
        classified.title,
        classified.url,
        classified.head_ref,
        classified.merge_commit_sha,
        landings.landing_sha,
        landings.landing_match,
        first_commits.first_commit_at,
        classified.opened_at,
        first_reviews.first_review_at,
        classified.merged_at,
        -- Never before the merge: a tag is dated by its commit, which can be a second before
        -- GitHub's merged_at (the tagging time itself is not in the tags API).
        case
            when shipping_deployments.deployed_at is not null
                then greatest(shipping_deployments.deployed_at, classified.merged_at)
        end as deployed_at,
        shipping_deployments.deployment_id,
        classified.change_kind as rework_reason,
        classified.reverted_pr_number,
        coalesce(classified.is_incident_linked, false) as is_incident_linked
    from classified
    left join landings
        on classified.pull_request_key = landings.pull_request_key
    left join first_commits
        on classified.pull_request_key = first_commits.pull_request_key
    left join first_reviews
        on classified.pull_request_key = first_reviews.pull_request_key
    left join shipping_deployments
        on classified.pull_request_key = shipping_deployments.pull_request_key
)

select * from final
