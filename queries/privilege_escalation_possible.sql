-- id: privilege_escalation_possible
-- title: Principal that can raise its own privileges
-- severity: high
-- controls: -
-- needs: authorization_details
-- rationale: A principal that is not an administrator but may rewrite or attach policies, create keys or passwords for others, or pass a role to compute it controls is one step from administrator.
-- remediation: Remove the listed actions or scope them to the principal's own resources (e.g. iam:CreateAccessKey on user/${aws:username}); restrict iam:PassRole to named roles.
with combos (combo, actions) as (
    values ('iam:CreatePolicyVersion', ['iam:CreatePolicyVersion']),
           ('iam:SetDefaultPolicyVersion', ['iam:SetDefaultPolicyVersion']),
           ('iam:AttachUserPolicy', ['iam:AttachUserPolicy']),
           ('iam:AttachGroupPolicy', ['iam:AttachGroupPolicy']),
           ('iam:AttachRolePolicy', ['iam:AttachRolePolicy']),
           ('iam:PutUserPolicy', ['iam:PutUserPolicy']),
           ('iam:PutGroupPolicy', ['iam:PutGroupPolicy']),
           ('iam:PutRolePolicy', ['iam:PutRolePolicy']),
           ('iam:CreateAccessKey', ['iam:CreateAccessKey']),
           ('iam:CreateLoginProfile', ['iam:CreateLoginProfile']),
           ('iam:UpdateLoginProfile', ['iam:UpdateLoginProfile']),
           ('iam:AddUserToGroup', ['iam:AddUserToGroup']),
           ('iam:UpdateAssumeRolePolicy', ['iam:UpdateAssumeRolePolicy']),
           ('iam:PassRole+ec2:RunInstances', ['iam:PassRole', 'ec2:RunInstances']),
           ('iam:PassRole+lambda:CreateFunction', ['iam:PassRole', 'lambda:CreateFunction']),
           ('iam:PassRole+cloudformation:CreateStack', ['iam:PassRole', 'cloudformation:CreateStack']),
           ('iam:PassRole+glue:CreateDevEndpoint', ['iam:PassRole', 'glue:CreateDevEndpoint']),
           ('iam:PassRole+datapipeline:CreatePipeline', ['iam:PassRole', 'datapipeline:CreatePipeline', 'datapipeline:PutPipelineDefinition'])
),
requests as (
    select p.arn as principal_arn, t.action, null::varchar as resource
    from iam_principals p
    cross join (select distinct unnest(actions) as action from combos) t
    where p.principal_type in ('user', 'role')
),
allowed as (
    -- the evaluator: identity policies, boundary and explicit Deny
    select d.principal_arn, d.action,
           list_distinct(list_transform(d.allowed_by, lambda r: regexp_replace(r, '#[0-9]+$', ''))) as refs,
           d.decision = 'conditional' as conditional, d.allowed_by as statements
    from iam_decide('requests') d
    where d.decision <> 'denied'
),
possible as (
    select a.principal_arn, c.combo, flatten(list(a.refs)) as refs, flatten(list(a.statements)) as statements,
           bool_or(a.conditional) as conditional
    from combos c
    cross join (select distinct principal_arn from allowed) p
    join allowed a on a.principal_arn = p.principal_arn and list_contains(c.actions, a.action)
    group by a.principal_arn, c.combo, c.actions
    having count(distinct a.action) = len(c.actions)
)
select coalesce(u.account_id, r.account_id), x.principal_arn, null,
       coalesce(u.user_name, r.role_name) || ' is not an administrator but may ' || string_agg(x.combo, ', ' order by x.combo)
         || ' (granted by ' || array_to_string(list_sort(list_distinct(flatten(list(x.refs)))), ', ') || ')'
         || case when bool_or(x.conditional) then '; some of these are granted only under a Condition, not evaluated here' else '' end,
       json_object('escalations', list(x.combo order by x.combo),
                   'policy_statements', list_sort(list_distinct(flatten(list(x.statements))))),
       null, null, null
from possible x
left join iam_users u on u.arn = x.principal_arn
left join iam_roles r on r.arn = x.principal_arn
where x.principal_arn not in (select principal_arn from iam_administrators)
  -- service-linked roles can be assumed only by their service
  and coalesce(r.path, '') not like '/aws-service-role/%'
group by x.principal_arn, u.account_id, r.account_id, u.user_name, r.role_name
