{#-
    Jenkins builds with the commit each built: the git plugin's build data (the first action with
    `lastBuiltRevision`: a pipeline loading a shared library records that library's checkout
    after the job's own). repository: owner/name parsed from the remote URL
    (https://host/owner/name.git, git@host:owner/name.git, ssh://git@host:port/owner/name.git).
-#}

with

source as (
    select * from {{ source('raw', 'jenkins_builds') }}
),

git as (
    select
        natural_key,
        {{ pm_list_first(pm_list_filter(
            pm_cast_json_list(pm_json('payload', '$.actions')),
            'a',
            pm_json_has('a', '$.lastBuiltRevision.SHA1')
        )) }} as build_data,
        {{ pm_json(
            pm_list_first(pm_list_filter(
                pm_cast_json_list(pm_json('payload', '$.actions')),
                'a',
                pm_json_has('a', '$.causes')
            )),
            '$.causes[0]'
        ) }} as cause
    from source
),

renamed as (
    select
        source.natural_key as build_key,
        source.source as source_instance,
        source.scope as job_full_name,
        cast({{ pm_json_text('source.payload', '$.number') }} as bigint) as build_number,
        {{ pm_json_text('source.payload', '$._class') }} as build_class,
        {{ pm_json_text('source.payload', '$.fullDisplayName') }} as display_name,
        {{ pm_json_text('source.payload', '$.result') }} as result,
        coalesce(
            cast({{ pm_json_text('source.payload', '$.building') }} as boolean), false
        ) as is_building,
        {{ pm_to_timestamp(
            'cast(' ~ pm_json_text('source.payload', '$.timestamp') ~ ' as bigint) / '
            ~ pm_double_literal('1000.0')
        ) }} as started_at,
        cast({{ pm_json_text('source.payload', '$.duration') }} as bigint)
        / {{ pm_double_literal('1000.0') }} as duration_seconds,
        {{ pm_json_text('git.build_data', '$.lastBuiltRevision.SHA1') }} as commit_sha,
        {{ pm_json_text('git.build_data', '$.lastBuiltRevision.branch[0].name') }} as built_ref,
        {{ pm_json_text('git.build_data', '$.remoteUrls[0]') }} as remote_url,
        {{ pm_json_text('git.cause', '$.shortDescription') }} as cause,
        {{ pm_json_text('git.cause', '$._class') }} as cause_class,
        {{ pm_json_text('git.cause', '$.userId') }} as started_by
    from source
    left join git on source.natural_key = git.natural_key
),

final as (
    select
        *,
        case
            when not is_building
                then {{ pm_add_milliseconds(
                    'started_at', pm_double_to_bigint('duration_seconds * 1000')
                ) }}
        end as finished_at,
        regexp_replace(built_ref, '^(refs/remotes/[^/]+/|refs/heads/|origin/)', '') as branch,
        nullif(regexp_extract(
            remote_url,
            {{ sql_literal(
                '^(?:[a-z+]+://)?(?:[^@/]+@)?[^/:]+[:/](?:[0-9]+/)?(.+?)(?:\\.git)?/?$'
            ) }},
            1
        ), '') as repository
    from renamed
)

select * from final
