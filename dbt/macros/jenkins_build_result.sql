{#-
    A Jenkins build's `result` as the code-host layer's conclusion (GitHub Actions' vocabulary):
    SUCCESS -> success; FAILURE and UNSTABLE (it ran, but tests or quality gates failed) -> failure;
    ABORTED -> cancelled; NOT_BUILT (skipped by an earlier stage or a condition) -> skipped;
    null while the build is running.
-#}

{% macro jenkins_conclusion(result, is_building) -%}
    case
        when {{ is_building }} then null
        when {{ result }} = 'SUCCESS' then 'success'
        when {{ result }} in ('FAILURE', 'UNSTABLE') then 'failure'
        when {{ result }} = 'ABORTED' then 'cancelled'
        when {{ result }} = 'NOT_BUILT' then 'skipped'
        else lower({{ result }})
    end
{%- endmacro %}

{#-
    What started a Jenkins build (its first cause's class) in GitHub's event vocabulary, so the
    filters on `event` apply: a timer is `schedule` (left out of CI feedback times, as scheduled
    Actions runs are); an SCM poll, a push hook or a branch event or indexing is `push`; a person is
    `workflow_dispatch`; an upstream build is `workflow_run`; a pull-request build (multibranch
    `PR-*` branch events carry the branch cause too) stays `push`. Anything else: the class's last
    part, lower case.
-#}

{% macro jenkins_event(cause_class) -%}
    case
        when {{ cause_class }} like '%TimerTrigger%' then 'schedule'
        when
            {{ cause_class }} like '%SCMTrigger%'
            or {{ cause_class }} like '%PushCause'
            or {{ cause_class }} like 'jenkins.branch.Branch%Cause'
            then 'push'
        when {{ cause_class }} like '%UserIdCause' then 'workflow_dispatch'
        when {{ cause_class }} like '%UpstreamCause' then 'workflow_run'
        else lower(regexp_extract({{ cause_class }}, '([^.$]+)$', 1))
    end
{%- endmacro %}
