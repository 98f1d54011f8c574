-- credtrail case schema. This file is the public contract between ingest,
-- queries, report and the analyst's `credtrail query`. Bump SchemaVersion in
-- open.go whenever a table or column changes meaning.

create table if not exists case_meta (
    key   varchar primary key,
    value varchar not null
);

-- One row per input file, whatever became of it.
create table if not exists evidence_files (
    file_id      bigint primary key,
    path         varchar not null,   -- as given; a bundle entry is "bundle.tgz!dir/entry.json.gz"
    kind         varchar not null,   -- cloudtrail, cloudtrail_digest, credential_report, authorization_details,
                                     -- password_policy, account_summary, public_keys, s3_object_metadata, unknown
    format       varchar,            -- body shape: records, array, ndjson, lookup_events, event_history_csv, csv, json_base64, json_text, ...
    sha256       varchar,            -- of the bytes as stored (compressed if compressed); NULL when never read
    bytes        bigint not null,
    records      bigint,             -- records (events, report rows, entities) in the file
    duplicates   bigint,             -- records not kept because an identical copy is in the case (see conflicting_events for copies that differ)
    status       varchar not null,   -- loaded, rejected, duplicate, partial (a bundle that could not be read to its end)
    error        varchar,            -- why it was rejected, what of a partial bundle was lost, or what was noted while loading it
    account_id   varchar,
    first_event  timestamptz,
    last_event   timestamptz,
    ingested_at  timestamptz not null,
    duplicate_of bigint,             -- for status duplicate: the file_id with the same sha256, given earlier in the same run
    run_id       bigint              -- the ingest run that recorded it (ingest_runs)
);

-- One row per ingest run: who ran what, where and when, and what became of
-- the files it was given. A file already loaded by an earlier run is counted
-- here as re-submitted and gets no new evidence_files row.
create table if not exists ingest_runs (
    run_id            bigint primary key,
    started_at        timestamptz not null,
    ended_at          timestamptz,   -- NULL: the run was stopped or failed before its end
    host              varchar,
    os_user           varchar,
    credtrail_version varchar,
    credtrail_commit  varchar,
    command_line      varchar,
    files_seen        bigint,        -- files given, found in folders and in bundles (a bundle loaded whole before is not unpacked again)
    files_added       bigint,        -- recorded loaded or partial
    files_resubmitted bigint,        -- already loaded by an earlier run: not recorded again
    files_rejected    bigint,
    files_duplicate   bigint         -- the same bytes as another file of the same run (recorded, status duplicate)
);

-- CloudTrail API activity: one row per (event_id, recipient_account_id).
create table if not exists events (
    event_id              varchar not null,   -- eventID, or 'sha256:'||hash of the record when it has none
    event_time            timestamptz not null,
    event_source          varchar,
    event_name            varchar,
    iam_action            varchar,            -- service:Action the call needed (ingest/actions.go)
    aws_region            varchar,
    source_ip             varchar,
    user_agent            varchar,
    error_code            varchar,
    error_message         varchar,
    read_only             boolean,
    event_type            varchar,
    event_category        varchar,
    event_version         varchar,
    request_id            varchar,
    shared_event_id       varchar,
    recipient_account_id  varchar,
    management_event      boolean,
    identity_type         varchar,            -- userIdentity.type; NULL for Event-history CSV rows
    principal_arn         varchar,            -- the acting IAM identity (see DESIGN.md)
    identity_arn          varchar,            -- userIdentity.arn as logged
    identity_account_id   varchar,            -- userIdentity.accountId
    principal_id          varchar,
    access_key_id         varchar,
    user_name             varchar,
    session_issuer_arn    varchar,
    invoked_by            varchar,
    mfa_authenticated     boolean,            -- sessionContext.attributes.mfaAuthenticated
    console_login         varchar,            -- responseElements.ConsoleLogin (Success, Failure)
    mfa_used              boolean,            -- additionalEventData.MFAUsed
    session_credential_from_console boolean,
    vpc_endpoint_id       varchar,
    user_identity         json,
    request_parameters    json,
    response_elements     json,
    additional_event_data json,
    resources             json,
    service_event_details json,
    tls_details           json,
    addendum              json,
    file_id               bigint not null,    -- the kept copy's evidence file
    record_index          bigint not null,    -- 0-based position of the record in that file
    key_hash              ubigint not null    -- 64-bit hash of (event_id, recipient_account_id), for finding copies (ingest/cloudtrail.go)
);

