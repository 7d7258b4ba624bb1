with

source as (
    select * from {{ source('raw', 'github_issues') }}
),

renamed as (
    select
        natural_key as issue_key,
        source as source_instance,
        scope as repository,
        cast({{ pm_json_text('payload', '$.id') }} as bigint) as issue_id,
        cast({{ pm_json_text('payload', '$.number') }} as integer) as issue_number,
        {{ pm_json_text('payload', '$.title') }} as title,
        {{ pm_json_text('payload', '$.body') }} as body,
        {{ pm_json_text('payload', '$.state') }} as state,
        {{ pm_json_text('payload', '$.state_reason') }} as state_reason,
        {{ pm_json_text('payload', '$.user.login') }} as author,
        {{ pm_json_string_list('payload', '$.labels[*].name') }} as labels,
        cast({{ pm_json_text('payload', '$.created_at') }} as {{ pm_timestamptz() }}) as created_at,
        cast({{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}) as updated_at,
        cast({{ pm_json_text('payload', '$.closed_at') }} as {{ pm_timestamptz() }}) as closed_at
    from source
)

select * from renamed
