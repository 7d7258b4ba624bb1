{#-
    The commit graph's edges: one row per commit and parent, in the parents' order (position 1 is
    the first parent: the branch a merge commit was made on). Built from int_commits, so a code host
    that lists its commits' parents there has its edges here too.
-#}

with

commits as (
    select * from {{ ref('int_commits') }}
),

edges as (
    select
        source,
        source_instance,
        repository,
        sha,
        {{ pm_unnest_with_position('parent_shas', 'parent_position', 'parent_sha') }}
    from commits
    where sha is not null
),

final as (
    select * from edges
)

select * from final