-- Copies of one CloudTrail event (event_id, recipient_account_id) whose
-- content differs: every copy, with the file and record it came from. Identical
-- copies are not here: they are counted in evidence_files.duplicates. events
-- holds the copy marked kept (ingest/conflicts.go says how it is chosen and
-- what counts as identical).
create table if not exists conflicting_events (
    event_id             varchar not null,
    recipient_account_id varchar,
    file_id              bigint not null,    -- the copy's evidence file
    record_index         bigint not null,    -- 0-based position of the copy in that file
    content_sha256       varchar not null,   -- SHA-256 of the content in canonical JSON: equal for equal copies
    content              json not null,      -- the copy as its events row (without file_id, record_index)
    kept                 boolean not null    -- this copy is the one in events
);

-- CloudTrail Insights events, kept apart from API activity.
create table if not exists insights (
    event_id             varchar not null,
    event_time           timestamptz not null,
    event_type           varchar,
    event_category       varchar,
    event_version        varchar,
    aws_region           varchar,
    recipient_account_id varchar,
    shared_event_id      varchar,
    state                varchar,             -- Start, End
    insight_type         varchar,             -- ApiCallRateInsight, ApiErrorRateInsight
    insight_event_source varchar,
    insight_event_name   varchar,
    insight_details      json,
    file_id              bigint not null,
    record_index         bigint not null
);

-- IAM credential reports. Every report loaded stays here; the views
-- credential_report and access_keys show the newest report of each account.
create table if not exists credential_reports (
    report_id           bigint primary key,  -- the file_id of the first file that carried it
    account_id          varchar not null,
    generated_at        timestamptz,
    generated_at_source varchar not null,    -- GeneratedTime, or 'latest timestamp in report'
    content_sha256      varchar not null     -- of the CSV text, so CSV and JSON wrapper of one report are one report
);

create table if not exists credential_report_rows (
    report_id               bigint not null,
    account_id              varchar not null,
    generated_at            timestamptz,
    row_number              bigint not null,  -- 1-based data row in the CSV (header is row 0)
    user_name               varchar not null,
    arn                     varchar not null,
    user_creation_time      timestamptz,
    password_enabled        boolean,          -- NULL when the report says not_supported (see raw)
    password_last_used      timestamptz,
    password_last_used_note varchar,          -- what was written when it is not a time: N/A, no_information, ... or '' (empty)
    password_last_changed   timestamptz,
    password_next_rotation  timestamptz,
    mfa_active              boolean,
    cert_1_active           boolean,
    cert_1_last_rotated     timestamptz,
    cert_2_active           boolean,
    cert_2_last_rotated     timestamptz,
    raw                     map(varchar, varchar), -- every column as written, special values included
    file_id                 bigint not null
);

create table if not exists access_key_rows (
    report_id         bigint not null,
    account_id        varchar not null,
    user_name         varchar not null,
    arn               varchar not null,
    slot              integer not null,       -- 1 or 2
    active            boolean not null,
    last_rotated      timestamptz,
    last_used_date    timestamptz,            -- NULL when never used (last_used_note = 'N/A')
    last_used_note    varchar,                -- what was written when last_used_date is not a time: N/A, or '' (empty)
    last_used_region  varchar,                -- as written: a region, or N/A
    last_used_service varchar                 -- as written: a service namespace, or N/A
);

create or replace view current_credential_reports as
select report_id, account_id, generated_at
from credential_reports
qualify row_number() over (partition by account_id order by generated_at desc nulls last, report_id desc) = 1;

create or replace view credential_report as
select r.account_id, r.generated_at, r.user_name, r.arn, r.user_creation_time, r.password_enabled,
       r.password_last_used, r.password_last_used_note, r.password_last_changed, r.password_next_rotation,
       r.mfa_active, r.cert_1_active, r.cert_1_last_rotated, r.cert_2_active, r.cert_2_last_rotated,
       r.raw, r.row_number, r.file_id
from credential_report_rows r
join current_credential_reports c using (report_id);

create or replace view access_keys as
select k.account_id, k.user_name, k.arn, k.slot, k.active, k.last_rotated, k.last_used_date,
       k.last_used_note, k.last_used_region, k.last_used_service
from access_key_rows k
join current_credential_reports c using (report_id);

-- Account authorization details (get-account-authorization-details).
-- Entities are keyed by ARN; the first file (by path) that names one wins.
create table if not exists iam_users (
    arn                      varchar primary key,
    account_id               varchar not null,
    user_name                varchar not null,
    user_id                  varchar,
    path                     varchar,
    create_date              timestamptz,
    permissions_boundary_arn varchar,
    tags                     json,
    file_id                  bigint not null
);

