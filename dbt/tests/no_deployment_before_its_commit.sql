-- Quality gate (docs/operations.md): no production deployment before the code it shipped existed.
-- A row here is a deployment dated before its own commit (committer date) or before the first
-- commit of a change it shipped, beyond an hour of clock skew. It means broken timestamps or a
-- wrong commit/deployment link upstream; the failing test stops the dbt build, so the site is not
-- republished from such data and the previous site stays up.
-- Reads three models; Dagster loads it as an asset check of fct_deployments (not an observation).
{{ config(meta={'dagster': {'ref': {'name': 'fct_deployments'}}}) }}

with deployment_commits as (
    select
        d.deployment_id,
        d.deployed_at,
        c.committed_at
    from {{ ref('fct_deployments') }} as d
    inner join {{ ref('stg_github__commits') }} as c
        on d.repository = c.repository and d.commit_sha = c.sha
)

select
    deployment_id,
    deployed_at,
    committed_at as commit_at,
    'deployed commit' as what
from deployment_commits
where deployed_at < committed_at - interval 1 hour

union all

select
    deployment_id,
    deployed_at,
    first_commit_at as commit_at,
    'change ' || change_id as what
from {{ ref('fct_changes') }}
where deployed_at < first_commit_at - interval 1 hour
