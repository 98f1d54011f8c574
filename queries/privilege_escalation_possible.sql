-- id: privilege_escalation_possible
-- title: Principal that can make itself an administrator
-- severity: high
-- controls: -
-- needs: authorization_details
-- rationale: A principal that is not an administrator but may rewrite its own policies, act as a more privileged user, pass a more privileged role to compute it controls, or assume roles that lead to one is an administrator in waiting.
-- remediation: Remove the listed actions or scope them to resources that lead nowhere (e.g. iam:CreateAccessKey on user/${aws:username}, iam:PassRole on named roles no more privileged than the caller); tighten the trust policies on the path.
-- The paths come from analysis/escalation.sql over the method table
-- escalation_methods.tsv and the policy evaluator; those that need a
-- condition are privilege_escalation_conditional.
select p.account_id, e.principal_arn, null,
       p.name || ' is not an administrator but can become one: ' || esc_path_text(e.path)
         || case when e.path[-1]."to" like '%:group/%' then ', a group whose policies lead to administrator'
                 when e.path[-1]."to" is not null then ', an administrator' else '' end
         || ' (granted by ' || array_to_string(list_sort(list_distinct(flatten(list_transform(e.path, lambda h: list_transform(h.policy_statements,
                lambda s: regexp_replace(s, '#[0-9]+$', '')))))), ', ') || ')'
         || case when len(e.unconditional_methods) > 1 then '; methods: ' || array_to_string(e.unconditional_methods, ', ') else '' end,
       json_object('escalations', e.unconditional_methods,
                   'path', list_transform(e.path, lambda h: {'from': h."from", 'method': h.method, 'to': h."to", 'policy_statements': h.policy_statements}),
                   'policy_statements', list_sort(list_distinct(flatten(list_transform(e.path, lambda h: h.policy_statements))))),
       null, null, null
from esc_paths e
join iam_principals p on p.arn = e.principal_arn
where not e.conditional