create table if not exists iam_groups (
    arn         varchar primary key,
    account_id  varchar not null,
    group_name  varchar not null,
    group_id    varchar,
    path        varchar,
    create_date timestamptz,
    file_id     bigint not null
);

create table if not exists iam_roles (
    arn                      varchar primary key,
    account_id               varchar not null,
    role_name                varchar not null,
    role_id                  varchar,
    path                     varchar,
    create_date              timestamptz,
    assume_role_policy       json,
    role_last_used           timestamptz,
    role_last_used_region    varchar,
    permissions_boundary_arn varchar,
    instance_profiles        json,
    tags                     json,
    file_id                  bigint not null
);

-- Managed policies; document is the default version's, the only one in force.
create table if not exists iam_policies (
    arn                 varchar primary key,
    account_id          varchar,             -- NULL for AWS-managed policies
    policy_name         varchar not null,
    policy_id           varchar,
    path                varchar,
    aws_managed         boolean not null,
    default_version_id  varchar,
    attachment_count    integer,
    boundary_usage_count integer,
    is_attachable       boolean,
    description         varchar,
    create_date         timestamptz,
    update_date         timestamptz,
    document            json,
    file_id             bigint not null
);

-- Inline policies of users, groups and roles.
create table if not exists inline_policies (
    policy_ref    varchar primary key,      -- principal ARN || '#inline/' || policy name
    principal_arn varchar not null,
    policy_name   varchar not null,
    document      json,
    file_id       bigint not null
);

-- A user names its groups by name; group_arn is resolved from the groups of
-- the user's account once they are in the case (paged exports may carry a
-- user and its groups in different files). Until then group_resolved is false
-- and group_arn is arn:PARTITION:iam::ACCOUNT:group/NAME, without a path.
create table if not exists group_members (
    user_arn       varchar not null,
    group_arn      varchar not null,
    group_name     varchar,              -- as written in the user's GroupList
    group_resolved boolean not null default true,
    file_id        bigint                -- the file that listed the membership
);

-- Every policy in force on a user, group or role: inline or managed, direct or
-- through a group (via_group_arn), and permissions boundaries (is_boundary).
create table if not exists policy_attachments (
    principal_arn  varchar not null,
    principal_type varchar not null,        -- user, group, role
    policy_ref     varchar not null,        -- managed policy ARN or inline policy_ref
    policy_name    varchar,
    inline         boolean not null,
    via_group_arn  varchar,
    is_boundary    boolean not null default false
);

-- Statements of every managed (default version) and inline policy.
create table if not exists policy_statements (
    policy_ref      varchar not null,
    statement_index integer not null,
    sid             varchar,
    effect          varchar not null,
    actions         varchar[],
    not_actions     varchar[],
    resources       varchar[],
    not_resources   varchar[],
    condition       json
);

-- Role trust policies, one row per principal named in a statement.
create table if not exists role_trust (
    role_arn        varchar not null,
    statement_index integer not null,
    effect          varchar not null,
    principal_kind  varchar not null,       -- AWS, Service, Federated, CanonicalUser, * (any)
    principal_value varchar not null,
    not_principal   boolean not null default false,
    actions         varchar[],
    not_actions     varchar[],
    condition       json,
    sid             varchar
);

-- Optional account-level exports.
create table if not exists password_policy (
    account_id                     varchar,  -- NULL when the export does not say
    present                        boolean not null, -- false when the export says NoSuchEntity
    minimum_password_length        integer,
    require_symbols                boolean,
    require_numbers                boolean,
    require_uppercase_characters   boolean,
    require_lowercase_characters   boolean,
    allow_users_to_change_password boolean,
    expire_passwords               boolean,
    max_password_age               integer,
    password_reuse_prevention      integer,
    hard_expiry                    boolean,
    file_id                        bigint not null
);

create table if not exists account_summary (
    account_id varchar,
    key        varchar not null,
    value      bigint,
    file_id    bigint not null
);

-- CloudTrail digest files, kept for `credtrail verify`.
create table if not exists digests (
    file_id                         bigint primary key,
    account_id                      varchar,
    digest_start_time               timestamptz,
    digest_end_time                 timestamptz,
    digest_s3_bucket                varchar,
    digest_s3_object                varchar,
    digest_public_key_fingerprint   varchar,
    digest_signature_algorithm      varchar,
    newest_event_time               timestamptz,
    oldest_event_time               timestamptz,
    previous_digest_s3_bucket       varchar,
    previous_digest_s3_object       varchar,
    previous_digest_hash_value      varchar,
    previous_digest_hash_algorithm  varchar,
    previous_digest_signature       varchar,
    content_sha256                  varchar not null  -- SHA-256 of the uncompressed digest bytes
);

