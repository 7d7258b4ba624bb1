{#-
    Every incident source in one shape (docs/sources/incidents.md): PagerDuty, Opsgenie,
    Statuspage, incident files, code-host issues (int_issues) labelled var('incident_label'),
    whose source is `<code host>_issue` (github_issue), and, for the Argo CD instances in
    var('argocd_health_incidents'), applications' Degraded spells (source argocd). The incident layer, as int_pull_requests
    and the other code-host models are for code hosts: one branch per source. Services come from
    the config: PagerDuty service ids (raw.org_pagerduty_services), and each source's service_map
    (raw.org_incident_services) for Opsgenie services or tags, Statuspage components and file
    service values (a file value that already names a service is taken as is).

    No double counting (is_counted): the same outage often reaches several tools. Sources rank
    1 = on-call tools and imports (PagerDuty, Opsgenie, files), 2 = Statuspage and Argo CD health,
    3 = GitHub issues.
    An incident of rank 2 or 3 is counted only when its service is covered (by the config's
    mappings) by no source of a better rank; rank-1 incidents always count. Unmapped Statuspage
    incidents (service null) count; GitHub issues only exist here for configured repositories.
-#}
{#-
    Regexes with backslashes go through sql_literal(): Spark's string literals read escapes (and
    pm_regex_literal() where a \b must stay ASCII's word boundary).
-#}
{%- set root_cause_regex = '(?i)root cause:\\s*([0-9a-f]{7,40})\\b' -%}
{%- set revert_regex = '(?i)revert(?:s|ed)? [^#\\n]*#([0-9]+)' %}

with

pagerduty as (
    select * from {{ ref('stg_pagerduty__incidents') }}
),

opsgenie as (
    select * from {{ ref('stg_opsgenie__incidents') }}
),

statuspage as (
    select * from {{ ref('stg_statuspage__incidents') }}
),

incident_files as (
    select * from {{ ref('stg_incident_files__incidents') }}
),

issues as (
    select * from {{ ref('int_issues') }}
),

-- Argo CD health changes of the instances with health_incidents (var argocd_health_incidents).
argocd_health as (
    select * from {{ ref('stg_argocd__health') }}
    {% if var('argocd_health_incidents') -%}
        where source_instance in ({{ sql_literal_list(var('argocd_health_incidents')) }})
    {%- else -%}
        where false
    {%- endif %}
),

org_pagerduty_services as (
    select * from {{ ref('stg_org__pagerduty_services') }}
),

org_incident_services as (
    select * from {{ ref('stg_org__incident_services') }}
),

org_repositories as (
    select * from {{ ref('stg_org__repositories') }}
),

org_services as (
    select * from {{ ref('stg_org__services') }}
),

-- Services covered by each rank of source, from the configuration.
coverage as (
    select
        service,
        1 as source_rank
    from org_pagerduty_services
    union all
    select
        service,
        case when kind = 'statuspage' then 2 else 1 end as source_rank
    from org_incident_services
),

best_rank as (
    select
        service,
        min(source_rank) as best_source_rank
    from coverage
    group by service
),

opsgenie_by_service as (
    select
        opsgenie.source_instance,
        opsgenie.incident_id,
        min(org_incident_services.service) as service
    from opsgenie
    inner join org_incident_services
        on
            opsgenie.source_instance = org_incident_services.source_instance
            and {{ pm_list_contains(
                'opsgenie.impacted_services', 'org_incident_services.external_service'
            ) }}
    group by opsgenie.source_instance, opsgenie.incident_id
),

opsgenie_by_tag as (
    select
        opsgenie.source_instance,
        opsgenie.incident_id,
        min(org_incident_services.service) as service
    from opsgenie
    inner join org_incident_services
        on
            opsgenie.source_instance = org_incident_services.source_instance
            and {{ pm_list_contains('opsgenie.tags', 'org_incident_services.external_service') }}
    group by opsgenie.source_instance, opsgenie.incident_id
),

statuspage_by_component as (
    select
        statuspage.source_instance,
        statuspage.incident_id,
        min(org_incident_services.service) as service
    from statuspage
    inner join org_incident_services
        on
            statuspage.source_instance = org_incident_services.source_instance
            and {{ pm_list_contains(
                'statuspage.components', 'org_incident_services.external_service'
            ) }}
    group by statuspage.source_instance, statuspage.incident_id
),

from_pagerduty as (
    select
        pagerduty.incident_id,
        'pagerduty' as source,
        pagerduty.source_instance,
        pagerduty.incident_id as external_id,
        pagerduty.pagerduty_service_id,
        org_pagerduty_services.service,
        pagerduty.title,
        pagerduty.status,
        coalesce(pagerduty.priority, pagerduty.urgency) as severity,
        pagerduty.created_at as started_at,
        pagerduty.created_at as detected_at,
        pagerduty.acknowledged_at,
        coalesce(
            pagerduty.resolve_logged_at,
            pagerduty.resolved_at,
            case when pagerduty.status = 'resolved' then pagerduty.last_status_change_at end
        ) as resolved_at,
        pagerduty.html_url as url,
        cast(null as {{ pm_string_type() }}) as file_deployment_id,
        cast(null as {{ pm_string_type() }}) as file_commit_sha,
        cast(null as {{ pm_string_type() }}) as file_revert_pr,
        coalesce(pagerduty.title, '') || ' '
        || coalesce(pagerduty.description, '') as incident_text
    from pagerduty
    left join org_pagerduty_services
        on pagerduty.pagerduty_service_id = org_pagerduty_services.pagerduty_service_id
),

from_opsgenie as (
    select
        opsgenie.source_instance || ':' || opsgenie.incident_id as incident_id,
        'opsgenie' as source,
        opsgenie.source_instance,
        opsgenie.incident_id as external_id,
        cast(null as {{ pm_string_type() }}) as pagerduty_service_id,
        coalesce(opsgenie_by_service.service, opsgenie_by_tag.service) as service,
        opsgenie.title,
        case
            when opsgenie.status in ('resolved', 'closed') then 'resolved' else 'triggered'
        end as status,
        opsgenie.priority as severity,
        coalesce(opsgenie.impact_started_at, opsgenie.created_at) as started_at,
        opsgenie.created_at as detected_at,
        cast(null as {{ pm_timestamptz() }}) as acknowledged_at,
        coalesce(
            opsgenie.impact_ended_at,
            case when opsgenie.status in ('resolved', 'closed') then opsgenie.updated_at end
        ) as resolved_at,
        opsgenie.url,
        cast(null as {{ pm_string_type() }}) as file_deployment_id,
        cast(null as {{ pm_string_type() }}) as file_commit_sha,
        cast(null as {{ pm_string_type() }}) as file_revert_pr,
        coalesce(opsgenie.title, '') || ' ' || coalesce(opsgenie.description, '') as incident_text
    from opsgenie
    left join opsgenie_by_service
        on
            opsgenie.source_instance = opsgenie_by_service.source_instance
            and opsgenie.incident_id = opsgenie_by_service.incident_id
    left join opsgenie_by_tag
        on
            opsgenie.source_instance = opsgenie_by_tag.source_instance
            and opsgenie.incident_id = opsgenie_by_tag.incident_id
),

from_statuspage as (
    select
        statuspage.source_instance || ':' || statuspage.incident_id as incident_id,
        'statuspage' as source,
        statuspage.source_instance,
        statuspage.incident_id as external_id,
        cast(null as {{ pm_string_type() }}) as pagerduty_service_id,
        statuspage_by_component.service,
        statuspage.title,
        case
            when statuspage.status in ('resolved', 'postmortem', 'completed') then 'resolved'
            when statuspage.status in ('identified', 'monitoring') then 'acknowledged'
            else 'triggered'
        end as status,
        statuspage.impact as severity,
        coalesce(statuspage.started_at, statuspage.created_at) as started_at,
        statuspage.created_at as detected_at,
        cast(null as {{ pm_timestamptz() }}) as acknowledged_at,
        statuspage.resolved_at,
        statuspage.url,
        cast(null as {{ pm_string_type() }}) as file_deployment_id,
        cast(null as {{ pm_string_type() }}) as file_commit_sha,
        cast(null as {{ pm_string_type() }}) as file_revert_pr,
        coalesce(statuspage.title, '') as incident_text
    from statuspage
    left join statuspage_by_component
        on
            statuspage.source_instance = statuspage_by_component.source_instance
            and statuspage.incident_id = statuspage_by_component.incident_id
),

from_files as (
    select
        incident_files.source_instance || ':' || incident_files.incident_id as incident_id,
        'file' as source,
        incident_files.source_instance,
        incident_files.incident_id as external_id,
        cast(null as {{ pm_string_type() }}) as pagerduty_service_id,
        coalesce(org_incident_services.service, org_services.service) as service,
        incident_files.title,
        case
            when incident_files.resolved_at is not null then 'resolved' else 'triggered'
        end as status,
        incident_files.severity,
        incident_files.started_at,
        coalesce(incident_files.detected_at, incident_files.started_at) as detected_at,
        incident_files.acknowledged_at,
        incident_files.resolved_at,
        incident_files.url,
        incident_files.cause_deployment_id as file_deployment_id,
        incident_files.cause_commit_sha as file_commit_sha,
        incident_files.cause_revert_pr as file_revert_pr,
        coalesce(incident_files.title, '') || ' '
        || coalesce(incident_files.cause_commit_sha, '') || ' '
        || coalesce('deployments/' || incident_files.cause_deployment_id, '') as incident_text
    from incident_files
    left join org_incident_services
        on
            incident_files.source_instance = org_incident_services.source_instance
            and incident_files.service_value = org_incident_services.external_service
    left join org_services
        on incident_files.service_value = org_services.service
),

-- Argo CD: a Degraded spell of an application, from the first Degraded after it was last Healthy
-- to the next Healthy (still open without one). Each Degraded change is closed by the first
-- Healthy after it; the changes closed by the same Healthy are one spell.
argocd_degraded as (
    select
        degraded.source_instance,
        degraded.application_key,
        degraded.repository,
        degraded.changed_at,
        degraded.message,
        min(healthy.changed_at) as healthy_at
    from argocd_health as degraded
    left join argocd_health as healthy
        on
            degraded.source_instance = healthy.source_instance
            and degraded.application_key = healthy.application_key
            and healthy.health_status = 'Healthy'
            and degraded.changed_at < healthy.changed_at
    where degraded.health_status = 'Degraded'
    group by
        degraded.source_instance,
        degraded.application_key,
        degraded.repository,
        degraded.changed_at,
        degraded.message
),

argocd_spells as (
    select
        source_instance,
        application_key,
        repository,
        healthy_at as resolved_at,
        min(changed_at) as started_at,
        {{ pm_arg_min('message', 'changed_at') }} as message
    from argocd_degraded
    group by source_instance, application_key, repository, healthy_at
),

from_argocd as (
    select
        argocd_spells.source_instance || ':' || argocd_spells.application_key || '/degraded/'
        || {{ pm_epoch_seconds('argocd_spells.started_at') }} as incident_id,
        'argocd' as source,
        argocd_spells.source_instance,
        argocd_spells.application_key || '/degraded/'
        || {{ pm_epoch_seconds('argocd_spells.started_at') }} as external_id,
        cast(null as {{ pm_string_type() }}) as pagerduty_service_id,
        org_repositories.service,
        'Argo CD: ' || split_part(argocd_spells.application_key, '/', 2) || ' Degraded' as title,
        case
            when argocd_spells.resolved_at is not null then 'resolved' else 'triggered'
        end as status,
        cast(null as {{ pm_string_type() }}) as severity,
        argocd_spells.started_at,
        argocd_spells.started_at as detected_at,
        cast(null as {{ pm_timestamptz() }}) as acknowledged_at,
        argocd_spells.resolved_at,
        cast(null as {{ pm_string_type() }}) as url,
        cast(null as {{ pm_string_type() }}) as file_deployment_id,
        cast(null as {{ pm_string_type() }}) as file_commit_sha,
        cast(null as {{ pm_string_type() }}) as file_revert_pr,
        'Argo CD: ' || split_part(argocd_spells.application_key, '/', 2) || ' Degraded '
        || coalesce(argocd_spells.message, '') as incident_text
    from argocd_spells
    inner join org_repositories
        on argocd_spells.repository = org_repositories.repository
),

from_issues as (
    select
        issues.issue_key as incident_id,
        issues.source || '_issue' as source,
        issues.source_instance,
        issues.issue_key as external_id,
        cast(null as {{ pm_string_type() }}) as pagerduty_service_id,
        org_repositories.service,
        issues.title,
        case when issues.state = 'closed' then 'resolved' else 'triggered' end as status,
        cast(null as {{ pm_string_type() }}) as severity,
        issues.created_at as started_at,
        issues.created_at as detected_at,
        cast(null as {{ pm_timestamptz() }}) as acknowledged_at,
        issues.closed_at as resolved_at,
        issues.url,
        cast(null as {{ pm_string_type() }}) as file_deployment_id,
        cast(null as {{ pm_string_type() }}) as file_commit_sha,
        cast(null as {{ pm_string_type() }}) as file_revert_pr,
        coalesce(issues.title, '') || ' ' || coalesce(issues.body, '') as incident_text
    from issues
    inner join org_repositories
        on issues.repository = org_repositories.repository
    where {{ pm_list_contains('issues.labels', sql_literal(var('incident_label'))) }}
),

all_incidents as (
    select * from from_pagerduty
    union all
    select * from from_opsgenie
    union all
    select * from from_statuspage
    union all
    select * from from_files
    union all
    select * from from_issues
    union all
    select * from from_argocd
),

final as (
    select
        all_incidents.incident_id,
        all_incidents.source,
        all_incidents.source_instance,
        all_incidents.external_id,
        all_incidents.pagerduty_service_id,
        all_incidents.service,
        org_services.team,
        all_incidents.title,
        all_incidents.status,
        all_incidents.severity,
        all_incidents.started_at,
        all_incidents.detected_at,
        all_incidents.acknowledged_at,
        all_incidents.resolved_at,
        all_incidents.url,
        coalesce(
            all_incidents.file_deployment_id,
            nullif(regexp_extract(all_incidents.incident_text, 'deployments?/([0-9]+)', 1), '')
        ) as cause_deployment_id,
        coalesce(
            all_incidents.file_commit_sha,
            nullif(
                lower(
                    regexp_extract(
                        all_incidents.incident_text,
                        {{ pm_regex_literal(root_cause_regex) }},
                        1
                    )
                ),
                ''
            )
        ) as cause_commit_sha,
        coalesce(
            all_incidents.file_revert_pr,
            nullif(
                regexp_extract(
                    all_incidents.incident_text, {{ sql_literal(revert_regex) }}, 1
                ),
                ''
            )
        ) as cause_revert_pr,
        all_incidents.incident_text,
        case
            when all_incidents.source in ('pagerduty', 'opsgenie', 'file') then 1
            when all_incidents.source in ('statuspage', 'argocd') then 2
            else 3
        end as source_rank
    from all_incidents
    left join org_services
        on all_incidents.service = org_services.service
)

select
    final.*,
    coalesce(best_rank.best_source_rank >= final.source_rank, true) as is_counted
from final
left join best_rank
    on final.service = best_rank.service
