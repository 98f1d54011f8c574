package report

import (
	"context"
	"fmt"
)

func (b *book) writeCredentials(ctx context.Context) error {
	r := b.r
	maxAge := r.keyMaxAgeDays()
	return b.writeTable(ctx, table{
		sheet: SheetCredentials,
		print: 13, // to Key age
		note: fmt.Sprintf("Every user of the newest credential report of each account, one row per access key (users without keys: one row). Times are UTC; key age in days as of the account's as-of time (Summary: the generation time of its newest credential report), else %s UTC; rotation is due after %d days (key_max_age_days).",
			r.asOfText("2006-01-02 15:04"), maxAge),
		columns: []column{
			{"Account", 14, kText}, {"User", 22, kText}, {"ARN", 44, kText}, {"Created (UTC)", 20, kDateTime},
			{"Password enabled", 10, kBool}, {"Password last used (UTC)", 20, kDateTime}, {"Password last used (as written)", 16, kText},
			{"Password last changed (UTC)", 20, kDateTime}, {"MFA active", 9, kBool},
			{"Key slot", 8, kInt}, {"Key active", 9, kBool}, {"Key last rotated (UTC)", 20, kDateTime}, {"Key age (days)", 10, kInt},
			{"Key last used (UTC)", 20, kDateTime}, {"Key last used service", 16, kText}, {"Key last used region", 14, kText},
			{"Rotation", 18, kText}, {"Report generated (UTC)", 20, kDateTime},
		},
		query: `
select u.account_id, u.user_name, u.arn, u.user_creation_time, u.password_enabled, u.password_last_used,
       nullif(u.password_last_used_note, ''), u.password_last_changed, u.mfa_active,
       k.slot, k.active, k.last_rotated,
       case when k.last_rotated is not null then floor((epoch(` + accountAsOfSQL + `) - epoch(k.last_rotated)) / 86400)::bigint end,
       k.last_used_date, k.last_used_service, k.last_used_region,
       case when k.slot is null then null
            when not k.active then 'inactive'
            when k.last_rotated is null then 'unknown'
            when epoch(` + accountAsOfSQL + `) - epoch(k.last_rotated) > ? * 86400 then 'overdue'
            else 'ok' end,
       u.generated_at
from credential_report u
left join access_keys k on k.account_id = u.account_id and k.arn = u.arn
order by u.account_id, u.user_name, u.arn, k.slot nulls first`,
		args: []any{r.AsOf, r.AsOf, maxAge},
		onRow: func(row []any, sheetRow int) {
			if arn, ok := row[2].(string); ok {
				if _, seen := b.credentialRow[arn]; !seen {
					b.credentialRow[arn] = sheetRow
				}
			}
		},
	})
}

