{#-
    Portable SQL of the platform-value marts (docs/metrics.md#platform-value,
    docs/scaling.md#dbt-on-spark): default__ renders exactly the DuckDB SQL these models had;
    spark__ renders Spark SQL with the same result. The .sqlfluff file has a lint stand-in for
    each pm_ macro here.
-#}

{#-
    A JSON object's text (base_json: an object's JSON text, as tojson writes it) with pairs (a
    list of [key, SQL expression]) merged in, as text (DuckDB json_merge_patch(base,
    json_object(...)) cast to varchar): compact, the base's keys first in their order, then the
    pairs' keys; a pair whose value is null is left out (merge patch), the base's own nulls stay.
    On Spark: the base compacted here (below), and the pairs through to_json of a struct, which
    leaves null fields out. The pairs' keys must not be keys of the base, and its numbers must be
    written alike (tojson's 1e-07 is DuckDB's 1e-7).
-#}
{% macro pm_json_merge_text(base_json, pairs) -%}
    {{ return(adapter.dispatch('pm_json_merge_text', 'platform_metrics')(base_json, pairs)) }}
{%- endmacro %}

{% macro default__pm_json_merge_text(base_json, pairs) -%}
    cast(json_merge_patch(
        {{ sql_literal(base_json) }},
        json_object(
            {%- for key, value in pairs %}
            {{ sql_literal(key) }}, {{ value }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
    ) as varchar)
{%- endmacro %}

{% macro spark__pm_json_merge_text(base_json, pairs) -%}
    {#-
        tojson separates with ', ' and ': ' outside strings, and writes a character beyond ASCII
        as a \u escape (a surrogate pair beyond the BMP), which DuckDB writes as UTF-8: those
        escapes are decoded, the others (control characters, quotes, backslashes) kept.
    -#}
    {%- set tokens = modules.re.findall('"(?:[^"\\\\]|\\\\.)*"|[^"]+', base_json) -%}
    {%- set compact = [] -%}
    {%- for token in tokens -%}
        {%- if token.startswith('"') -%}
            {%- set pieces = modules.re.findall(
                '\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[0-9a-fA-F]{4}|\\\\u[0-9a-fA-F]{4}|\\\\.|[^\\\\]+',
                token
            ) -%}
            {%- for piece in pieces -%}
                {%- if piece.startswith('\\u') and piece[2:6] | int(base=16) >= 128 -%}
                    {%- do compact.append(piece.encode('ascii').decode('unicode_escape')
                        .encode('utf-16', 'surrogatepass').decode('utf-16')) -%}
                {%- else -%}
                    {%- do compact.append(piece) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- else -%}
            {%- do compact.append(token | replace(', ', ',') | replace(': ', ':')) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set base_text = compact | join('') -%}
    {%- set patch -%}
        to_json(named_struct(
            {%- for key, value in pairs %}
            {{ sql_literal(key) }}, {{ value }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ))
    {%- endset -%}
    {%- if base_text == '{}' %}
    {{ patch }}
    {%- else %}
    concat(
        {{ sql_literal(base_text[:-1]) }},
        case
            when {{ patch }} = '{}' then '}'
            else concat(',', substr({{ patch }}, 2))
        end
    )
    {%- endif %}
{%- endmacro %}