-- Signatures of digests from `aws s3api head-object` exports. CloudTrail
-- keeps a digest's signature in the S3 object's metadata; the next digest
-- repeats it, except for the newest of a chain, which only this can verify.
-- `credtrail verify` matches a signature to the digest it verifies.
create table if not exists digest_signatures (
    file_id             bigint primary key,
    signature           varchar not null,   -- hex, Metadata.signature
    signature_algorithm varchar,            -- Metadata.signature-algorithm
    etag                varchar,
    content_length      bigint,
    last_modified       varchar
);

create table if not exists digest_log_files (
    digest_file_id    bigint not null,
    log_file_index    integer not null,      -- 0-based position in the digest's logFiles
    s3_bucket         varchar,
    s3_object         varchar,
    hash_value        varchar,
    hash_algorithm    varchar,
    newest_event_time timestamptz,
    oldest_event_time timestamptz
);

-- Every file `credtrail report` or `run` wrote, with its SHA-256, so the
-- workbook handed over can be checked later against the case.
create table if not exists report_outputs (
    path       varchar not null,   -- as written
    sha256     varchar not null,
    bytes      bigint not null,
    written_at timestamptz not null,
    credtrail  varchar             -- the version that wrote it
);

-- The last `credtrail verify`: one row per digest, log file or chain break.
create table if not exists log_validation (
    row_number   bigint not null,
    kind         varchar not null,   -- digest, log_file, chain
    account_id   varchar,
    object       varchar not null,   -- the S3 key a digest names, or the log file's name
    path         varchar,            -- the evidence path, when the case holds the file
    status       varchar not null,   -- valid, modified, missing, not_covered, not_verified, gap
    detail       varchar,
    period_start timestamptz,        -- the period a digest covers, or a gap
    period_end   timestamptz
);

-- CloudTrail public keys (list-public-keys export), for `credtrail verify`.
create table if not exists public_keys (
    fingerprint         varchar not null,
    value               varchar not null,    -- base64 DER
    validity_start_time timestamptz,
    validity_end_time   timestamptz,
    file_id             bigint not null
);

