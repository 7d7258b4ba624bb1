{#-
    Survey scoring helpers (docs/metrics.md#developer-experience). Everything they need comes from
    the survey_* vars, which the pipeline fills from pipelines/surveys/instrument.yaml. Each has a
    lint stand-in in the repository's .sqlfluff.
-#}

{#- A survey var (a list, a mapping or a number). -#}
{% macro survey_var(name) -%}
    {{ return(var(name)) }}
{%- endmacro %}

{#- The instrument's items as a relation (item_id, kind, construct, is_reversed). -#}
{% macro survey_items() -%}
    select * from (
        values
        {%- for item in var('survey_items') %}
            ({{ sql_literal(item['id']) }}, {{ sql_literal(item.get('kind', 'likert')) }},
            {{ sql_literal(item.get('construct', '')) }}, {{ 'true' if item.get('reverse') else 'false' }})
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as items (item_id, kind, construct, is_reversed)
{%- endmacro %}

{#- The distinct Likert constructs, in instrument order. -#}
{% macro survey_constructs() -%}
    {%- set constructs = [] -%}
    {%- for item in var('survey_items') -%}
        {%- if item.get('kind', 'likert') == 'likert' and item.get('construct')
            and item['construct'] not in constructs -%}
            {%- do constructs.append(item['construct']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(constructs) }}
{%- endmacro %}

{#- Hours lost per week that an hours_lost answer stands for (its bucket's value), else null. -#}
{% macro survey_hours_lost(item_column, answer_column) -%}
    case
        when false then cast(null as double)
    {%- for item in var('survey_items') if item.get('kind') == 'hours_lost' %}
        {%- for label, hours in item['hours'].items() %}
        when {{ item_column }} = {{ sql_literal(item['id']) }} and {{ answer_column }} = {{ sql_literal(label) }}
            then cast({{ hours }} as double)
        {%- endfor %}
    {%- endfor %}
    end
{%- endmacro %}

{#- The configured success metrics (var('scorecard')) as a relation, in config order. -#}
{% macro scorecard_targets() -%}
    select * from (
        values
        {%- for entry in var('scorecard') %}
            ({{ loop.index }}, {{ sql_literal(entry['metric']) }},
            {{ sql_literal(entry.get('label') or '') }}, cast({{ entry['target'] }} as double),
            {{ sql_literal(entry['op']) }},
            {% if entry.get('at_risk_within') not in (none, '') -%}
                cast({{ entry['at_risk_within'] }} as double)
            {%- else -%}
                cast(null as double)
            {%- endif %},
            {{ sql_literal(entry.get('scope') or 'org') }})
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    ) as targets (position, metric, label, target, op, at_risk_within, scope)
{%- endmacro %}
