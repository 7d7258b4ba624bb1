{#-
    Seeds on the spark target (docs/scaling.md#dbt-on-spark). dbt-spark 1.11's own
    spark__load_csv_rows sends each value as a query binding, which its session method pastes into
    the SQL without escaping its quotes: a value with an apostrophe (scorecard_measures.csv: "platform's")
    breaks the insert. This one writes every value as a literal through sql_literal() (quotes
    doubled, backslashes kept) and casts it to the column's type, as dbt-spark does. A root-project
    macro takes precedence over the adapter's; DuckDB's seeds do not use it.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(
                        col_name, adapter.convert_type(agate_table, loop.index0)
                    ) -%}
                    {%- set value = row[loop.index0] -%}
                    cast({{ 'null' if value is none else sql_literal(value) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%}
                ){%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
