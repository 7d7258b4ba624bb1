{#-
    How far back the warehouse is fully synced: one row per source instance, scope and entity
    (stg_sync__coverage), and one organisation-wide row (is_org_wide): the earliest instant from
    which every recorded scope and entity is fully synced (the latest of their synced_from), and
    whether every one of them has reached its backfill target. period_fully_synced()
    (macros/sync_coverage.sql) reads the organisation-wide row. No row at all when nothing records
    coverage (no GitHub source, or a warehouse synced before coverage existed): complete.
-#}

with

coverage as (
    select * from {{ ref('stg_sync__coverage') }}
),

per_entity as (
    select
        source_instance,
        scope,
        entity,
        synced_from,
        synced_to,
        target_from,
        is_complete,
        false as is_org_wide
    from coverage
),

org_wide as (
    select
        'all' as source_instance,
        'all' as scope,
        'all' as entity,
        max(synced_from) as synced_from,
        min(synced_to) as synced_to,
        max(target_from) as target_from,
        bool_and(is_complete) as is_complete,
        true as is_org_wide
    from coverage
    having count(*) > 0
)

select * from per_entity
union all
select * from org_wide
