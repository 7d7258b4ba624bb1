{#-
    What code hosts record about deployments, as events: one `created` event per deployment (when
    it was requested) and one `status` event per state it reported afterwards (GitHub: each
    deployment status: in_progress, success, failure, inactive, ...). Every event carries its
    deployment's repository, environment and commit, so a code host that records a deployment as
    one row with a final state (GitLab's deployments, Argo CD's sync history) is one more branch of
    two events. ci_run_id: the CI run that reported the state, where the host says (GitHub: the
    run id in an Actions-created status' log or target URL), used to drop that run as a second
    deployment.
-#}

with

github_deployments as (
    select * from {{ ref('stg_github__deployments') }}
),

github_statuses as (
    select * from {{ ref('stg_github__deployment_statuses') }}
),

github as (
    select
        'github' as source,
        source_instance,
        deployment_key as event_key,
        deployment_key,
        'created' as event_kind,
        repository,
        environment,
        commit_sha,
        created_at as deployment_created_at,
        cast(null as {{ pm_string_type() }}) as state,
        created_at as event_at,
        cast(null as bigint) as ci_run_id
    from github_deployments
    union all
    select
        'github' as source,
        github_statuses.source_instance,
        github_statuses.deployment_status_key as event_key,
        github_statuses.deployment_key,
        'status' as event_kind,
        github_deployments.repository,
        github_deployments.environment,
        github_deployments.commit_sha,
        github_deployments.created_at as deployment_created_at,
        github_statuses.state,
        github_statuses.created_at as event_at,
        cast(nullif(regexp_extract(
            coalesce(github_statuses.log_url, github_statuses.target_url, ''),
            '/actions/runs/([0-9]+)',
            1
        ), '') as bigint) as ci_run_id
    from github_statuses
    left join github_deployments
        on
            github_statuses.source_instance = github_deployments.source_instance
            and github_statuses.deployment_key = github_deployments.deployment_key
),

gitlab_deployments as (
    select * from {{ ref('stg_gitlab__deployments') }}
),

-- GitLab records a deployment as one row with its last status: a `created` event, and a `status`
-- event for a deployment that finished (success, failed, canceled), at its finish time.
gitlab as (
    select
        'gitlab' as source,
        source_instance,
        deployment_key as event_key,
        deployment_key,
        'created' as event_kind,
        project as repository,
        environment,
        commit_sha,
        created_at as deployment_created_at,
        cast(null as {{ pm_string_type() }}) as state,
        created_at as event_at,
        cast(null as bigint) as ci_run_id
    from gitlab_deployments
    union all
    select
        'gitlab' as source,
        source_instance,
        deployment_key || '/status/' || status as event_key,
        deployment_key,
        'status' as event_kind,
        project as repository,
        environment,
        commit_sha,
        created_at as deployment_created_at,
        case status
            when 'success' then 'success'
            when 'failed' then 'failure'
            when 'canceled' then 'cancelled'
        end as state,
        coalesce(finished_at, updated_at) as event_at,
        pipeline_id as ci_run_id
    from gitlab_deployments
    where status in ('success', 'failed', 'canceled')
),

argocd_syncs as (
    select * from {{ ref('stg_argocd__syncs') }}
),

-- Argo CD records a sync in its history only when it succeeded: a `created` event when the sync
-- started and a `success` event when it finished. The revision synced is the commit; the
-- repository is the service repository the application maps to (unmapped ones are left out).
-- Every synced application is `production`: choose them with the source's filters.
argocd as (
    select
        'argocd' as source,
        source_instance,
        sync_key as event_key,
        sync_key as deployment_key,
        'created' as event_kind,
        repository,
        'production' as environment,
        revision as commit_sha,
        coalesce(deploy_started_at, deployed_at) as deployment_created_at,
        cast(null as {{ pm_string_type() }}) as state,
        coalesce(deploy_started_at, deployed_at) as event_at,
        cast(null as bigint) as ci_run_id
    from argocd_syncs
    where repository is not null
    union all
    select
        'argocd' as source,
        source_instance,
        sync_key || '/status/success' as event_key,
        sync_key as deployment_key,
        'status' as event_kind,
        repository,
        'production' as environment,
        revision as commit_sha,
        coalesce(deploy_started_at, deployed_at) as deployment_created_at,
        'success' as state,
        deployed_at as event_at,
        cast(null as bigint) as ci_run_id
    from argocd_syncs
    where repository is not null and deployed_at is not null
),

-- Jenkins: builds of deployment jobs (raw.jenkins_deployment_jobs, from deployment_job_regex) are
-- deployments of the commit they built: a `created` event at the build's start and, once it
-- finished, a `status` event at its end (SUCCESS: success; FAILURE, UNSTABLE: failure; ABORTED:
-- cancelled; NOT_BUILT: none).
jenkins_deployments as (
    select
        builds.*,
        deployment_jobs.environment
    from {{ ref('stg_jenkins__builds') }} as builds
    inner join {{ ref('stg_jenkins__deployment_jobs') }} as deployment_jobs
        on
            builds.source_instance = deployment_jobs.source_instance
            and builds.job_full_name = deployment_jobs.job_full_name
),

jenkins as (
    select
        'jenkins' as source,
        source_instance,
        build_key as event_key,
        build_key as deployment_key,
        'created' as event_kind,
        repository,
        environment,
        commit_sha,
        started_at as deployment_created_at,
        cast(null as {{ pm_string_type() }}) as state,
        started_at as event_at,
        cast(null as bigint) as ci_run_id
    from jenkins_deployments
    union all
    select
        'jenkins' as source,
        source_instance,
        build_key || '/status/' || lower(result) as event_key,
        build_key as deployment_key,
        'status' as event_kind,
        repository,
        environment,
        commit_sha,
        started_at as deployment_created_at,
        {{ jenkins_conclusion('result', 'is_building') }} as state,
        finished_at as event_at,
        cast(null as bigint) as ci_run_id
    from jenkins_deployments
    where not is_building and result in ('SUCCESS', 'FAILURE', 'UNSTABLE', 'ABORTED')
),

final as (
    select * from github
    union all
    select * from gitlab
    union all
    select * from argocd
    union all
    select * from jenkins
)

select * from final
