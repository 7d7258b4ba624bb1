{#-
    Evidence of workflow capabilities: one row per capability and GitHub Actions run that used it.
    A run uses a capability when the capability's workflow_regex matches the run's own workflow
    file written as `owner/name/<path>` (e.g. appstore/deploy-pipelines/.github/workflows/deploy.yml)
    or one of the reusable workflows it called (`referenced_workflows[].path`, which GitHub writes
    as `owner/name/<path>@<ref>`). Any run counts, whatever its conclusion: it shows the service is
    wired to the capability.
-#}

with

runs as (
    select * from {{ ref('int_ci_runs') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

capabilities as (
    {{ platform_capabilities_relation() }}
),

run_paths as (
    select
        workflow_run_key,
        repository,
        run_id,
        coalesce(run_started_at, created_at) as run_at,
        repository || '/' || workflow_path as workflow_path
    from runs
    where workflow_path is not null
    union all
    select
        workflow_run_key,
        repository,
        run_id,
        coalesce(run_started_at, created_at) as run_at,
        {{ pm_unnest('referenced_workflow_paths') }} as workflow_path
    from runs
),

matches as (
    -- typed and empty when no capability has a workflow_regex
    select
        cast(null as {{ pm_string_type() }}) as capability,
        workflow_run_key,
        repository,
        run_id,
        run_at
    from run_paths
    where false
    {%- for capability in var('platform_capabilities', []) or [] if capability.workflow_regex %}
        union all
        select
            {{ sql_literal(capability.name) }} as capability,
            workflow_run_key,
            repository,
            run_id,
            run_at
        from run_paths
        where {{ regex_matches('workflow_path', capability.workflow_regex) }}
    {%- endfor %}
),

final as (
    select distinct
        matches.capability,
        capabilities.is_golden_path,
        org_repositories.service,
        matches.repository,
        matches.workflow_run_key,
        matches.run_id,
        matches.run_at
    from matches
    inner join capabilities
        on matches.capability = capabilities.capability
    left join org_repositories
        on matches.repository = org_repositories.repository
)

select * from final
