-- id: service_trust_without_source_condition
-- title: Role trusted by an AWS service without aws:SourceAccount or aws:SourceArn (confused deputy)
-- severity: low
-- controls: -
-- needs: authorization_details
-- rationale: A service that acts for many customers assumes the role whenever any resource names it; without aws:SourceAccount or aws:SourceArn in the trust, a resource in another account that learns the role's ARN can make the service act with the role's permissions.
-- remediation: Add to the trust statement a condition aws:SourceAccount equal to the account (or aws:SourceArn naming the resources that use the role).
-- Services whose documentation asks for aws:SourceAccount / aws:SourceArn in
-- the trust policy of the roles they assume (each service's user guide,
-- section "Cross-service confused deputy prevention" or its service-role
-- page). Compute services that hand the role to code in the account (EC2,
-- Lambda) are not listed: they set no source context when assuming it.
with services (service, source) as (
    values ('appstream.amazonaws.com', 'docs.aws.amazon.com/appstream2/latest/developerguide/example-fleet-machine.html'),
           ('codebuild.amazonaws.com', 'docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html'),
           ('config.amazonaws.com', 'docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html'),
           ('ecs-tasks.amazonaws.com', 'docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html'),
           ('iot.amazonaws.com', 'docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html'),
           ('personalize.amazonaws.com', 'docs.aws.amazon.com/personalize/latest/dg/cross-service-confused-deputy-prevention.html'),
           ('sagemaker.amazonaws.com', 'docs.aws.amazon.com/sagemaker/latest/dg/security-confused-deputy-prevention.html'),
           ('ssm.amazonaws.com', 'docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-service-role.html'),
           ('states.amazonaws.com', 'docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html'),
           ('transfer.amazonaws.com', 'docs.aws.amazon.com/transfer/latest/userguide/confused-deputy.html')
)
select r.account_id, r.arn, t.principal_value,
       r.role_name || ' can be assumed by ' || t.principal_value || ' with no aws:SourceAccount or aws:SourceArn condition'
         || case when t.condition is not null then ' (its condition names only ' || array_to_string(condition_keys(t.condition), ', ') || ')' else '' end,
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value),
                   'guidance', s.source, 'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
join services s on s.service = t.principal_value
where t.effect = 'Allow' and not t.not_principal and t.principal_kind = 'Service'
  and not list_contains(condition_keys(t.condition), 'aws:sourceaccount')
  and not list_contains(condition_keys(t.condition), 'aws:sourcearn')
  -- service-linked roles are created and trusted by their service alone
  and coalesce(r.path, '') not like '/aws-service-role/%'
qualify row_number() over (partition by r.arn, t.principal_value order by t.statement_index) = 1
