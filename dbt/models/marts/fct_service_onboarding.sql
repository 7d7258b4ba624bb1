{#-
    New services: one row per configured service whose first repository was created inside the
    data window (at or after the earliest production deployment in the warehouse, so that its
    first deployment, if any, is in the data), with its time to first successful production
    deployment (fct_deployments). A service never deployed keeps a null first_deployed_at.
-#}

with

services as (
    select * from {{ ref('int_platform_services') }}
),

months as (
    select * from {{ ref('int_platform_months') }}
),

deployments as (
    select * from {{ ref('fct_deployments') }}
),

data_window as (
    select min(data_start_at) as data_start_at
    from months
),

new_services as (
    select services.*
    from services
    cross join data_window
    where services.created_at >= data_window.data_start_at
),

first_deployments as (
    select
        new_services.service,
        min(deployments.deployed_at) as first_deployed_at,
        {{ pm_arg_min('deployments.deployment_id', 'deployments.deployed_at') }}
            as first_deployment_id
    from new_services
    inner join deployments
        on
            new_services.service = deployments.service
            and deployments.status = 'success'
            and new_services.created_at <= deployments.deployed_at
    group by new_services.service
),

final as (
    select
        new_services.service,
        new_services.team,
        new_services.tier,
        new_services.is_eligible,
        new_services.repository,
        new_services.created_at,
        first_deployments.first_deployed_at,
        first_deployments.first_deployment_id,
        {{ hours_between('new_services.created_at', 'first_deployments.first_deployed_at') }}
        * 60 as time_to_first_deployment_minutes,
        {{ period_start('month', 'new_services.created_at') }} as created_month
    from new_services
    left join first_deployments
        on new_services.service = first_deployments.service
)

select * from final
