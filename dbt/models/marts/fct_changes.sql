{#-
    One row per change (merged, non-bot pull request) with its stage durations in hours.
    Lead time starts at var('lead_time_start'): first_commit (the earliest of the first commit's
    author date and the PR opening, falling back to the opening when the PR has no commits) or
    pr_opened; it ends when the change's deployment finished.
-#}
{%- set lead_time_start = var_choice('lead_time_start', ['first_commit', 'pr_opened']) -%}

with

changes as (
    select * from {{ ref('int_changes') }}
),

stages as (
    select
        *,
        case
            when first_commit_at is not null then least(first_commit_at, opened_at)
        end as coding_started_at,
        {%- if lead_time_start == 'pr_opened' %}
            opened_at as lead_time_started_at
        {%- else %}
            least(coalesce(first_commit_at, opened_at), opened_at) as lead_time_started_at
        {%- endif %}
    from changes
),

final as (
    select
        change_id,
        repository,
        repository as repo,
        service,
        team,
        pr_number,
        title,
        url,
        author,
        first_commit_at,
        opened_at,
        first_review_at,
        merged_at,
        deployed_at,
        deployment_id,
        {{ hours_between('coding_started_at', 'opened_at') }} as coding_hours,
        {{ hours_between('opened_at', 'first_review_at') }} as pickup_hours,
        {{ hours_between('first_review_at', 'merged_at') }} as review_hours,
        {{ hours_between('merged_at', 'deployed_at') }} as deploy_hours,
        {{ hours_between('lead_time_started_at', 'deployed_at') }} as lead_time_hours
    from stages
)

select * from final
