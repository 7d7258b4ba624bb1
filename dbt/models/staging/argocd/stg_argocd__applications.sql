with

source as (
    select * from {{ source('raw', 'argocd_applications') }}
),

renamed as (
    select
        natural_key as application_key,
        source as source_instance,
        nullif(scope, '-') as repository,
        payload ->> '$.metadata.name' as application,
        payload ->> '$.metadata.namespace' as application_namespace,
        payload ->> '$.spec.project' as project,
        coalesce(
            payload ->> '$.spec.source.repoURL', payload ->> '$.spec.sources[0].repoURL'
        ) as repo_url,
        payload ->> '$.spec.destination.server' as destination_server,
        payload ->> '$.spec.destination.namespace' as destination_namespace,
        payload ->> '$.status.sync.status' as sync_status,
        payload ->> '$.status.health.status' as health_status,
        coalesce(payload ->> '$.status.health.status' = 'Degraded', false) as is_degraded,
        cast(payload ->> '$.status.reconciledAt' as timestamp with time zone) as reconciled_at,
        fetched_at
    from source
)

select * from renamed