-- Optional action catalog: AWS's service reference information (one JSON
-- document per service, FORMATS.md A5). With it, wildcards expand to exact
-- actions; without it the unused-permissions analysis works on patterns.
-- One row per action of each loaded document. The same service may come from
-- several files (an older and a newer download), each row keeping its own
-- file_id, so an action can appear more than once: queries read
-- `select distinct service, action ... from action_catalog` and never count
-- raw rows.
create table if not exists action_catalog (
    service        varchar not null,   -- IAM service prefix, lower case (the document's Name)
    action         varchar not null,   -- service:Action, spelled as the reference spells it
    access_level   varchar,            -- List, Read, Write, Permissions management, Tagging (from Annotations), NULL if absent
    resource_types varchar[],          -- Resources[].Name of the action; empty when it names none
    file_id        bigint not null
);

-- Analysis (written by `credtrail analyze`, package queries). Parameters of
-- the last run, one row each, so every finding can be explained and replayed.
create table if not exists analysis_parameters (
    name  varchar primary key,   -- since, until, as_of, key_max_age_days, unused_after_days, allowed_regions, trusted_accounts, trusted_cidrs, ...
    value varchar                -- as text; lists as JSON arrays
);

-- Whether each rule of the last analysis could judge each account: assessed
-- when every input the rule needs (its "-- needs:" header) is in the case for
-- that account, else missing_inputs names them (credential_report,
-- credential_report.COLUMN, authorization_details, password_policy, and
-- cloudtrail: events of the account in the window). Accounts are every
-- account seen in any evidence. Replaced with the findings; a control passes
-- for an account only when each of its rules was assessed there.
create table if not exists rule_coverage (
    rule_id        varchar not null,
    account_id     varchar not null,
    assessed       boolean not null,
    missing_inputs varchar[] not null
);

-- The time the last analysis measured each account's credential ages at:
-- --as-of when given, else the generation time of that account's newest
-- credential report, else its latest event, else the analysis as_of. Events
-- of the account later than it are counted in events_after: the credential
-- report cannot show what they did. Replaced with the findings.
create table if not exists account_as_of (
    account_id   varchar not null,
    as_of        timestamptz,
    source       varchar not null,   -- --as-of, credential report, latest event, analysis as_of
    events_after bigint not null
);

-- One row per finding of the last analysis; a new analysis replaces them all.
create table if not exists findings (
    finding_id    varchar primary key,  -- stable: hash of rule_id and subject (account, principal, resource)
    rule_id       varchar not null,
    severity      varchar not null,     -- critical, high, medium, low, info
    account_id    varchar,
    principal_arn varchar,
    resource      varchar,
    title         varchar not null,
    detail        varchar,
    evidence      json,                 -- event IDs, report rows, policy statements that prove it
    first_seen    timestamptz,
    last_seen     timestamptz,
    event_count   bigint
);

-- Granted versus used, per user and role, written by the unused-permissions
-- analysis of `credtrail analyze` (replaced with the findings). One row per
-- principal and service (level 'service') and per principal and granted
-- action pattern (level 'pattern'). Use is the successful calls (no error
-- code) in the analysis window of actions that need a permission.
create table if not exists permission_usage (
    account_id      varchar,
    principal_arn   varchar not null,
    principal_type  varchar not null,   -- user, role
    level           varchar not null,   -- service, pattern
    service         varchar not null,   -- IAM service prefix, lower case; * for a pattern over every service
    pattern         varchar,            -- level pattern: the granted action pattern, as in the policy (NotAction statements: 'NotAction ...')
    status          varchar not null,   -- used, unused, not_granted (used, yet no policy in the export grants it), no_evidence (principal without CloudTrail activity in the window)
    granted         boolean not null,
    conditional     boolean,            -- granted only by statements with a Condition (not evaluated)
    granted_actions integer,            -- actions of the action catalog it grants; NULL without a catalog
    used_actions    varchar[],          -- distinct actions used that it covers, sorted
    calls           bigint,             -- successful calls
    denied          bigint,             -- attempts refused for lack of permission (not use)
    first_used      timestamptz,
    last_used       timestamptz,
    regions         varchar[],
    source_ips      varchar[],          -- at most 20, sorted
    policy_refs     varchar[],          -- the policies whose statements grant it
    resources       varchar[]           -- the Resource (or 'NotResource ...') of those statements, carried along, not evaluated
);

-- A least-privilege policy per user and role with use in the window: the
-- actions it used that its policies allowed (or, for one the authorization
-- details lack, every action it used), grouped by service. Two rows per
-- principal: without and with the events that back high or critical findings.
create table if not exists generated_policies (
    principal_arn     varchar not null,
    account_id        varchar,
    incident_activity boolean not null, -- false: built without the events that back high or critical findings (the default of credtrail policy); true: with them
    basis             varchar not null, -- granted: used and granted by its policies; use: used, its policies not in the case (not checked against any grant)
    actions           integer not null, -- actions the policy allows
    policy            json not null,    -- IAM policy document, Version 2012-10-17
    excluded          json not null,    -- the principal's events behind high or critical findings: [{finding_id, rule_id, severity, action, events, in_policy}], in_policy: whether the action is in the variant without them anyway
    primary key (principal_arn, incident_activity)
);

-- The per-day usage aggregate that `credtrail analyze` keeps (package
-- queries, analysis/usage_days.sql, which also creates these tables in cases
-- written before them; keep the two alike): each UTC day's calls of users and
-- roles folded per principal and action, and its events counted per
-- principal, so that an analysis after a new day refolds that day only.
-- Analysis, not evidence: an import does not merge them.
create table if not exists usage_days (
    day         date primary key,
    events      bigint not null,        -- events of the day when it was folded
    first_event timestamptz not null,
    last_event  timestamptz not null
);
create table if not exists usage_calls (
    day           date not null,
    principal_arn varchar not null,
    iam_action    varchar not null,
    calls         bigint not null,      -- distinct successful calls
    denied        bigint not null,      -- distinct calls refused for lack of permission
    first_used    timestamptz,          -- of the successful calls
    last_used     timestamptz,
    regions       varchar[],            -- of the successful calls, distinct, sorted; NULL when none
    source_ips    varchar[],
    unscoped      boolean,              -- a successful call named no resource
    arn_count     bigint not null,      -- distinct ARNs the successful calls named (usage_named_arns)
    arns          varchar[],            -- those ARNs, sorted, when at most 50; NULL above
    first_call    varchar               -- event_id of the first successful call (the smallest event_id at the first time)
);
create table if not exists usage_activity (
    day           date not null,
    principal_arn varchar not null,
    events        bigint not null
);
