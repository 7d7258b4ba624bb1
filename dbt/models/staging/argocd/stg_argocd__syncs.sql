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
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as history_id,
        coalesce(
            {{ pm_json_text('payload', '$.revision') }},
            {{ pm_json_text('payload', '$.revisions[0]') }}
        ) as revision,
        coalesce(
            {{ pm_json_text('payload', '$.source.repoURL') }},
            {{ pm_json_text('payload', '$.sources[0].repoURL') }}
        ) as repo_url,
        coalesce(
            {{ pm_json_text('payload', '$.source.path') }},
            {{ pm_json_text('payload', '$.sources[0].path') }}
        ) as source_path,
        coalesce(
            {{ pm_json_text('payload', '$.source.targetRevision') }},
            {{ pm_json_text('payload', '$.sources[0].targetRevision') }}
        ) as target_revision,
        {{ pm_json_text('payload', '$.initiatedBy.username') }} as initiated_by,
        coalesce(
            cast({{ pm_json_text('payload', '$.initiatedBy.automated') }} as boolean), false
        ) as is_automated,
        cast(
            {{ pm_json_text('payload', '$.deployStartedAt') }} as {{ pm_timestamptz() }}
        ) as deploy_started_at,
        cast({{ pm_json_text('payload', '$.deployedAt') }} as {{ pm_timestamptz() }}) as deployed_at
    from source
)

select * from renamed
