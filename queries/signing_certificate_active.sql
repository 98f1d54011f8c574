-- id: signing_certificate_active
-- title: IAM user with an active signing certificate
-- severity: low
-- controls: -
-- needs: credential_report
-- rationale: X.509 signing certificates are a legacy credential for a few old SOAP APIs; an active one is a long-lived secret nobody rotates.
-- remediation: Check whether anything still signs with it; deactivate and delete it.
select c.account_id, c.arn, null,
       c.user_name || ' has an active signing certificate ('
         || concat_ws(', ', case when c.cert_1_active then 'certificate 1' || coalesce(', rotated ' || strftime(c.cert_1_last_rotated, '%Y-%m-%d'), '') end,
                            case when c.cert_2_active then 'certificate 2' || coalesce(', rotated ' || strftime(c.cert_2_last_rotated, '%Y-%m-%d'), '') end) || ')',
       json_object('credential_report', json_object('file_id', c.file_id, 'row', c.row_number, 'user', c.user_name)),
       c.generated_at, c.generated_at, null
from credential_report c
where c.cert_1_active or c.cert_2_active
