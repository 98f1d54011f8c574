-- id: console_brute_force
-- title: Console brute force followed by a successful sign-in
-- severity: high..critical
-- controls: CIS 4.6
-- attack: TA0006/T1110, TA0001/T1078.004
-- needs: cloudtrail
-- rationale: Many failed console sign-ins from one address and then a success from the same address means a password was guessed or sprayed, and it worked; critical when the sign-in needed no MFA, so the password alone opened the account.
-- remediation: Reset the user's password, require MFA, end their sessions, and review what the session did (session_event_ids in the evidence).
-- console_sign_ins_after_failures (run.go) finds the sign-ins after failures, for this rule and its sibling
select account_id, principal_arn, source_ip, detail, evidence, first_seen, last_seen, event_count,
       case when mfa then 'high' else 'critical' end
from console_sign_ins_after_failures
where brute_force
