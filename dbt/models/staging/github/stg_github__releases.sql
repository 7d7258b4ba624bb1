with

source as (
    select * from {{ source('raw', 'github_releases') }}
),

renamed as (
    select
        natural_key as release_key,
        source as source_instance,
        scope as repository,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as release_id,
        {{ pm_json_text('payload', '$.tag_name') }} as tag_name,
        {{ pm_json_text('payload', '$.name') }} as release_name,
        {{ pm_json_text('payload', '$.target_commitish') }} as target_commitish,
        {{ pm_json_text('payload', '$.author.login') }} as author,
        cast({{ pm_json_text('payload', '$.draft') }} as boolean) as is_draft,
        cast({{ pm_json_text('payload', '$.prerelease') }} as boolean) as is_prerelease,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast(
            {{ pm_json_text('payload', '$.published_at') }} as {{ pm_timestamptz() }}
        ) as published_at
    from source
)

select * from renamed
