-- id: privilege_escalation_conditional
-- title: Principal that can make itself an administrator under a condition
-- severity: medium
-- controls: -
-- needs: authorization_details
-- rationale: Every path this principal has to administrator needs a policy condition (MFA, source address, tags, a trust condition) that credtrail cannot judge from the export; where the condition can be met, it is an escalation.
-- remediation: Check that the conditions listed cannot be met by the principal; otherwise remove or scope the actions on the path as for privilege_escalation_possible.
-- Paths as in privilege_escalation_possible; these need a condition at
-- some step (a date condition that can never hold grants nothing and is
-- not reported at all).
select p.account_id, e.principal_arn, null,
       p.name || ' is not an administrator but can become one under a condition: ' || esc_path_text(e.path)
         || case when e.path[-1]."to" like '%:group/%' then ', a group whose policies lead to administrator'
                 when e.path[-1]."to" is not null then ', an administrator' else '' end
         || ' (granted by ' || array_to_string(list_sort(list_distinct(flatten(list_transform(e.path, lambda h: list_transform(h.policy_statements,
                lambda s: regexp_replace(s, '#[0-9]+$', '')))))), ', ') || ')'
         || case when len(e.methods) > 1 then '; methods: ' || array_to_string(e.methods, ', ') else '' end,
       json_object('escalations', e.methods,
                   'path', list_transform(e.path, lambda h: {'from': h."from", 'method': h.method, 'to': h."to",
                                                              'conditional': h.conditional, 'policy_statements': h.policy_statements}),
                   'policy_statements', list_sort(list_distinct(flatten(list_transform(e.path, lambda h: h.policy_statements))))),
       null, null, null
from esc_paths e
join iam_principals p on p.arn = e.principal_arn
where e.conditional
