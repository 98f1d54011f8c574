-- id: external_identity_trust_created
-- title: Roles Anywhere trust anchor, SAML or OIDC provider created or changed
-- severity: high
-- controls: -
-- attack: TA0003/T1098.001, TA0003/T1484.002
-- needs: cloudtrail
-- rationale: A Roles Anywhere trust anchor and profile, or a SAML or OIDC identity provider, lets whoever holds the matching certificate authority or identity provider obtain role credentials from outside AWS without any IAM user or key; set up by an intruder it is persistence that key rotation does not remove.
-- remediation: Confirm the change with the team that owns identity federation; if unexpected, delete the anchor, profile or provider, and review the roles it can reach and any sessions issued through it.
with changes as (
    select e.recipient_account_id as account_id, e.principal_arn, e.event_id, e.event_time, e.event_name, e.source_ip,
           coalesce(json_extract_string(e.request_parameters, '$.name'), json_extract_string(e.request_parameters, '$.trustAnchorId'),
                    json_extract_string(e.request_parameters, '$.profileId'), json_extract_string(e.request_parameters, '$.url'),
                    json_extract_string(e.request_parameters, '$.sAMLProviderArn'),
                    json_extract_string(e.request_parameters, '$.openIDConnectProviderArn')) as target
    from events e, params p
    where e.error_code is null and e.event_time between p.since and p.until
      and ((e.event_source = 'rolesanywhere.amazonaws.com'
            and e.event_name in ('CreateTrustAnchor', 'UpdateTrustAnchor', 'EnableTrustAnchor', 'CreateProfile', 'UpdateProfile', 'EnableProfile'))
        or (e.event_source = 'iam.amazonaws.com'
            and e.event_name in ('CreateSAMLProvider', 'UpdateSAMLProvider', 'CreateOpenIDConnectProvider', 'AddClientIDToOpenIDConnectProvider')))
)
select account_id, principal_arn, null,
       count(*) || ' identity-trust change(s) by ' || coalesce(principal_arn, 'an unknown principal') || ': '
         || string_agg(event_name || coalesce(' ' || target, ''), ', ' order by event_time, event_id)
         || ' from ' || string_agg(distinct source_ip, ', ' order by source_ip),
       json_object('event_ids', list(event_id order by event_time, event_id)),
       min(event_time), max(event_time), count(*)
from changes
group by account_id, principal_arn