func (b *book) writePrincipals(ctx context.Context) error {
	return b.writeTable(ctx, table{
		sheet: SheetPrincipals,
		print: 9, // to Trusted principals
		note:  "Users, roles and groups of the authorization details, with the policies in force on each (inline, managed, through groups) and, for roles, who may assume them. Times are UTC.",
		columns: []column{
			{"Type", 8, kText}, {"Name", 26, kText}, {"ARN", 48, kText}, {"Account", 14, kText}, {"Created (UTC)", 20, kDateTime},
			{"Path", 12, kText}, {"Policies in force", 44, kWrap}, {"Groups / members", 30, kWrap}, {"Trusted principals", 44, kWrap},
			{"Permissions boundary", 30, kText}, {"Role last used (UTC)", 20, kDateTime}, {"Role last used region", 14, kText},
		},
		query: `
with pols as (
  select principal_arn,
         string_agg(coalesce(policy_name, policy_ref) || case when inline then ' (inline)' else '' end
                    || case when via_group_arn is not null then ' via ' || via_group_arn else '' end,
                    chr(10) order by coalesce(policy_name, policy_ref), via_group_arn nulls first) as list
  from policy_attachments where not is_boundary group by principal_arn
), groups_of as (
  select user_arn as arn, string_agg(coalesce(group_name, group_arn), chr(10) order by coalesce(group_name, group_arn)) as list
  from group_members group by user_arn
), members_of as (
  select group_arn as arn, count(*) || ' member(s)' || chr(10) || string_agg(user_arn, chr(10) order by user_arn) as list
  from group_members group by group_arn
), trust as (
  select role_arn as arn,
         string_agg(case when not_principal then 'NOT ' else '' end || effect || ' ' || principal_kind || ': ' || principal_value
                    || case when condition is not null then ' (with condition)' else '' end,
                    chr(10) order by statement_index, principal_kind, principal_value) as list
  from role_trust group by role_arn
), p as (
  select 'user' as type, user_name as name, arn, account_id, create_date, path, permissions_boundary_arn,
         null::timestamptz as last_used, null as last_used_region from iam_users
  union all
  select 'role', role_name, arn, account_id, create_date, path, permissions_boundary_arn, role_last_used, role_last_used_region from iam_roles
  union all
  select 'group', group_name, arn, account_id, create_date, path, null, null, null from iam_groups
)
select p.type, p.name, p.arn, p.account_id, p.create_date, p.path, pols.list,
       coalesce(groups_of.list, members_of.list), trust.list, p.permissions_boundary_arn, p.last_used, p.last_used_region
from p
left join pols on pols.principal_arn = p.arn
left join groups_of on groups_of.arn = p.arn and p.type = 'user'
left join members_of on members_of.arn = p.arn and p.type = 'group'
left join trust on trust.arn = p.arn and p.type = 'role'
order by p.account_id, p.type, p.name, p.arn`,
		onRow: func(row []any, sheetRow int) {
			if arn, ok := row[2].(string); ok {
				b.principalRow[arn] = sheetRow
			}
		},
	})
}

func (b *book) writePolicies(ctx context.Context) error {
	return b.writeTable(ctx, table{
		sheet: SheetPolicies,
		note:  "One row per statement of every inline and customer-managed policy, and of the AWS-managed policies attached in the case (default version). NotAction / NotResource are marked.",
		columns: []column{
			{"Policy", 30, kText}, {"Kind", 16, kText}, {"Policy ARN / ref", 48, kText}, {"Attached to", 9, kInt},
			{"Principals", 44, kWrap}, {"Statement", 9, kInt}, {"Sid", 16, kText}, {"Effect", 8, kText},
			{"Actions", 40, kWrap}, {"Resources", 40, kWrap}, {"Condition", 40, kWrap},
		},
		query: `
with pol as (
  select arn as policy_ref, policy_name, case when aws_managed then 'AWS managed' else 'customer managed' end as kind from iam_policies
  union all
  select policy_ref, policy_name, 'inline' from inline_policies
), att as (
  select policy_ref, count(distinct principal_arn) as n, string_agg(distinct principal_arn, chr(10) order by principal_arn) as who
  from policy_attachments where not is_boundary group by policy_ref
)
select pol.policy_name, pol.kind, pol.policy_ref, coalesce(att.n, 0), att.who, s.statement_index, s.sid, s.effect,
       case when s.not_actions is not null then 'NotAction: ' || array_to_string(s.not_actions, chr(10)) else array_to_string(s.actions, chr(10)) end,
       case when s.not_resources is not null then 'NotResource: ' || array_to_string(s.not_resources, chr(10)) else array_to_string(s.resources, chr(10)) end,
       s.condition::varchar
from pol
join policy_statements s on s.policy_ref = pol.policy_ref
left join att on att.policy_ref = pol.policy_ref
where pol.kind <> 'AWS managed' or att.n > 0
order by pol.kind, pol.policy_name, pol.policy_ref, s.statement_index`,
	})
}

