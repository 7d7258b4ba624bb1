{#-
    Helpers of the platform-value models (docs/metrics.md#platform-value). The configuration's
    `platform:` section arrives as the platform_* vars (pipelines/platform_vars.py); a var that is
    null means "not configured" and renders as a typed SQL null, never as a made-up number.
-#}

{#- The capabilities var as a relation: one row per capability (none: an empty, typed relation). -#}
{% macro platform_capabilities_relation() -%}
    {%- set capabilities = var('platform_capabilities', []) or [] -%}
    {%- for capability in capabilities %}
        select
            {{ sql_literal(capability.name) }} as capability,
            {{ sql_literal(capability.description or '') }} as description,
            {{ "'workflow'" if capability.workflow_regex else "'topic'" }} as rule_kind,
            {{ sql_literal(capability.workflow_regex or '') }} as workflow_regex,
            {{ sql_literal(capability.topic or '') }} as topic,
            {{ 'true' if capability.golden_path else 'false' }} as is_golden_path,
            {{ loop.index }} as capability_order
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        select
            cast(null as {{ pm_string_type() }}) as capability,
            cast(null as {{ pm_string_type() }}) as description,
            cast(null as {{ pm_string_type() }}) as rule_kind,
            cast(null as {{ pm_string_type() }}) as workflow_regex,
            cast(null as {{ pm_string_type() }}) as topic,
            cast(null as boolean) as is_golden_path,
            cast(null as integer) as capability_order
        where false
    {%- endfor %}
{%- endmacro %}

{#- A number var as a SQL double, or a typed null when it is not configured. -#}
{% macro platform_number(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        cast(null as double)
    {%- else -%}
        cast({{ value }} as double)
    {%- endif -%}
{%- endmacro %}

{#- A text or date var as a SQL literal of that type, or a typed null. -#}
{% macro platform_literal(name, sql_type=none) -%}
    {%- set sql_type = sql_type or pm_string_type() -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ sql_type }})
    {%- else -%}
        cast({{ sql_literal(value) }} as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}

{#- The UTC instant of local midnight at the start of a date, in var('timezone'). -#}
{% macro local_midnight(date_expression) -%}
    {{ pm_from_local_timestamp('cast(' ~ date_expression ~ ' as timestamp)') }}
{%- endmacro %}

{#-
    The configuration the value rows rest on, as the text of one JSON object (tojson's; printed in
    `assumptions` through pm_json_merge_text).
-#}
{% macro platform_assumptions_text() -%}
    {%- set assumptions = {
        'platform_configured': var('platform_configured', false),
        'currency': var('platform_currency', none),
        'loaded_hourly_rate': var('platform_loaded_hourly_rate', none),
        'attribution_factor': var('platform_attribution_factor', none),
        'working_weeks_per_year': var('platform_working_weeks_per_year', none),
        'monthly_cost': var('platform_monthly_cost', none),
        'investment': var('platform_investment', none),
        'tasks': var('platform_tasks', []),
        'adoption_window_days': var('platform_adoption_window_days', none),
        'eligible': {
            'exclude_tiers': var('platform_exclude_tiers', []),
            'exclude_teams': var('platform_exclude_teams', []),
            'exclude_services': var('platform_exclude_services', []),
        },
        'capabilities': var('platform_capabilities', []),
        'self_service': {
            'workflow_regex': var('platform_self_service_workflow_regex', ''),
            'request_label': var('platform_self_service_request_label', ''),
        },
        'developers': 'sum of teams[].engineers in the current configuration',
        'hours_lost_per_week': 'org row of the latest unsuppressed survey wave closed by the month end (survey item TL1)',
    } -%}
    {{ return(tojson(assumptions)) }}
{%- endmacro %}

{#- true when the column is one of the values of list var `name` (an empty list: never). -#}
{% macro platform_in_list(column, name) -%}
    {%- set values = var(name, []) or [] -%}
    {%- if values | length == 0 -%}
        false
    {%- else -%}
        coalesce({{ column }} in ({{ sql_literal_list(values) }}), false)
    {%- endif -%}
{%- endmacro %}
