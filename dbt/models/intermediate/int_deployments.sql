{#-
    Production deployment attempts from every configured source (var('deployment_sources'), per
    service overridable), one row per attempt that finished (success or failure). Inputs are the
    code-host layer (int_deployment_events, int_ci_runs, int_ci_jobs, int_releases, int_tags,
    int_commits), so every code host's deployments arrive here; `source` says which host and kind
    (github_deployment, github_actions, github_actions_job, github_release, git_tag).
    1. github_deployments: deployments a code host recorded (GitHub Deployments) whose environment
       matches the environment regex, finished by their first success status (deployed_at = that
       status' time, never the deployment's updated_at, which moves when a later deployment makes
       it inactive), or failed by a failure status with no success.
    2. actions: completed CI runs of deployment workflows (workflow regex minus exclude regex,
       on the configured branches); with a job regex, the matching jobs of those runs instead.
       A run that created a recorded deployment (a status names the run, or a deployment of the
       same SHA was created while the run was going) is that deployment: the run is dropped, so
       one deployment is never counted twice. So is a successful run followed, within
       deployment_handoff_minutes, by an Argo CD sync of the same SHA for the same repository (the
       run handed the commit to Argo CD).
    3. releases: published, non-draft, non-prerelease releases (deployed_at = published_at).
    4. tags: tags matching the tag regex (deployed_at = the release of the tag if any, else the
       tagged commit's committer date; a tag with a release is dropped when releases are a
       source too).
-#}

with

deployment_events as (
    select * from {{ ref('int_deployment_events') }}
),

-- The deployments code hosts recorded, and the states they reported.
deployments as (
    select
        source,
        source_instance,
        deployment_key,
        repository,
        environment,
        commit_sha,
        deployment_created_at as created_at
    from deployment_events
    where event_kind = 'created'
),

deployment_statuses as (
    select
        deployment_key,
        state,
        event_at as created_at,
        ci_run_id
    from deployment_events
    where event_kind = 'status'
),

workflow_runs as (
    select * from {{ ref('int_ci_runs') }}
),

workflow_jobs as (
    select * from {{ ref('int_ci_jobs') }}
),

releases as (
    select * from {{ ref('int_releases') }}
),

tags as (
    select * from {{ ref('int_tags') }}
),

commits as (
    select * from {{ ref('int_commits') }}
),

repositories as (
    select * from {{ ref('int_repository_owners') }}
),

-- 1. Recorded deployments ----------------------------------------------------------------------
recorded_deployments as (
    select
        deployments.*,
        repositories.service
    from deployments
    left join repositories
        on deployments.repository = repositories.repository
    where {{ knob_has('deployment_sources', 'github_deployments', 'repositories.service') }}
),

status_summary as (
    select
        deployment_statuses.deployment_key,
        min(
            case
                when {{ knob_in(
                    'deployment_statuses.state',
                    'deployment_success_statuses',
                    'recorded_deployments.service'
                ) }}
                    then deployment_statuses.created_at
            end
        ) as first_success_at,
        min(
            case
                when {{ knob_in(
                    'deployment_statuses.state',
                    'deployment_failure_statuses',
                    'recorded_deployments.service'
                ) }}
                    then deployment_statuses.created_at
            end
        ) as first_failure_at,
        max(deployment_statuses.ci_run_id) as ci_run_id
    from deployment_statuses
    inner join recorded_deployments
        on deployment_statuses.deployment_key = recorded_deployments.deployment_key
    group by deployment_statuses.deployment_key
),

recorded_deployment_attempts as (
    select
        recorded_deployments.deployment_key as deployment_id,
        recorded_deployments.repository,
        recorded_deployments.environment,
        recorded_deployments.source || '_deployment' as source,
        recorded_deployments.commit_sha,
        recorded_deployments.created_at as started_at,
        coalesce(
            status_summary.first_success_at, status_summary.first_failure_at
        ) as deployed_at,
        case
            when status_summary.first_success_at is not null then 'success' else 'failure'
        end as status,
        status_summary.ci_run_id as workflow_run_id
    from recorded_deployments
    inner join status_summary
        on recorded_deployments.deployment_key = status_summary.deployment_key
    where
        {{ knob_matches(
            'recorded_deployments.environment',
            'deployment_environment_regex',
            'recorded_deployments.service'
        ) }}
        and (
            status_summary.first_success_at is not null
            or status_summary.first_failure_at is not null
        )
),

-- 2. CI runs and jobs -------------------------------------------------------------------------
deployment_runs as (
    select
        workflow_runs.*,
        repositories.service
    from workflow_runs
    left join repositories
        on workflow_runs.repository = repositories.repository
    where
        workflow_runs.status = 'completed'
        and {{ knob_has('deployment_sources', 'actions', 'repositories.service') }}
        and {{ knob_matches(
            'workflow_runs.workflow_name',
            'deployment_workflow_regex',
            'repositories.service'
        ) }}
        and not {{ knob_matches(
            'workflow_runs.workflow_name',
            'deployment_exclude_regex',
            'repositories.service'
        ) }}
        and (
            {{ pm_list_length(knob('deployment_branches', 'repositories.service')) }} = 0
            or coalesce({{ pm_list_contains(
                knob('deployment_branches', 'repositories.service'),
                'workflow_runs.head_branch'
            ) }}, false)
        )
),

-- Runs that created a recorded deployment (any environment: the deployment says where it went).
runs_with_recorded_deployment as (
    select distinct deployment_runs.workflow_run_key
    from deployment_runs
    inner join status_summary
        on deployment_runs.run_id = status_summary.ci_run_id
    inner join recorded_deployments
        on
            status_summary.deployment_key = recorded_deployments.deployment_key
            and deployment_runs.repository = recorded_deployments.repository
    union
    select distinct deployment_runs.workflow_run_key
    from deployment_runs
    inner join recorded_deployments
        on
            deployment_runs.repository = recorded_deployments.repository
            and deployment_runs.head_sha = recorded_deployments.commit_sha
            and recorded_deployments.created_at
            between coalesce(deployment_runs.run_started_at, deployment_runs.created_at)
            and deployment_runs.updated_at
    union
    -- A successful run that handed the commit to a GitOps controller (an Argo CD sync of the same
    -- SHA for the same repository, started within deployment_handoff_minutes after the run ended:
    -- a push to the manifests, an `argocd app sync` without waiting) is that sync.
    select distinct deployment_runs.workflow_run_key
    from deployment_runs
    inner join recorded_deployments
        on
            deployment_runs.repository = recorded_deployments.repository
            and deployment_runs.head_sha = recorded_deployments.commit_sha
            and deployment_runs.updated_at < recorded_deployments.created_at
            and {{ pm_add_minutes(
                'deployment_runs.updated_at',
                'cast(' ~ var('deployment_handoff_minutes') ~ ' as bigint)'
            ) }}
            >= recorded_deployments.created_at
    where
        recorded_deployments.source in ('argocd')
        and {{ knob_in(
            'deployment_runs.conclusion',
            'deployment_success_statuses',
            'deployment_runs.service'
        ) }}
),

unique_runs as (
    select deployment_runs.*
    from deployment_runs
    left join runs_with_recorded_deployment
        on deployment_runs.workflow_run_key = runs_with_recorded_deployment.workflow_run_key
    where runs_with_recorded_deployment.workflow_run_key is null
),

actions_run_attempts as (
    select
        workflow_run_key as deployment_id,
        repository,
        'production' as environment,
        ci_system as source,
        head_sha as commit_sha,
        coalesce(run_started_at, created_at) as started_at,
        updated_at as deployed_at,
        case
            when {{ knob_in('conclusion', 'deployment_success_statuses', 'service') }}
                then 'success'
            else 'failure'
        end as status,
        run_id as workflow_run_id
    from unique_runs
    where
        {{ knob('deployment_job_regex', 'service') }} = ''
        and (
            {{ knob_in('conclusion', 'deployment_success_statuses', 'service') }}
            or {{ knob_in('conclusion', 'deployment_failure_statuses', 'service') }}
        )
),

actions_job_attempts as (
    select
        workflow_jobs.workflow_job_key as deployment_id,
        unique_runs.repository,
        'production' as environment,
        unique_runs.ci_system || '_job' as source,
        workflow_jobs.head_sha as commit_sha,
        workflow_jobs.started_at,
        workflow_jobs.completed_at as deployed_at,
        case
            when {{ knob_in(
                'workflow_jobs.conclusion',
                'deployment_success_statuses',
                'unique_runs.service'
            ) }}
                then 'success'
            else 'failure'
        end as status,
        unique_runs.run_id as workflow_run_id
    from workflow_jobs
    inner join unique_runs
        on workflow_jobs.workflow_run_key = unique_runs.workflow_run_key
    where
        workflow_jobs.status = 'completed'
        and {{ knob('deployment_job_regex', 'unique_runs.service') }} <> ''
        and {{ knob_matches(
            'workflow_jobs.job_name',
            'deployment_job_regex',
            'unique_runs.service'
        ) }}
        and not {{ knob_matches(
            'workflow_jobs.job_name',
            'deployment_exclude_regex',
            'unique_runs.service'
        ) }}
        and (
            {{ knob_in(
                'workflow_jobs.conclusion',
                'deployment_success_statuses',
                'unique_runs.service'
            ) }}
            or {{ knob_in(
                'workflow_jobs.conclusion',
                'deployment_failure_statuses',
                'unique_runs.service'
            ) }}
        )
),

-- 3. Releases and 4. tags ---------------------------------------------------------------------
published_releases as (
    select
        releases.*,
        repositories.service
    from releases
    left join repositories
        on releases.repository = repositories.repository
    where
        not coalesce(releases.is_draft, false)
        and not coalesce(releases.is_prerelease, false)
        and releases.published_at is not null
),

tag_commits as (
    select
        tags.*,
        repositories.service,
        commits.committed_at
    from tags
    left join repositories
        on tags.repository = repositories.repository
    left join commits
        on tags.repository = commits.repository and tags.commit_sha = commits.sha
),

release_attempts as (
    select
        published_releases.release_key as deployment_id,
        published_releases.repository,
        'production' as environment,
        published_releases.source || '_release' as source,
        tag_commits.commit_sha,
        published_releases.created_at as started_at,
        published_releases.published_at as deployed_at,
        'success' as status,
        cast(null as bigint) as workflow_run_id
    from published_releases
    left join tag_commits
        on
            published_releases.repository = tag_commits.repository
            and published_releases.tag_name = tag_commits.tag_name
    where {{ knob_has('deployment_sources', 'releases', 'published_releases.service') }}
),

tag_attempts as (
    select
        tag_commits.tag_key as deployment_id,
        tag_commits.repository,
        'production' as environment,
        'git_tag' as source,
        tag_commits.commit_sha,
        coalesce(published_releases.published_at, tag_commits.committed_at) as started_at,
        coalesce(published_releases.published_at, tag_commits.committed_at) as deployed_at,
        'success' as status,
        cast(null as bigint) as workflow_run_id
    from tag_commits
    left join published_releases
        on
            tag_commits.repository = published_releases.repository
            and tag_commits.tag_name = published_releases.tag_name
    where
        {{ knob_has('deployment_sources', 'tags', 'tag_commits.service') }}
        and {{ knob_matches(
            'tag_commits.tag_name',
            'deployment_tag_regex',
            'tag_commits.service'
        ) }}
        and not (
            published_releases.release_key is not null
            and {{ knob_has('deployment_sources', 'releases', 'tag_commits.service') }}
        )
        and coalesce(published_releases.published_at, tag_commits.committed_at) is not null
),

attempts as (
    select * from recorded_deployment_attempts
    union all
    select * from actions_run_attempts
    union all
    select * from actions_job_attempts
    union all
    select * from release_attempts
    union all
    select * from tag_attempts
),

final as (
    select
        attempts.deployment_id,
        attempts.repository,
        repositories.service,
        repositories.team,
        attempts.environment,
        attempts.source,
        attempts.commit_sha,
        attempts.started_at,
        attempts.deployed_at,
        attempts.status,
        attempts.workflow_run_id
    from attempts
    left join repositories
        on attempts.repository = repositories.repository
)

select * from final