// writeUnused shows issue #5's permission_usage table when the case has it.
func (b *book) writeUnused(ctx context.Context) error {
	r := b.r
	if !r.tables["permission_usage"] || len(r.params) == 0 {
		return b.streamRows(ctx, table{
			sheet:   SheetUnused,
			note:    "Not analysed: credtrail analyze (or run) has not been run on this case. Granted-versus-used permissions appear here once it has.",
			columns: []column{{"Principal", 44, kText}, {"Granted", 30, kText}, {"Used", 30, kText}, {"Last used (UTC)", 20, kDateTime}, {"Coverage", 20, kText}},
		}, 0, 1, func([]any) (bool, error) { return false, nil })
	}
	var n int64
	if err := r.db.QueryRowContext(ctx, `select count(*) from permission_usage`).Scan(&n); err != nil {
		return err
	}
	note := "Per user and role: what its policies grant against what its CloudTrail events show it used in the analysis window, a row per service and per granted pattern. " +
		"Principals without any CloudTrail event in the window come last, one row each: nothing of theirs is called unused. Times are UTC."
	if n == 0 {
		note = "No user or role of the authorization details in this case: nothing to compare. Ingest the get-account-authorization-details export to see granted against used permissions here."
	}
	return b.writeTable(ctx, table{
		sheet: SheetUnused,
		note:  note,
		print: 11, // to Last used
		columns: []column{
			{"Principal", 50, kWrap}, {"Type", 7, kText}, {"Account", 14, kText}, {"Status", 16, kWrap}, {"Level", 9, kText},
			{"Service", 14, kText}, {"Granted pattern", 34, kWrap}, {"Used actions", 40, kWrap}, {"Calls", 8, kInt},
			{"Refused calls", 9, kInt}, {"Last used (UTC)", 20, kDateTime}, {"First used (UTC)", 20, kDateTime},
			{"Granted", 8, kBool}, {"Only under a condition", 11, kBool}, {"Actions granted (catalog)", 11, kInt},
			{"Regions", 24, kWrap}, {"Source IPs", 24, kWrap}, {"Granted by", 48, kWrap}, {"Resources of the grant", 36, kWrap},
		},
		query: `
with usage as (
    select 0 as section, account_id, principal_arn, principal_type,
           case status when 'not_granted' then 'used, not granted' else status end as status,
           level, service, pattern, array_to_string(used_actions, ', ') as used_actions, calls, denied, last_used, first_used,
           granted, conditional, granted_actions, array_to_string(regions, ', ') as regions,
           array_to_string(source_ips, ', ') as source_ips, array_to_string(policy_refs, ', ') as policy_refs,
           array_to_string(resources, ', ') as resources
    from permission_usage
    where status <> 'no_evidence'
),
-- a principal without CloudTrail evidence: one row that says what was not assessed
no_evidence as (
    select 1 as section, account_id, principal_arn, any_value(principal_type) as principal_type,
           'no CloudTrail evidence' as status, 'principal' as level,
           null::varchar as service,
           'not assessed: no CloudTrail event of this principal in the window; '
             || count(*) filter (where level = 'pattern') || ' granted pattern(s) in '
             || count(distinct service) filter (where level = 'service') || ' service(s): '
             || array_to_string(list_sort(list_distinct(list(service) filter (where level = 'service'))), ', ') as pattern,
           null::varchar as used_actions, null::bigint as calls, null::bigint as denied, null::timestamptz as last_used, null::timestamptz as first_used,
           true as granted, null::boolean as conditional, sum(granted_actions) filter (where level = 'service') as granted_actions,
           null::varchar as regions, null::varchar as source_ips,
           array_to_string(list_sort(list_distinct(flatten(list(policy_refs)))), ', ') as policy_refs,
           array_to_string(list_sort(list_distinct(flatten(list(resources)))), ', ') as resources
    from permission_usage
    where status = 'no_evidence'
    group by account_id, principal_arn
)
select principal_arn, principal_type, account_id, status, level, service, pattern, used_actions, calls, denied, last_used, first_used,
       granted, conditional, granted_actions, regions, source_ips, policy_refs, resources
from (select * from usage union all select * from no_evidence)
order by section, account_id, principal_arn, level desc, service, pattern`,
	})
}
