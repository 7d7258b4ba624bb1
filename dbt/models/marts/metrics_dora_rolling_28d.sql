{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['period_start', 'scope', 'scope_name'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns'
    )
}}
{{ dora_metrics('rolling_28d') }}
