{#-
    period_fully_synced(period_start_col): a boolean SQL expression, true when the period starting
    at period_start_col (a date or timestamp in var('timezone'), as period_start() gives) lies in
    fully synced history: it starts at or after the organisation-wide synced_from of
    int_sync_coverage, or every source's backfill is complete, or no coverage is recorded at all.
    A period still being backfilled is false. AND it into a mart's is_complete.
-#}
{% macro period_fully_synced(period_start_col) -%}
    coalesce((
        select
            sync_coverage.is_complete
            or cast({{ period_start_col }} as timestamp)
            >= {{ to_local_timestamp('sync_coverage.synced_from') }}
        from {{ ref('int_sync_coverage') }} as sync_coverage
        where sync_coverage.is_org_wide
    ), true)
{%- endmacro %}
