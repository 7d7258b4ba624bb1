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
        list_filter(
            cast(payload -> '$.actions' as json[]),
            lambda a: (a -> '$.lastBuiltRevision.SHA1') is not null
        )[1] as build_data,
        list_filter(
            cast(payload -> '$.actions' as json[]),
            lambda a: (a -> '$.causes') is not null
        )[1] -> '$.causes[0]' as cause
    from source
),

renamed as (
    select
        source.natural_key as build_key,
        source.source as source_instance,
        source.scope as job_full_name,
        cast(source.payload ->> '$.number' as bigint) as build_number,
        source.payload ->> '$._class' as build_class,
        source.payload ->> '$.fullDisplayName' as display_name,
        source.payload ->> '$.result' as result,
        coalesce(cast(source.payload ->> '$.building' as boolean), false) as is_building,
        to_timestamp(cast(source.payload ->> '$.timestamp' as bigint) / 1000.0) as started_at,
        cast(source.payload ->> '$.duration' as bigint) / 1000.0 as duration_seconds,
        git.build_data ->> '$.lastBuiltRevision.SHA1' as commit_sha,
        git.build_data ->> '$.lastBuiltRevision.branch[0].name' as built_ref,
        git.build_data ->> '$.remoteUrls[0]' as remote_url,
        git.cause ->> '$.shortDescription' as cause,
        git.cause ->> '$._class' as cause_class,
        git.cause ->> '$.userId' as started_by
    from source
    left join git on source.natural_key = git.natural_key
),

final as (
    select
        *,
        case
            when not is_building
                then started_at + to_milliseconds(cast(duration_seconds * 1000 as bigint))
        end as finished_at,
        regexp_replace(built_ref, '^(refs/remotes/[^/]+/|refs/heads/|origin/)', '') as branch,
        nullif(regexp_extract(
            remote_url,
            '^(?:[a-z+]+://)?(?:[^@/]+@)?[^/:]+[:/](?:[0-9]+/)?(.+?)(?:\.git)?/?$',
            1
        ), '') as repository
    from renamed
)

select * from final
