with

source as (
    select * from {{ source('raw', 'argocd_applications') }}
),

renamed as (
    select
        natural_key as application_key,
        source as source_instance,
        nullif(scope, '-') as repository,
        {{ pm_json_text('payload', '$.metadata.name') }} as application,
        {{ pm_json_text('payload', '$.metadata.namespace') }} as application_namespace,
        {{ pm_json_text('payload', '$.spec.project') }} as project,
        coalesce(
            {{ pm_json_text('payload', '$.spec.source.repoURL') }},
            {{ pm_json_text('payload', '$.spec.sources[0].repoURL') }}
        ) as repo_url,
        {{ pm_json_text('payload', '$.spec.destination.server') }} as destination_server,
        {{ pm_json_text('payload', '$.spec.destination.namespace') }} as destination_namespace,
        {{ pm_json_text('payload', '$.status.sync.status') }} as sync_status,
        {{ pm_json_text('payload', '$.status.health.status') }} as health_status,
        coalesce(
            {{ pm_json_text('payload', '$.status.health.status') }} = 'Degraded', false
        ) as is_degraded,
        cast(
            {{ pm_json_text('payload', '$.status.reconciledAt') }} as {{ pm_timestamptz() }}
        ) as reconciled_at,
        fetched_at
    from source
)

select * from renamed
