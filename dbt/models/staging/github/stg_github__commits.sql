{{
    config(
        materialized=pm_incremental_materialization(),
        unique_key=['source_instance', 'commit_key'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
with

source as (
    select * from {{ source('raw', 'github_commits') }}
    {{ raw_rows_changed() }}
),

renamed as (
    select
        natural_key as commit_key,
        source as source_instance,
        scope as repository,
        {{ pm_json_text('payload', '$.sha') }} as sha,
        {{ pm_json_text('payload', '$.author.login') }} as author_login,
        {{ pm_json_text('payload', '$.commit.author.name') }} as author_name,
        {{ pm_json_text('payload', '$.commit.message') }} as message,
        cast(
            {{ pm_json_text('payload', '$.commit.author.date') }} as {{ pm_timestamptz() }}
        ) as authored_at,
        cast(
            {{ pm_json_text('payload', '$.commit.committer.date') }} as {{ pm_timestamptz() }}
        ) as committed_at,
        coalesce(
            cast(
                {{ pm_json_string_list('payload', '$.parents[*].sha') }}
                as {{ pm_string_list_type() }}
            ),
            cast({{ pm_empty_list() }} as {{ pm_string_list_type() }})
        ) as parent_shas,
        coalesce(
            cast({{ pm_json_array_length('payload', '$.parents') }} as integer), 0
        ) as n_parents,
        {{ incremental_columns() }}
    from source
)

select * from renamed
