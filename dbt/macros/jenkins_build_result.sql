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
