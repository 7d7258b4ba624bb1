{#-
    Portable SQL of the DORA and SLO intermediate models downstream of commit ancestry
    (int_changes, int_incidents, models/slo/intermediate), as in portable.sql: default__ renders
    exactly the DuckDB SQL the models had, spark__ Spark SQL with the same result
    (tests/test_spark_models.py compares them). .sqlfluff has a lint stand-in for each macro.
-#}

{#-
    true when value matches the regex (a partial match), null when value is null (DuckDB
    regexp_matches; regex_matches of sql_helpers.sql is the never-null one). pattern is a Python
    string, rendered with sql_literal(): Spark's string literals read backslash escapes.
-#}
{% macro pm_regexp_matches(value, pattern) -%}
    {{ return(adapter.dispatch('pm_regexp_matches', 'platform_metrics')(value, pattern)) }}
{%- endmacro %}

{% macro default__pm_regexp_matches(value, pattern) -%}
    regexp_matches({{ value }}, {{ sql_literal(pattern) }})
{%- endmacro %}

{% macro spark__pm_regexp_matches(value, pattern) -%}
    ({{ value }} rlike {{ spark__pm_regex_literal(pattern) }})
{%- endmacro %}

{#-
    A join, in a from clause, of one row per element of a list (an expression of the rows before
    it) as table alias with one column: a row whose list is empty or null drops. Spark: a lateral
    explode.
-#}
{% macro pm_cross_join_unnest(list, alias, column) -%}
    {{ return(adapter.dispatch('pm_cross_join_unnest', 'platform_metrics')(list, alias, column)) }}
{%- endmacro %}

{% macro default__pm_cross_join_unnest(list, alias, column) -%}
    cross join
        unnest(
            {{ list }}
        ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__pm_cross_join_unnest(list, alias, column) -%}
    cross join lateral explode({{ list }}) as {{ alias }} ({{ column }})
{%- endmacro %}

{#- true when string starts with prefix (null when either is null). -#}
{% macro pm_starts_with(string, prefix) -%}
    {{ return(adapter.dispatch('pm_starts_with', 'platform_metrics')(string, prefix)) }}
{%- endmacro %}

{% macro default__pm_starts_with(string, prefix) -%}
    starts_with({{ string }}, {{ prefix }})
{%- endmacro %}

{% macro spark__pm_starts_with(string, prefix) -%}
    startswith({{ string }}, {{ prefix }})
{%- endmacro %}

{#- The elements of a list of strings joined by separator (an SQL string), nulls left out. -#}
{% macro pm_list_join(list, separator) -%}
    {{ return(adapter.dispatch('pm_list_join', 'platform_metrics')(list, separator)) }}
{%- endmacro %}

{% macro default__pm_list_join(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__pm_list_join(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}

{#- An instant as seconds since the epoch, a double with the microseconds (DuckDB epoch). -#}
{% macro pm_epoch(ts) -%}
    {{ return(adapter.dispatch('pm_epoch', 'platform_metrics')(ts)) }}
{%- endmacro %}

{% macro default__pm_epoch(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro spark__pm_epoch(ts) -%}
    (unix_micros({{ ts }}) / 1000000D)
{%- endmacro %}

{#-
    A list of the parts of string between separators (a Python string, taken literally; DuckDB
    string_split). Spark's split reads a regex: the separator is escaped.
-#}
{% macro pm_string_split(string, separator) -%}
    {{ return(adapter.dispatch('pm_string_split', 'platform_metrics')(string, separator)) }}
{%- endmacro %}

{% macro default__pm_string_split(string, separator) -%}
    string_split({{ string }}, {{ sql_literal(separator) }})
{%- endmacro %}

{% macro spark__pm_string_split(string, separator) -%}
    split({{ string }}, {{ sql_literal(modules.re.escape(separator)) }})
{%- endmacro %}

{#-
    A join, in a from clause, of one row per instant from start to stop (inclusive) in steps of
    step (an interval literal such as `interval 1 minute`), as table alias with one column (a
    timestamp; DuckDB's generate_series). Spark: a lateral explode of sequence.
-#}
{% macro pm_cross_join_series(start, stop, step, alias, column) -%}
    {{ return(adapter.dispatch('pm_cross_join_series', 'platform_metrics')(
        start, stop, step, alias, column
    )) }}
{%- endmacro %}

{% macro default__pm_cross_join_series(start, stop, step, alias, column) -%}
    cross join
        generate_series(
            {{ start }},
            {{ stop }},
            {{ step }}
        ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__pm_cross_join_series(start, stop, step, alias, column) -%}
    cross join lateral explode(sequence({{ start }}, {{ stop }}, {{ step }})) as {{ alias }} ({{ column }})
{%- endmacro %}

{#-
    A regex (a Python string) as an SQL string literal. DuckDB's RE2 reads \b as an ASCII word
    boundary; Java's (Spark's) counts every Unicode letter and digit as a word character, so a SHA
    glued to an é is a word on DuckDB and not on Spark. On Spark each \b (not itself escaped)
    becomes that ASCII boundary, spelled with lookarounds.
-#}
{% macro pm_regex_literal(pattern) -%}
    {{ return(adapter.dispatch('pm_regex_literal', 'platform_metrics')(pattern)) }}
{%- endmacro %}

{% macro default__pm_regex_literal(pattern) -%}
    {{ sql_literal(pattern) }}
{%- endmacro %}

{% macro spark__pm_regex_literal(pattern) -%}
    {%- set word = '[0-9A-Za-z_]' -%}
    {%- set boundary = '(?:(?<=' ~ word ~ ')(?!' ~ word ~ ')|(?<!' ~ word ~ ')(?=' ~ word ~ '))' -%}
    {{ sql_literal(modules.re.sub('(?<!\\\\)((?:\\\\\\\\)*)\\\\b', '\\g<1>' ~ boundary, pattern)) }}
{%- endmacro %}

{#-
    The interpolated quantile (fraction 0..1) of value as an aggregate that also runs as a window
    function over a frame: DuckDB quantile_cont, Spark percentile (both interpolate linearly, as
    percentile_cont does, and skip nulls).
-#}
{% macro pm_quantile_cont(value, fraction) -%}
    {{ return(adapter.dispatch('pm_quantile_cont', 'platform_metrics')(value, fraction)) }}
{%- endmacro %}

{% macro default__pm_quantile_cont(value, fraction) -%}
    quantile_cont({{ value }}, {{ fraction }})
{%- endmacro %}

{% macro spark__pm_quantile_cont(value, fraction) -%}
    percentile({{ value }}, {{ fraction }})
{%- endmacro %}

{#- A date as a whole number of days since 1970-01-01 (a key that window frames can range over). -#}
{% macro pm_day_number(date) -%}
    {{ return(adapter.dispatch('pm_day_number', 'platform_metrics')(date)) }}
{%- endmacro %}

{% macro default__pm_day_number(date) -%}
    ({{ date }} - date '1970-01-01')
{%- endmacro %}

{% macro spark__pm_day_number(date) -%}
    datediff({{ date }}, date '1970-01-01')
{%- endmacro %}

{#- A bigint from the first 15 hex digits (60 bits) of a string's md5: the same on both engines. -#}
{% macro pm_md5_bigint(text) -%}
    {{ return(adapter.dispatch('pm_md5_bigint', 'platform_metrics')(text)) }}
{%- endmacro %}

{% macro default__pm_md5_bigint(text) -%}
    cast('0x' || left(md5({{ text }}), 15) as bigint)
{%- endmacro %}

{% macro spark__pm_md5_bigint(text) -%}
    cast(conv(left(md5({{ text }}), 15), 16, 10) as bigint)
{%- endmacro %}
