-- id: trust_any_principal
-- title: Role assumable by any principal
-- severity: critical
-- controls: -
-- needs: authorization_details
-- rationale: A trust policy naming Principal "*" lets any AWS account in the world assume the role; only a condition on the caller's organization, account or ARN closes it.
-- remediation: Name the accounts or roles that need access in the trust policy, and add sts:ExternalId or aws:PrincipalOrgID conditions.
select r.account_id, r.arn, null,
       r.role_name || ' can be assumed by any principal (Principal '
         || case when t.principal_kind = '*' then '"*"' else '{"' || t.principal_kind || '": "*"}' end || ', statement '
         || t.statement_index || ')'
         || case when len(condition_keys(t.condition)) = 0 then ' without conditions'
                 else ' with conditions on ' || array_to_string(condition_keys(t.condition), ', ') end,
       json_object('role_trust', json_object('role_arn', r.arn, 'statement_index', t.statement_index, 'principal', t.principal_value, 'condition', t.condition),
                   'file_id', r.file_id),
       null, null, null
from role_trust t
join iam_roles r on r.arn = t.role_arn
where t.effect = 'Allow' and not t.not_principal
  and (t.principal_kind = '*' or (t.principal_kind = 'AWS' and t.principal_value = '*'))
  -- a condition naming the caller's organization, account or ARN closes the door
  and not list_has_any(condition_keys(t.condition), ['aws:principalorgid', 'aws:principalorgpaths', 'aws:principalaccount',
      'aws:principalarn', 'aws:sourceaccount', 'aws:sourcearn', 'aws:sourceorgid', 'aws:sourceorgpaths'])
qualify row_number() over (partition by r.arn order by t.statement_index, t.principal_kind) = 1
