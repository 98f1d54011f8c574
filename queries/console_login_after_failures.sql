-- id: console_login_after_failures
-- title: Console sign-in succeeded after failed attempts from the same address
-- severity: low..medium
-- controls: CIS 4.6
-- attack: TA0006/T1110, TA0001/T1078.004
-- needs: cloudtrail
-- rationale: A successful console sign-in right after failed ones from the same address is a guessed or stuffed password as often as a typo; fewer failures than a brute force (console_brute_force reports those) still deserve a look: medium when the sign-in used no MFA (the password alone let them in), low when MFA stood behind it.
-- remediation: Ask the user whether they mistyped; if not, reset the password, require MFA and review what the session did (session_event_ids in the evidence).
-- console_sign_ins_after_failures (run.go) finds the sign-ins after failures, for this rule and its sibling
select account_id, principal_arn, source_ip, detail, evidence, first_seen, last_seen, event_count,
       case when mfa then 'low' else 'medium' end
from console_sign_ins_after_failures
where not brute_force
