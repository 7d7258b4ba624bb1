{#-
    Argo CD's sync history: one row per sync an application recorded (status.history), i.e. per
    deployment. Argo CD records a sync only when it succeeded, so every row is a success; the
    revision is the commit synced (for a multi-source application the first of `revisions`).
-#}

with

source as (
    select * from {{ source('raw', 'argocd_sync_history') }}
),

renamed as (
    select
        natural_key as sync_key,
        source as source_instance,
        parent_key as application_key,
        nullif(scope, '-') as repository,
        split_part(parent_key, '/', 2) as application,
        cast(payload ->> '$.id' as bigint) as history_id,
        coalesce(payload ->> '$.revision', payload ->> '$.revisions[0]') as revision,
        coalesce(
            payload ->> '$.source.repoURL', payload ->> '$.sources[0].repoURL'
        ) as repo_url,
        coalesce(payload ->> '$.source.path', payload ->> '$.sources[0].path') as source_path,
        coalesce(
            payload ->> '$.source.targetRevision', payload ->> '$.sources[0].targetRevision'
        ) as target_revision,
        payload ->> '$.initiatedBy.username' as initiated_by,
        coalesce(cast(payload ->> '$.initiatedBy.automated' as boolean), false) as is_automated,
        cast(payload ->> '$.deployStartedAt' as timestamp with time zone) as deploy_started_at,
        cast(payload ->> '$.deployedAt' as timestamp with time zone) as deployed_at
    from source
)

select * from renamed
