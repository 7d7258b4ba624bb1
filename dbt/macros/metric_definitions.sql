{#-
    Per-service metric definitions. Every knob is a flat var (the organisation-wide value) that a
    service may override in var('service_overrides') = {service: {var name: value}}
    (built by pipelines/definitions.py). These macros render the effective value for the row's
    service as SQL: a constant when no service overrides the knob, else a CASE on the service
    with constant values, so regexes stay constant patterns DuckDB compiles once.
-#}

{#- {service: value} for the services that override var `name`. -#}
{% macro knob_overrides(name) -%}
    {%- set found = {} -%}
    {%- for service, values in (var('service_overrides', {}) or {}).items() -%}
        {%- if name in values -%}{%- do found.update({service: values[name]}) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- A var value as a SQL literal: number, string, or a list of strings. -#}
{% macro knob_literal(value) -%}
    {%- if value is string -%}{{ sql_literal(value) }}
    {%- elif value is number -%}{{ value }}
    {%- elif value is none -%}null
    {%- else -%}{{ pm_string_list_literal(value) }}
    {%- endif -%}
{%- endmacro %}

{#- The effective value of knob `name` for the row's service. -#}
{% macro knob(name, service_column) -%}
    {%- set overrides = knob_overrides(name) -%}
    {%- if overrides | length == 0 -%}
        {{ knob_literal(var(name)) }}
    {%- else -%}
        case
            {%- for service, value in overrides.items() %}
                when {{ service_column }} = {{ sql_literal(service) }} then {{ knob_literal(value) }}
            {%- endfor %}
            else {{ knob_literal(var(name)) }}
        end
    {%- endif -%}
{%- endmacro %}

{#- true when `value` matches the service's regex knob `name` (an empty regex matches nothing). -#}
{% macro knob_matches(value, name, service_column) -%}
    {%- set overrides = knob_overrides(name) -%}
    {%- if overrides | length == 0 -%}
        {{ _regex_or_false(value, var(name)) }}
    {%- else -%}
        case
            {%- for service, pattern in overrides.items() %}
                when {{ service_column }} = {{ sql_literal(service) }}
                    then {{ _regex_or_false(value, pattern) }}
            {%- endfor %}
            else {{ _regex_or_false(value, var(name)) }}
        end
    {%- endif -%}
{%- endmacro %}

{% macro _regex_or_false(value, pattern) -%}
    {%- if pattern is none or pattern == '' -%}false{%- else -%}{{ regex_matches(value, pattern) }}{%- endif -%}
{%- endmacro %}

{#- true when the service's list knob `name` contains the constant `item`. -#}
{% macro knob_has(name, item, service_column) -%}
    {%- set default = item in var(name) -%}
    {%- set differ = [] -%}
    {%- for service, values in knob_overrides(name).items() -%}
        {%- if (item in values) != default -%}{%- do differ.append(service) -%}{%- endif -%}
    {%- endfor -%}
    {%- if differ | length == 0 -%}
        {{ 'true' if default else 'false' }}
    {%- elif default -%}
        coalesce({{ service_column }} not in ({{ sql_literal_list(differ) }}), true)
    {%- else -%}
        coalesce({{ service_column }} in ({{ sql_literal_list(differ) }}), false)
    {%- endif -%}
{%- endmacro %}

{#- true when `value` is one of the service's list knob `name` (never null). -#}
{% macro knob_in(value, name, service_column) -%}
    {%- set overrides = knob_overrides(name) -%}
    {%- if overrides | length == 0 -%}
        {{ _in_list(value, var(name)) }}
    {%- else -%}
        case
            {%- for service, values in overrides.items() %}
                when {{ service_column }} = {{ sql_literal(service) }} then {{ _in_list(value, values) }}
            {%- endfor %}
            else {{ _in_list(value, var(name)) }}
        end
    {%- endif -%}
{%- endmacro %}

{% macro _in_list(value, values) -%}
    {%- if values | length == 0 -%}false
    {%- else -%}coalesce({{ value }} in ({{ sql_literal_list(values) }}), false)
    {%- endif -%}
{%- endmacro %}

{#- A fingerprint of every metric definition: incremental marts recompute all rows when it changes. -#}
{% macro definitions_fingerprint() -%}
    {%- set names = [
        'deployment_sources', 'deployment_environment_regex', 'deployment_workflow_regex',
        'deployment_job_regex', 'deployment_exclude_regex', 'deployment_branches',
        'deployment_tag_regex', 'deployment_success_statuses', 'deployment_failure_statuses',
        'lead_time_start', 'incident_window_hours', 'bot_authors_regex', 'hotfix_regex',
        'failure_causes', 'rework_causes', 'incident_label', 'min_sample', 'benchmark',
        'timezone', 'service_overrides'
    ] -%}
    {%- set values = [] -%}
    {%- for name in names -%}{%- do values.append(var(name)) -%}{%- endfor -%}
    {{ return(local_md5(tojson(values))) }}
{%- endmacro %}
