with

source as (
    select * from {{ source('raw', 'gitlab_projects') }}
),

renamed as (
    select
        source as source_instance,
        scope as project,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as project_id,
        {{ pm_json_text('payload', '$.namespace.full_path') }} as namespace,
        {{ pm_json_text('payload', '$.path') }} as project_name,
        {{ pm_json_text('payload', '$.default_branch') }} as default_branch,
        {{ pm_json_text('payload', '$.visibility') }} as visibility,
        cast({{ pm_json_text('payload', '$.archived') }} as boolean) as is_archived,
        {{ pm_json_text('payload', '$.web_url') }} as web_url,
        {{ pm_json_string_list('payload', '$.topics[*]') }} as topics,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.last_activity_at') }} as {{ pm_timestamptz() }}
        ) as last_activity_at,
        fetched_at
    from source
)

select * from renamed
