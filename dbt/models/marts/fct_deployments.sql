{#-
    One row per production deployment attempt with its failure and rework classification.
    Failure (change failure rate), by var('failure_causes') per service, first reason wins:
      failed_status  the attempt itself failed (cause `failed_deploy`);
      incident       an incident is attributed to it (explicitly or by window);
      rollback       a later rollback took production back to the SHA it replaced: it was the
                     first successful deployment after the rollback target's last deployment;
      revert         a revert pull request of a change it shipped was merged after it;
      hotfix         it was the latest successful deployment of its repository and environment
                     when a hotfix pull request was started, at most incident_window_hours before.
    Rework (deployment rework rate), by var('rework_causes') per service, of successful attempts:
      rollback (it is a rollback), revert / hotfix (it ships one), incident_linked (it ships a
      pull request that references an incident issue or carries the incident label).
    A rollback = a successful deployment that shipped no new commit, whose SHA was first shipped
    before the SHA of the deployment it replaced (a redeploy of the current SHA is not one).
-#}

with

deployments as (
    select * from {{ ref('int_deployments') }}
),

commit_deployments as (
    select * from {{ ref('int_commit_deployments') }}
),

changes as (
    select * from {{ ref('int_changes') }}
),

incidents as (
    select * from {{ ref('int_incidents') }}
),

successful as (
    select
        *,
        lag(commit_sha) over (
            partition by repository, environment order by deployed_at, deployment_id
        ) as previous_sha
    from deployments
    where status = 'success'
),

claim_counts as (
    select
        deployment_id,
        count(*) as n_commits
    from commit_deployments
    group by deployment_id
),

-- When each SHA first reached the environment: its claiming deployment, else its first deployment.
first_shipped as (
    select
        successful.repository,
        successful.environment,
        successful.commit_sha,
        min(coalesce(claimer.deployed_at, successful.deployed_at)) as first_shipped_at
    from successful
    left join commit_deployments
        on
            successful.repository = commit_deployments.repository
            and successful.environment = commit_deployments.environment
            and successful.commit_sha = commit_deployments.sha
    left join deployments as claimer
        on commit_deployments.deployment_id = claimer.deployment_id
    group by successful.repository, successful.environment, successful.commit_sha
),

rollbacks as (
    select
        successful.deployment_id,
        successful.repository,
        successful.environment,
        successful.commit_sha,
        successful.deployed_at
    from successful
    left join claim_counts
        on successful.deployment_id = claim_counts.deployment_id
    inner join first_shipped as target
        on
            successful.repository = target.repository
            and successful.environment = target.environment
            and successful.commit_sha = target.commit_sha
    inner join first_shipped as replaced
        on
            successful.repository = replaced.repository
            and successful.environment = replaced.environment
            and successful.previous_sha = replaced.commit_sha
    where
        claim_counts.n_commits is null
        and successful.commit_sha <> successful.previous_sha
        and target.first_shipped_at < replaced.first_shipped_at
),

-- When the rollback's target SHA was last deployed before the rollback.
rollback_targets as (
    select
        rollbacks.deployment_id,
        rollbacks.repository,
        rollbacks.environment,
        rollbacks.deployed_at,
        max(target.deployed_at) as target_deployed_at
    from rollbacks
    inner join successful as target
        on
            rollbacks.repository = target.repository
            and rollbacks.environment = target.environment
            and rollbacks.commit_sha = target.commit_sha
            and rollbacks.deployed_at > target.deployed_at
    group by
        rollbacks.deployment_id,
        rollbacks.repository,
        rollbacks.environment,
        rollbacks.deployed_at
),

-- The deployment a rollback undid: the first one after the target SHA's last deployment.
rolled_back as (
    select {{ pm_arg_min('successful.deployment_id', 'successful.deployed_at') }} as deployment_id
    from rollback_targets
    inner join successful
        on
            rollback_targets.repository = successful.repository
            and rollback_targets.environment = successful.environment
            and rollback_targets.target_deployed_at < successful.deployed_at
            and rollback_targets.deployed_at > successful.deployed_at
    group by rollback_targets.deployment_id
),

-- Changes reverted by a later revert pull request of the same repository.
reverted as (
    select distinct reverted_change.deployment_id
    from changes as revert_change
    inner join changes as reverted_change
        on
            revert_change.repository = reverted_change.repository
            and revert_change.reverted_pr_number = reverted_change.pr_number
    where
        revert_change.rework_reason = 'revert'
        and reverted_change.deployment_id is not null
        and revert_change.merged_at > reverted_change.deployed_at
),

hotfix_starts as (
    select
        repository,
        service,
        least(coalesce(first_commit_at, opened_at), opened_at) as started_at
    from changes
    where rework_reason = 'hotfix'
),

hotfixed as (
    select distinct hotfixed_deployment.deployment_id
    from (
        select
            successful.deployment_id,
            row_number() over (
                partition by
                    hotfix_starts.repository, hotfix_starts.started_at, successful.environment
                order by successful.deployed_at desc, successful.deployment_id desc
            ) as recency
        from hotfix_starts
        inner join successful
            on
                hotfix_starts.repository = successful.repository
                and hotfix_starts.started_at >= successful.deployed_at
                and hotfix_starts.started_at
                <= {{ pm_add_whole_seconds(
                    'successful.deployed_at',
                    'cast(' ~ knob('incident_window_hours', 'hotfix_starts.service')
                    ~ ' * 3600 as bigint)'
                ) }}
    ) as hotfixed_deployment
    where hotfixed_deployment.recency = 1
),

shipped_changes as (
    select
        deployment_id,
        count(*) as n_changes,
        bool_or(rework_reason = 'revert') as ships_revert,
        bool_or(rework_reason = 'hotfix') as ships_hotfix,
        bool_or(is_incident_linked) as ships_incident_linked
    from changes
    where deployment_id is not null
    group by deployment_id
),

attributed_incidents as (
    select
        deployment_id,
        count(*) as n_incidents
    from incidents
    where deployment_id is not null
    group by deployment_id
),

reasons as (
    select
        deployments.*,
        coalesce(shipped_changes.n_changes, 0) as n_changes,
        case
            when
                deployments.status = 'failure'
                and {{ knob_has('failure_causes', 'failed_deploy', 'deployments.service') }}
                then 'failed_status'
            when deployments.status = 'failure' then null
            when
                attributed_incidents.n_incidents > 0
                and {{ knob_has('failure_causes', 'incident', 'deployments.service') }}
                then 'incident'
            when
                rolled_back.deployment_id is not null
                and {{ knob_has('failure_causes', 'rollback', 'deployments.service') }}
                then 'rollback'
            when
                reverted.deployment_id is not null
                and {{ knob_has('failure_causes', 'revert', 'deployments.service') }}
                then 'revert'
            when
                hotfixed.deployment_id is not null
                and {{ knob_has('failure_causes', 'hotfix', 'deployments.service') }}
                then 'hotfix'
        end as failure_reason,
        case
            when deployments.status = 'failure' then null
            when
                rollbacks.deployment_id is not null
                and {{ knob_has('rework_causes', 'rollback', 'deployments.service') }}
                then 'rollback'
            when
                shipped_changes.ships_revert
                and {{ knob_has('rework_causes', 'revert', 'deployments.service') }}
                then 'revert'
            when
                shipped_changes.ships_hotfix
                and {{ knob_has('rework_causes', 'hotfix', 'deployments.service') }}
                then 'hotfix'
            when
                shipped_changes.ships_incident_linked
                and {{ knob_has('rework_causes', 'incident_linked', 'deployments.service') }}
                then 'incident_linked'
        end as rework_reason
    from deployments
    left join shipped_changes
        on deployments.deployment_id = shipped_changes.deployment_id
    left join attributed_incidents
        on deployments.deployment_id = attributed_incidents.deployment_id
    left join rollbacks
        on deployments.deployment_id = rollbacks.deployment_id
    left join rolled_back
        on deployments.deployment_id = rolled_back.deployment_id
    left join reverted
        on deployments.deployment_id = reverted.deployment_id
    left join hotfixed
        on deployments.deployment_id = hotfixed.deployment_id
),

final as (
    select
        deployment_id,
        repository,
        repository as repo,
        service,
        team,
        environment,
        source,
        commit_sha,
        started_at,
        deployed_at,
        status,
        n_changes,
        failure_reason is not null as is_failure,
        failure_reason,
        rework_reason is not null as is_rework,
        rework_reason,
        workflow_run_id
    from reasons
)

select * from final
