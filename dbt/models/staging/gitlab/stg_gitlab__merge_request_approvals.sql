with

source as (
    select * from {{ source('raw', 'gitlab_merge_request_approvals') }}
),

approvers as (
    select
        natural_key,
        parent_key,
        source,
        scope,
        payload,
        unnest(
            coalesce(json_extract(payload, '$.approved_by[*]'), cast([] as json[]))
        ) as approver
    from source
),

renamed as (
    select
        parent_key || '/approval/' || (approver ->> '$.user.username') as approval_key,
        parent_key as merge_request_key,
        source as source_instance,
        scope as project,
        approver ->> '$.user.username' as approver,
        coalesce(cast(approver ->> '$.user.bot' as boolean), false) as approver_is_bot,
        cast(approver ->> '$.approved_at' as timestamp with time zone) as approved_at,
        cast(payload ->> '$.approvals_required' as integer) as approvals_required,
        cast(payload ->> '$.approved' as boolean) as is_approved,
        cast(payload ->> '$.updated_at' as timestamp with time zone) as approvals_updated_at
    from approvers
)

select * from renamed
