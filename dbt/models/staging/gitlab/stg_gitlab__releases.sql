with

source as (
    select * from {{ source('raw', 'gitlab_releases') }}
),

renamed as (
    select
        natural_key as release_key,
        source as source_instance,
        scope as project,
        {{ pm_json_text('payload', '$.tag_name') }} as tag_name,
        {{ pm_json_text('payload', '$.name') }} as release_name,
        {{ pm_json_text('payload', '$.commit.id') }} as commit_sha,
        {{ pm_json_text('payload', '$.author.username') }} as author,
        coalesce(
            cast({{ pm_json_text('payload', '$.upcoming_release') }} as boolean), false
        ) as is_upcoming,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.released_at') }} as {{ pm_timestamptz() }}
        ) as released_at
    from source
)

select * from renamed
