with

source as (
    select * from {{ source('raw', 'github_repositories') }}
),

renamed as (
    select
        natural_key as repository,
        source as source_instance,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as repository_id,
        {{ pm_json_text('payload', '$.owner.login') }} as owner,
        {{ pm_json_text('payload', '$.name') }} as repository_name,
        {{ pm_json_text('payload', '$.default_branch') }} as default_branch,
        cast({{ pm_json_text('payload', '$.private') }} as boolean) as is_private,
        cast({{ pm_json_text('payload', '$.archived') }} as boolean) as is_archived,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.pushed_at') }} as {{ pm_timestamptz() }}) as pushed_at,
        {{ pm_json_string_list('payload', '$.topics[*]') }} as topics,
        fetched_at
    from source
)

select * from renamed
