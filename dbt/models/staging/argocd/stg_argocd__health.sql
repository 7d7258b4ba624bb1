{#-
    Argo CD application health over time: one row per change a sync saw in an application's
    `status.health` (raw.argocd_health, written only when the status differs from the last one
    recorded). changed_at: Argo CD's `lastTransitionTime` where the server sends it, else when the
    sync saw the new status (as precise as the sync schedule).
-#}

with

source as (
    select * from {{ source('raw', 'argocd_health') }}
),

renamed as (
    select
        natural_key as health_key,
        source as source_instance,
        parent_key as application_key,
        nullif(scope, '-') as repository,
        split_part(parent_key, '/', 2) as application,
        {{ pm_json_text('payload', '$.status') }} as health_status,
        {{ pm_json_text('payload', '$.message') }} as message,
        cast(
            {{ pm_json_text('payload', '$.lastTransitionTime') }} as {{ pm_timestamptz() }}
        ) as last_transition_at,
        fetched_at as observed_at
    from source
),

final as (
    select
        *,
        coalesce(last_transition_at, observed_at) as changed_at
    from renamed
)

select * from final
