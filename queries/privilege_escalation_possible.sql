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
targets as (
    select distinct unnest(actions) as action from combos
),
stmts as (
    select a.principal_arn, a.is_boundary, a.policy_ref, s.statement_index, s.effect, s.actions, s.not_actions, s.resources, s.condition
    from policy_attachments a
    join policy_statements s using (policy_ref)
    where a.principal_type in ('user', 'role')
),
admins as (
    select principal_arn
    from stmts
    group by principal_arn
    having bool_or(not is_boundary and grants_all(effect, actions, resources))
       and coalesce(bool_or(is_boundary and grants_all(effect, actions, resources)) filter (where is_boundary), true)
),
matches as (
    select st.*, t.action
    from stmts st
    cross join targets t
    where statement_covers(st.actions, st.not_actions, t.action)
),
bounded as (
    select distinct principal_arn from stmts where is_boundary
),
allowed as (
    -- allowed by an identity policy, not denied outright, and inside the boundary if there is one
    select m.principal_arn, m.action, list(distinct m.policy_ref order by m.policy_ref) as refs,
           bool_and(m.condition is not null) as conditional,
           list(distinct m.policy_ref || '#' || m.statement_index order by m.policy_ref || '#' || m.statement_index) as statements
    from matches m
    where m.effect = 'Allow' and not m.is_boundary
      and not exists (select 1 from matches d where d.principal_arn = m.principal_arn and d.action = m.action and d.effect = 'Deny'
                      and not d.is_boundary and d.condition is null and list_contains(d.resources, '*'))
      and (m.principal_arn not in (select principal_arn from bounded)
           or exists (select 1 from matches b where b.principal_arn = m.principal_arn and b.action = m.action and b.is_boundary and b.effect = 'Allow'))
    group by m.principal_arn, m.action
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
where x.principal_arn not in (select principal_arn from admins)
  -- service-linked roles can be assumed only by their service
  and coalesce(r.path, '') not like '/aws-service-role/%'
group by x.principal_arn, u.account_id, r.account_id, u.user_name, r.role_name
