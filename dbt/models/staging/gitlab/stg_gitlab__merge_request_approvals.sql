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
        {{ pm_unnest(
            'coalesce(' ~ pm_json_list('payload', '$.approved_by[*]')
            ~ ', cast(' ~ pm_empty_list() ~ ' as ' ~ pm_json_list_type() ~ '))'
        ) }} as approver
    from source
),

renamed as (
    select
        parent_key || '/approval/' || ({{ pm_json_text('approver', '$.user.username') }})
            as approval_key,
        parent_key as merge_request_key,
        source as source_instance,
        scope as project,
        {{ pm_json_text('approver', '$.user.username') }} as approver,
        coalesce(
            cast({{ pm_json_text('approver', '$.user.bot') }} as boolean), false
        ) as approver_is_bot,
        cast(
            {{ pm_json_text('approver', '$.approved_at') }} as {{ pm_timestamptz() }}
        ) as approved_at,
        cast(
            {{ pm_json_text('payload', '$.approvals_required') }} as integer
        ) as approvals_required,
        cast({{ pm_json_text('payload', '$.approved') }} as boolean) as is_approved,
        cast(
            {{ pm_json_text('payload', '$.updated_at') }} as {{ pm_timestamptz() }}
        ) as approvals_updated_at
    from approvers
)

select * from renamed
