{#-
    GitLab CI statuses (pipelines and jobs) in the code-host layer's vocabulary, GitHub Actions'
    status / conclusion pair, so downstream models filter one vocabulary:
    success, failed, canceled, skipped -> completed with success, failure, cancelled, skipped;
    running -> in_progress; created, waiting_for_resource, preparing, pending, scheduled -> queued;
    manual (waiting for someone to press play) -> waiting. Anything else passes through lower case.
-#}

{% macro gitlab_ci_run_status(status) -%}
    case
        when {{ status }} in ('success', 'failed', 'canceled', 'skipped') then 'completed'
        when {{ status }} = 'running' then 'in_progress'
        when {{ status }} = 'manual' then 'waiting'
        when
            {{ status }} in ('created', 'waiting_for_resource', 'preparing', 'pending', 'scheduled')
            then 'queued'
        else lower({{ status }})
    end
{%- endmacro %}

{% macro gitlab_ci_conclusion(status) -%}
    case {{ status }}
        when 'success' then 'success'
        when 'failed' then 'failure'
        when 'canceled' then 'cancelled'
        when 'skipped' then 'skipped'
    end
{%- endmacro %}
