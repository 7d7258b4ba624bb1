{#-
    Requests to the platform, one row each, by how they were fulfilled:
      automated  a successful GitHub Actions run of a workflow whose name matches
                 var('platform_self_service_workflow_regex') (e.g. "Create service"): no human step;
      human      an issue labelled var('platform_self_service_request_label'): someone acted on it.
    Empty when self-service is not configured (both vars "").
-#}
{%- set workflow_regex = var('platform_self_service_workflow_regex', '') -%}
{%- set request_label = var('platform_self_service_request_label', '') %}

with

runs as (
    select * from {{ ref('int_ci_runs') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

automated as (
    select
        workflow_run_key as request_id,
        'automated' as fulfilment,
        repository,
        workflow_name as request_kind,
        created_at as requested_at
    from runs
    where
        conclusion = 'success'
        and {{ regex_matches('workflow_name', workflow_regex) if workflow_regex else 'false' }}
),

human as (
    select
        issue_key as request_id,
        'human' as fulfilment,
        repository,
        title as request_kind,
        created_at as requested_at
    from issues
    where
        {{ 'coalesce(' ~ pm_list_contains('labels', sql_literal(request_label)) ~ ', false)'
            if request_label else 'false' }}
),

final as (
    select * from automated
    union all
    select * from human
)

select * from final
