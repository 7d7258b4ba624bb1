{#-
    Portable SQL (docs/scaling.md#dbt-on-spark): the DuckDB-only syntax of the models behind small
    adapter.dispatch macros, prefixed pm_ so they read as this project's macros.

    default__ renders exactly the DuckDB SQL the models wrote before (the DuckDB build is
    unchanged, relation for relation); spark__ renders Spark SQL with the same result, row for row
    (tests/test_spark_models.py compares them). JSON is text on Spark (get_json_object), a JSON
    value on DuckDB. Paths are JSONPath as DuckDB and get_json_object both read them: '$.a.b',
    '$.a[0].b'; a list path has one '[*]'.

    The .sqlfluff file has a lint stand-in for each macro here (the SQL linter has no adapter).
-#}

{#- The text of the JSON value at path (DuckDB ->>): a string unquoted, anything else as JSON. -#}
{% macro pm_json_text(json, path) -%}
    {{ return(adapter.dispatch('pm_json_text', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_text(json, path) -%}
    {{ json }} ->> {{ sql_literal(path) }}
{%- endmacro %}

{% macro spark__pm_json_text(json, path) -%}
    get_json_object({{ json }}, {{ sql_literal(path) }})
{%- endmacro %}

{#- The JSON object or array at path (DuckDB ->); on Spark its JSON text. -#}
{% macro pm_json(json, path) -%}
    {{ return(adapter.dispatch('pm_json', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json(json, path) -%}
    {{ json }} -> {{ sql_literal(path) }}
{%- endmacro %}

{% macro spark__pm_json(json, path) -%}
    get_json_object({{ json }}, {{ sql_literal(path) }})
{%- endmacro %}

{#-
    true when path leads to a value, JSON null included (DuckDB: (json -> path) is not null).
    On Spark the path's last step must be an object key.
-#}
{% macro pm_json_has(json, path) -%}
    {{ return(adapter.dispatch('pm_json_has', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_has(json, path) -%}
    ({{ json }} -> {{ sql_literal(path) }}) is not null
{%- endmacro %}

{% macro spark__pm_json_has(json, path) -%}
    {%- set parent, key = pm_split_json_path(path) -%}
    {%- set object = json if parent == '$' else 'get_json_object(' ~ json ~ ', ' ~ sql_literal(parent) ~ ')' -%}
    coalesce(array_contains(json_object_keys({{ object }}), {{ sql_literal(key) }}), false)
{%- endmacro %}

{#- (parent path, last key) of a path whose last step is an object key: '$.a.b' -> ('$.a', 'b'). -#}
{% macro pm_split_json_path(path) -%}
    {%- set match = modules.re.match('^(\\$.*)\\.([A-Za-z_][A-Za-z0-9_]*)$', path) -%}
    {%- if not match -%}
        {{ exceptions.raise_compiler_error(
            "pm_json_has: the JSON path " ~ path ~ " must end with an object key (.name)"
        ) }}
    {%- endif -%}
    {{ return((match.group(1), match.group(2))) }}
{%- endmacro %}

{#- (array path, element path or none) of a list path: '$.a[*].b' -> ('$.a', '$.b'). -#}
{% macro pm_split_list_path(path) -%}
    {%- set parts = path.split('[*]') -%}
    {%- if parts | length != 2 or not parts[0].startswith('$') -%}
        {{ exceptions.raise_compiler_error(
            "pm_json list macros: the JSON path " ~ path ~ " must have exactly one [*]"
        ) }}
    {%- endif -%}
    {{ return((parts[0], ('$' ~ parts[1]) if parts[1] else none)) }}
{%- endmacro %}

{#- The elements of the JSON array at array_path, as a Spark array of JSON texts. -#}
{% macro pm_spark_json_elements(json, array_path) -%}
    from_json(get_json_object({{ json }}, {{ sql_literal(array_path) }}), 'array<string>')
{%- endmacro %}

{#-
    A list of the strings matched by a path with one [*] (DuckDB json_extract_string): '$.a[*]'
    is every element, '$.a[*].b' every element's b (elements without b are left out, a JSON null
    b is a null). No array there: an empty list.
-#}
{% macro pm_json_string_list(json, path) -%}
    {{ return(adapter.dispatch('pm_json_string_list', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_string_list(json, path) -%}
    json_extract_string({{ json }}, {{ sql_literal(path) }})
{%- endmacro %}

{% macro spark__pm_json_string_list(json, path) -%}
    {%- set array_path, element_path = pm_split_list_path(path) -%}
    {%- set elements = pm_spark_json_elements(json, array_path) -%}
    {%- if element_path is not none -%}
        {%- set elements -%}
            transform(
                filter({{ elements }}, pm_e -> {{ spark__pm_json_has('pm_e', element_path) }}),
                pm_e -> get_json_object(pm_e, {{ sql_literal(element_path) }})
            )
        {%- endset -%}
    {%- endif -%}
    case when {{ json }} is not null then coalesce({{ elements }}, array()) end
{%- endmacro %}

{#- A list of the JSON values matched by a path with one [*] (DuckDB json_extract). -#}
{% macro pm_json_list(json, path) -%}
    {{ return(adapter.dispatch('pm_json_list', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_list(json, path) -%}
    json_extract({{ json }}, {{ sql_literal(path) }})
{%- endmacro %}

{% macro spark__pm_json_list(json, path) -%}
    {%- set array_path, element_path = pm_split_list_path(path) -%}
    {%- if element_path is not none -%}
        {{ exceptions.raise_compiler_error(
            "pm_json_list: " ~ path ~ ": only a path ending in [*] is supported on Spark"
        ) }}
    {%- endif -%}
    case
        when {{ json }} is not null
            then coalesce({{ pm_spark_json_elements(json, array_path) }}, array())
    end
{%- endmacro %}

{#- A JSON array (an expression of JSON type on DuckDB, JSON text on Spark) as a list of JSON. -#}
{% macro pm_cast_json_list(expression) -%}
    {{ return(adapter.dispatch('pm_cast_json_list', 'platform_metrics')(expression)) }}
{%- endmacro %}

{% macro default__pm_cast_json_list(expression) -%}
    cast({{ expression }} as json[])
{%- endmacro %}

{% macro spark__pm_cast_json_list(expression) -%}
    from_json({{ expression }}, 'array<string>')
{%- endmacro %}

{#-
    Whether the JSON value at path is an array. DuckDB: json_type(json, path) = 'ARRAY'; Spark
    has no json_type, and json_array_length is null for anything but an array.
-#}
{% macro pm_json_is_array(json, path) -%}
    {{ return(adapter.dispatch('pm_json_is_array', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_is_array(json, path) -%}
    json_type({{ json }}, {{ sql_literal(path) }}) = 'ARRAY'
{%- endmacro %}

{% macro spark__pm_json_is_array(json, path) -%}
    json_array_length(get_json_object({{ json }}, {{ sql_literal(path) }})) is not null
{%- endmacro %}

{#- Elements of the JSON array at path: null when there is no value, 0 when it is not an array. -#}
{% macro pm_json_array_length(json, path) -%}
    {{ return(adapter.dispatch('pm_json_array_length', 'platform_metrics')(json, path)) }}
{%- endmacro %}

{% macro default__pm_json_array_length(json, path) -%}
    json_array_length({{ json }}, {{ sql_literal(path) }})
{%- endmacro %}

{% macro spark__pm_json_array_length(json, path) -%}
    case
        when {{ spark__pm_json_has(json, path) }}
            then coalesce(json_array_length(get_json_object({{ json }}, {{ sql_literal(path) }})), 0)
    end
{%- endmacro %}

{#-
    agg (min or max) of value over the elements of the JSON array at path that satisfy where (an
    expression of the element); null when there are none. DuckDB: a subquery over unnest, the
    elements named `element` in a table `alias`; Spark: filter and transform of the array.
-#}
{% macro pm_json_list_aggregate(agg, json, path, alias, element, value, where=none) -%}
    {%- if agg not in ('min', 'max') -%}
        {{ exceptions.raise_compiler_error("pm_json_list_aggregate: agg must be min or max") }}
    {%- endif -%}
    {{ return(adapter.dispatch('pm_json_list_aggregate', 'platform_metrics')(
        agg, json, path, alias, element, value, where
    )) }}
{%- endmacro %}

{% macro default__pm_json_list_aggregate(agg, json, path, alias, element, value, where) -%}
    (
        select {{ agg }}({{ value }})
        from
            unnest(
                cast(coalesce({{ json }} -> {{ sql_literal(path) }}, '[]') as json[])
            ) as {{ alias }} ({{ element }})
        {% if where is not none %}where {{ where }}{% endif %}
    )
{%- endmacro %}

{% macro spark__pm_json_list_aggregate(agg, json, path, alias, element, value, where) -%}
    {%- set elements = 'from_json(get_json_object(' ~ json ~ ', ' ~ sql_literal(path) ~ "), 'array<string>')" -%}
    {%- if where is not none -%}
        {%- set elements = 'filter(' ~ elements ~ ', ' ~ element ~ ' -> ' ~ where ~ ')' -%}
    {%- endif -%}
    array_{{ agg }}(transform({{ elements }}, {{ element }} -> {{ value }}))
{%- endmacro %}

{#- A list function's lambda: the elements of list for which predicate (of var) holds. -#}
{% macro pm_list_filter(list, var, predicate) -%}
    {{ return(adapter.dispatch('pm_list_filter', 'platform_metrics')(list, var, predicate)) }}
{%- endmacro %}

{% macro default__pm_list_filter(list, var, predicate) -%}
    list_filter({{ list }}, lambda {{ var }}: {{ predicate }})
{%- endmacro %}

{% macro spark__pm_list_filter(list, var, predicate) -%}
    filter({{ list }}, {{ var }} -> {{ predicate }})
{%- endmacro %}

{#- The first element of a list, null when it is empty (DuckDB lists count from 1). -#}
{% macro pm_list_first(list) -%}
    {{ return(adapter.dispatch('pm_list_first', 'platform_metrics')(list)) }}
{%- endmacro %}

{% macro default__pm_list_first(list) -%}
    {{ list }}[1]
{%- endmacro %}

{% macro spark__pm_list_first(list) -%}
    try_element_at({{ list }}, 1)
{%- endmacro %}

{#- The number of elements of a list, a bigint (Spark's size is an int). -#}
{% macro pm_list_length(list) -%}
    {{ return(adapter.dispatch('pm_list_length', 'platform_metrics')(list)) }}
{%- endmacro %}

{% macro default__pm_list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro spark__pm_list_length(list) -%}
    cast(size({{ list }}) as bigint)
{%- endmacro %}

{#- One row per element of a list, in a select list (rows with an empty or null list drop). -#}
{% macro pm_unnest(list) -%}
    {{ return(adapter.dispatch('pm_unnest', 'platform_metrics')(list)) }}
{%- endmacro %}

{% macro default__pm_unnest(list) -%}
    unnest({{ list }})
{%- endmacro %}

{% macro spark__pm_unnest(list) -%}
    explode({{ list }})
{%- endmacro %}

{#- An empty list literal (cast it to give it a type). -#}
{% macro pm_empty_list() -%}
    {{ return(adapter.dispatch('pm_empty_list', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_empty_list() -%}
    []
{%- endmacro %}

{% macro spark__pm_empty_list() -%}
    array()
{%- endmacro %}

{#-
    Text (a timestamp as a form tool or CSV wrote it) cast to an instant. DuckDB's cast also
    reads dates written with slashes (Google Forms: 2026/06/03 08:30:39); Spark's does not.
-#}
{% macro pm_cast_text_timestamptz(text) -%}
    {{ return(adapter.dispatch('pm_cast_text_timestamptz', 'platform_metrics')(text)) }}
{%- endmacro %}

{% macro default__pm_cast_text_timestamptz(text) -%}
    cast({{ text }} as timestamp with time zone)
{%- endmacro %}

{% macro spark__pm_cast_text_timestamptz(text) -%}
    cast(replace({{ text }}, '/', '-') as timestamp)
{%- endmacro %}

{#- Types. -#}
{% macro pm_timestamptz() -%}
    {{ return(adapter.dispatch('pm_timestamptz', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_timestamptz() -%}
    timestamp with time zone
{%- endmacro %}

{#- Spark's timestamp is an instant (TIMESTAMP_LTZ), shown in the session's zone (UTC). -#}
{% macro spark__pm_timestamptz() -%}
    timestamp
{%- endmacro %}

{% macro pm_string_type() -%}
    {{ return(adapter.dispatch('pm_string_type', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_string_type() -%}
    varchar
{%- endmacro %}

{% macro spark__pm_string_type() -%}
    string
{%- endmacro %}

{% macro pm_string_list_type() -%}
    {{ return(adapter.dispatch('pm_string_list_type', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_string_list_type() -%}
    varchar[]
{%- endmacro %}

{% macro spark__pm_string_list_type() -%}
    array<string>
{%- endmacro %}

{% macro pm_json_list_type() -%}
    {{ return(adapter.dispatch('pm_json_list_type', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_json_list_type() -%}
    json[]
{%- endmacro %}

{% macro spark__pm_json_list_type() -%}
    array<string>
{%- endmacro %}

{#-
    A decimal literal ('1000.0') that is a double on both engines: DuckDB's arithmetic with it
    gives a double, Spark's a decimal unless the literal says D.
-#}
{% macro pm_double_literal(text) -%}
    {{ return(adapter.dispatch('pm_double_literal', 'platform_metrics')(text)) }}
{%- endmacro %}

{% macro default__pm_double_literal(text) -%}
    {{ text }}
{%- endmacro %}

{% macro spark__pm_double_literal(text) -%}
    {{ text }}D
{%- endmacro %}

{#- A double as a bigint, rounded half away from zero (DuckDB's cast rounds; Spark's truncates). -#}
{% macro pm_double_to_bigint(expression) -%}
    {{ return(adapter.dispatch('pm_double_to_bigint', 'platform_metrics')(expression)) }}
{%- endmacro %}

{% macro default__pm_double_to_bigint(expression) -%}
    cast({{ expression }} as bigint)
{%- endmacro %}

{% macro spark__pm_double_to_bigint(expression) -%}
    cast(round({{ expression }}) as bigint)
{%- endmacro %}

{#- Seconds since the epoch (a double) as an instant, to the microsecond (rounded, as DuckDB). -#}
{% macro pm_to_timestamp(seconds) -%}
    {{ return(adapter.dispatch('pm_to_timestamp', 'platform_metrics')(seconds)) }}
{%- endmacro %}

{% macro default__pm_to_timestamp(seconds) -%}
    to_timestamp({{ seconds }})
{%- endmacro %}

{% macro spark__pm_to_timestamp(seconds) -%}
    timestamp_micros(cast(round(({{ seconds }}) * 1000000) as bigint))
{%- endmacro %}

{#- An instant plus a whole number of milliseconds. -#}
{% macro pm_add_milliseconds(ts, milliseconds) -%}
    {{ return(adapter.dispatch('pm_add_milliseconds', 'platform_metrics')(ts, milliseconds)) }}
{%- endmacro %}

{% macro default__pm_add_milliseconds(ts, milliseconds) -%}
    {{ ts }} + to_milliseconds({{ milliseconds }})
{%- endmacro %}

{% macro spark__pm_add_milliseconds(ts, milliseconds) -%}
    timestamp_micros(unix_micros({{ ts }}) + 1000 * ({{ milliseconds }}))
{%- endmacro %}

{#-
    The materialization of the incremental staging models: incremental on DuckDB; on Spark a
    table rebuilt every run, since dbt-spark has no delete+insert and merge needs Delta, Iceberg
    or Hudi (docs/adr/0010-spark-builds-incremental-models-as-tables.md).
-#}
{% macro pm_incremental_materialization() -%}
    {{ return(adapter.dispatch('pm_incremental_materialization', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_incremental_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__pm_incremental_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- Intermediate layer (step 5). -#}

{#-
    The value of `value` on the row with the least (most) `order` of the group (DuckDB arg_min):
    rows where either is null are skipped. Spark's min_by skips a null order only, so a null
    value is given a null order.
-#}
{% macro pm_arg_min(value, order) -%}
    {{ return(adapter.dispatch('pm_arg_min', 'platform_metrics')(value, order)) }}
{%- endmacro %}

{% macro default__pm_arg_min(value, order) -%}
    arg_min({{ value }}, {{ order }})
{%- endmacro %}

{% macro spark__pm_arg_min(value, order) -%}
    min_by({{ value }}, case when {{ value }} is not null then {{ order }} end)
{%- endmacro %}

{% macro pm_arg_max(value, order) -%}
    {{ return(adapter.dispatch('pm_arg_max', 'platform_metrics')(value, order)) }}
{%- endmacro %}

{% macro default__pm_arg_max(value, order) -%}
    arg_max({{ value }}, {{ order }})
{%- endmacro %}

{% macro spark__pm_arg_max(value, order) -%}
    max_by({{ value }}, case when {{ value }} is not null then {{ order }} end)
{%- endmacro %}

{#-
    Whether a list holds value (DuckDB list_contains): null when the list or the value is null,
    else true or false. Spark's array_contains is null, not false, when the value is missing from
    a list that holds a null; array_position skips nulls.
-#}
{% macro pm_list_contains(list, value) -%}
    {{ return(adapter.dispatch('pm_list_contains', 'platform_metrics')(list, value)) }}
{%- endmacro %}

{% macro default__pm_list_contains(list, value) -%}
    list_contains({{ list }}, {{ value }})
{%- endmacro %}

{% macro spark__pm_list_contains(list, value) -%}
    (array_position({{ list }}, {{ value }}) > 0)
{%- endmacro %}

{#- A list of strings as a typed list literal (values: a list of Python strings). -#}
{% macro pm_string_list_literal(values) -%}
    {{ return(adapter.dispatch('pm_string_list_literal', 'platform_metrics')(values)) }}
{%- endmacro %}

{% macro default__pm_string_list_literal(values) -%}
    [{{ sql_literal_list(values) }}]::varchar[]
{%- endmacro %}

{% macro spark__pm_string_list_literal(values) -%}
    cast(array({{ sql_literal_list(values) }}) as array<string>)
{%- endmacro %}

{#-
    A select-list item: one row per element of a list, with its position (a bigint, 1 for the first)
    and the element, named position and element. Rows with an empty or null list drop.
-#}
{% macro pm_unnest_with_position(list, position, element) -%}
    {{ return(adapter.dispatch('pm_unnest_with_position', 'platform_metrics')(
        list, position, element
    )) }}
{%- endmacro %}

{% macro default__pm_unnest_with_position(list, position, element) -%}
    unnest(range(1, len({{ list }}) + 1)) as {{ position }},
    unnest({{ list }}) as {{ element }}
{%- endmacro %}

{% macro spark__pm_unnest_with_position(list, position, element) -%}
    inline(transform({{ list }}, (pm_e, pm_i) -> named_struct(
        {{ sql_literal(position) }}, cast(pm_i + 1 as bigint), {{ sql_literal(element) }}, pm_e
    )))
{%- endmacro %}

{#-
    The text at a JSON path given as an SQL expression (DuckDB json_extract_string with one path):
    a string unquoted, anything else as JSON, null for JSON null or no value.
-#}
{% macro pm_json_text_at(json, path_expression) -%}
    {{ return(adapter.dispatch('pm_json_text_at', 'platform_metrics')(json, path_expression)) }}
{%- endmacro %}

{% macro default__pm_json_text_at(json, path_expression) -%}
    json_extract_string({{ json }}, {{ path_expression }})
{%- endmacro %}

{% macro spark__pm_json_text_at(json, path_expression) -%}
    get_json_object({{ json }}, {{ path_expression }})
{%- endmacro %}

{#-
    Whole seconds from start to end, counted as DuckDB's date_diff('second', ...) counts them:
    the difference of the two instants' epoch seconds (each truncated), a bigint.
-#}
{% macro pm_diff_seconds(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('pm_diff_seconds', 'platform_metrics')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__pm_diff_seconds(start_ts, end_ts) -%}
    date_diff('second', {{ start_ts }}, {{ end_ts }})
{%- endmacro %}

{% macro spark__pm_diff_seconds(start_ts, end_ts) -%}
    (unix_seconds({{ end_ts }}) - unix_seconds({{ start_ts }}))
{%- endmacro %}

{#-
    An instant as whole epoch seconds, a bigint: DuckDB casts epoch()'s double, rounding half to
    even (x.5 s goes to the even second); Spark's bround rounds the same way.
-#}
{% macro pm_epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('pm_epoch_seconds', 'platform_metrics')(ts)) }}
{%- endmacro %}

{% macro default__pm_epoch_seconds(ts) -%}
    cast(epoch({{ ts }}) as bigint)
{%- endmacro %}

{% macro spark__pm_epoch_seconds(ts) -%}
    cast(bround(unix_micros({{ ts }}) / 1000000D) as bigint)
{%- endmacro %}

{#- An instant plus a whole number of minutes (an expression), to the microsecond. -#}
{% macro pm_add_minutes(ts, minutes) -%}
    {{ return(adapter.dispatch('pm_add_minutes', 'platform_metrics')(ts, minutes)) }}
{%- endmacro %}

{% macro default__pm_add_minutes(ts, minutes) -%}
    {{ ts }} + to_minutes({{ minutes }})
{%- endmacro %}

{% macro spark__pm_add_minutes(ts, minutes) -%}
    timestamp_micros(unix_micros({{ ts }}) + 60000000L * ({{ minutes }}))
{%- endmacro %}

{#- A ranking window function (row_number, rank, dense_rank) as a bigint: Spark's is an int. -#}
{% macro pm_rank_bigint(rank_expression) -%}
    {{ return(adapter.dispatch('pm_rank_bigint', 'platform_metrics')(rank_expression)) }}
{%- endmacro %}

{% macro default__pm_rank_bigint(rank_expression) -%}
    {{ rank_expression }}
{%- endmacro %}

{% macro spark__pm_rank_bigint(rank_expression) -%}
    cast({{ rank_expression }} as bigint)
{%- endmacro %}

{#-
    After an ascending order-by key that may be null: nulls sort last, as DuckDB sorts them by
    default (Spark sorts them first when ascending). Renders nothing on DuckDB.
-#}
{% macro pm_nulls_last() -%}
    {{ return(adapter.dispatch('pm_nulls_last', 'platform_metrics')()) }}
{%- endmacro %}

{% macro default__pm_nulls_last() -%}
{%- endmacro %}

{% macro spark__pm_nulls_last() -%}
    nulls last
{%- endmacro %}

{#- The mean of the non-null values among columns (a list of SQL expressions); null when all are
    null (DuckDB list_avg of a list literal). -#}
{% macro pm_list_avg(columns) -%}
    {{ return(adapter.dispatch('pm_list_avg', 'platform_metrics')(columns)) }}
{%- endmacro %}

{% macro default__pm_list_avg(columns) -%}
    list_avg([{{ columns | join(', ') }}])
{%- endmacro %}

{% macro spark__pm_list_avg(columns) -%}
    {%- set values = 'array_compact(array(' ~ (columns | join(', ')) ~ '))' -%}
    aggregate({{ values }}, cast(0 as double), (total, value) -> total + value)
    / nullif(size({{ values }}), 0)
{%- endmacro %}

{#- ts plus a whole number of seconds (a bigint expression), to the microsecond: DuckDB's
    ts + to_seconds(n). -#}
{% macro pm_add_whole_seconds(ts, seconds) -%}
    {{ return(adapter.dispatch('pm_add_whole_seconds', 'platform_metrics')(ts, seconds)) }}
{%- endmacro %}

{% macro default__pm_add_whole_seconds(ts, seconds) -%}
    {{ ts }} + to_seconds({{ seconds }})
{%- endmacro %}

{% macro spark__pm_add_whole_seconds(ts, seconds) -%}
    timestamp_micros(unix_micros({{ ts }}) + 1000000L * ({{ seconds }}))
{%- endmacro %}
