{#-
    Generic test: every non-null value of the column lies within [min_value, max_value].
    Either bound may be omitted (none), e.g. `value_between: {min_value: 0}` for "never negative".
-#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }} as out_of_range_value
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {% if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endtest %}
