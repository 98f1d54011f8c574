package ingest

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// The mapping from a CloudTrail (eventSource, eventName) to the IAM action the
// call needed. It is the one place this knowledge lives: the tables below are
// written into every case (action_prefixes, action_overrides, action_word_rules,
// actions_needing_no_permission) and the macro iam_action_of(event_source,
// event_name) applies them, at ingest and for analysts.
//
// iam_action_of resolves an event in this order:
//  1. the event name loses a date-like API-version suffix (versionSuffixPattern);
//  2. an override for (eventSource, name) wins;
//  3. then a word rule for (eventSource, first word of name);
//  4. otherwise the action is prefix:name, where prefix comes from
//     actionPrefixes or is the first DNS label of eventSource.
//
// The result is the action that authorized the call as far as the event's
// source and name tell; an event that is not an API call (eventType
// AwsServiceEvent, AwsConsoleSignIn) still gets one, so analyses filter on
// eventType and on actions_needing_no_permission. IAM compares action names
// without regard to case (s3:GetBucketCors is s3:GetBucketCORS), so analyses
// should too.

// actionPrefixes maps an eventSource whose first DNS label is not its IAM
// service prefix to that prefix. Each entry names where it comes from.
var actionPrefixes = map[string]string{
	// flosell/trailscraper cloudtrail.py _source_to_iam_prefix; duo-labs/cloudtracker
	// SERVICE_RENAMES has monitoring and email.
	"monitoring.amazonaws.com":       "cloudwatch",
	"email.amazonaws.com":            "ses",
	"appstream2.amazonaws.com":       "appstream",
	"models.lex.amazonaws.com":       "lex",
	"runtime.lex.amazonaws.com":      "lex",
	"mturk-requester.amazonaws.com":  "mechanicalturk",
	"streams.dynamodb.amazonaws.com": "dynamodb",
	"tagging.amazonaws.com":          "tag",

	// AWS Marketplace API Reference, "Access control for the AWS Marketplace
	// Agreement / Discovery / Metering / Catalog API": all are authorized by
	// aws-marketplace actions. Event sources: the Marketplace Metering CloudTrail
	// page (metering-marketplace), our samples (agreement-, discovery-), and for
	// catalog.marketplace its botocore endpoint and a public write-up, not an AWS page.
	"agreement-marketplace.amazonaws.com": "aws-marketplace",
	"discovery-marketplace.amazonaws.com": "aws-marketplace",
	"metering-marketplace.amazonaws.com":  "aws-marketplace",
	"catalog.marketplace.amazonaws.com":   "aws-marketplace",

	// Service Authorization Reference: AppRegistry's actions (CreateApplication,
	// ListApplications, ...) are in the servicecatalog prefix (botocore signs
	// servicecatalog-appregistry as servicecatalog).
	"servicecatalog-appregistry.amazonaws.com": "servicecatalog",
	// Service Authorization Reference: CloudWatch Application Insights has the
	// prefix applicationinsights.
	"application-insights.amazonaws.com": "applicationinsights",
	// Amazon Pinpoint developer guide, CloudTrail log entry examples
	// (eventSource pinpoint.amazonaws.com); its IAM prefix is mobiletargeting.
	"pinpoint.amazonaws.com": "mobiletargeting",
}

// actionOverride maps one eventSource and (version-stripped) eventName to an IAM action.
type actionOverride struct{ Source, Name, Action string }

// actionOverrides are the calls whose IAM action is not named after the API
// operation. Where a call needs several actions, the entry names the one the
// operation is chiefly about (CopyObject also reads its source, ReEncrypt also
// needs kms:ReEncryptTo on the destination key); iam_action is one action per event.
var actionOverrides = []actionOverride{
	// Amazon S3. Sources: iann0036/iam-dataset aws/map.json (S3.*), flosell/trailscraper
	// cloudtrail.py, the S3 API Reference ("you must have the s3:... permission").
	// CloudTrail logs some bucket calls under older names (GetBucketLifecycle,
	// PutBucketLifecycle, GetBucketReplication, DeleteBucketPublicAccessBlock):
	// both the API name and the logged name are listed.
	{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
	{"s3.amazonaws.com", "HeadBucket", "s3:ListBucket"},
	{"s3.amazonaws.com", "ListObjects", "s3:ListBucket"},
	{"s3.amazonaws.com", "ListObjectsV2", "s3:ListBucket"},
	{"s3.amazonaws.com", "ListObjectVersions", "s3:ListBucketVersions"},
	{"s3.amazonaws.com", "ListMultipartUploads", "s3:ListBucketMultipartUploads"},
	{"s3.amazonaws.com", "ListParts", "s3:ListMultipartUploadParts"},
	{"s3.amazonaws.com", "HeadObject", "s3:GetObject"},
	{"s3.amazonaws.com", "SelectObjectContent", "s3:GetObject"},
	{"s3.amazonaws.com", "CopyObject", "s3:PutObject"},
	{"s3.amazonaws.com", "CreateMultipartUpload", "s3:PutObject"},
	{"s3.amazonaws.com", "UploadPart", "s3:PutObject"},
	{"s3.amazonaws.com", "UploadPartCopy", "s3:PutObject"},
	{"s3.amazonaws.com", "CompleteMultipartUpload", "s3:PutObject"},
	{"s3.amazonaws.com", "DeleteObjects", "s3:DeleteObject"},
	{"s3.amazonaws.com", "GetBucketEncryption", "s3:GetEncryptionConfiguration"},
	{"s3.amazonaws.com", "PutBucketEncryption", "s3:PutEncryptionConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketEncryption", "s3:PutEncryptionConfiguration"},
	{"s3.amazonaws.com", "GetBucketLifecycle", "s3:GetLifecycleConfiguration"},
	{"s3.amazonaws.com", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"},
	{"s3.amazonaws.com", "PutBucketLifecycle", "s3:PutLifecycleConfiguration"},
	{"s3.amazonaws.com", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"},
	// trailscraper says DeleteReplicationConfiguration, which is no S3 action;
	// iam-dataset and the S3 API Reference say PutReplicationConfiguration.
	{"s3.amazonaws.com", "GetBucketReplication", "s3:GetReplicationConfiguration"},
	{"s3.amazonaws.com", "PutBucketReplication", "s3:PutReplicationConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketReplication", "s3:PutReplicationConfiguration"},
	{"s3.amazonaws.com", "GetBucketNotificationConfiguration", "s3:GetBucketNotification"},
	{"s3.amazonaws.com", "PutBucketNotificationConfiguration", "s3:PutBucketNotification"},
	{"s3.amazonaws.com", "GetBucketAccelerateConfiguration", "s3:GetAccelerateConfiguration"},
	{"s3.amazonaws.com", "PutBucketAccelerateConfiguration", "s3:PutAccelerateConfiguration"},
	{"s3.amazonaws.com", "GetBucketAnalyticsConfiguration", "s3:GetAnalyticsConfiguration"},
	{"s3.amazonaws.com", "ListBucketAnalyticsConfigurations", "s3:GetAnalyticsConfiguration"},
	{"s3.amazonaws.com", "PutBucketAnalyticsConfiguration", "s3:PutAnalyticsConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketAnalyticsConfiguration", "s3:PutAnalyticsConfiguration"},
	{"s3.amazonaws.com", "GetBucketInventoryConfiguration", "s3:GetInventoryConfiguration"},
	{"s3.amazonaws.com", "ListBucketInventoryConfigurations", "s3:GetInventoryConfiguration"},
	{"s3.amazonaws.com", "PutBucketInventoryConfiguration", "s3:PutInventoryConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketInventoryConfiguration", "s3:PutInventoryConfiguration"},
	{"s3.amazonaws.com", "GetBucketMetricsConfiguration", "s3:GetMetricsConfiguration"},
	{"s3.amazonaws.com", "ListBucketMetricsConfigurations", "s3:GetMetricsConfiguration"},
	{"s3.amazonaws.com", "PutBucketMetricsConfiguration", "s3:PutMetricsConfiguration"},
	{"s3.amazonaws.com", "DeleteBucketMetricsConfiguration", "s3:PutMetricsConfiguration"},
	{"s3.amazonaws.com", "GetBucketIntelligentTieringConfiguration", "s3:GetIntelligentTieringConfiguration"},
	{"s3.amazonaws.com", "PutBucketIntelligentTieringConfiguration", "s3:PutIntelligentTieringConfiguration"},
	{"s3.amazonaws.com", "GetBucketCors", "s3:GetBucketCORS"},
	{"s3.amazonaws.com", "PutBucketCors", "s3:PutBucketCORS"},
	{"s3.amazonaws.com", "DeleteBucketCors", "s3:PutBucketCORS"},
	{"s3.amazonaws.com", "DeleteBucketTagging", "s3:PutBucketTagging"},
	{"s3.amazonaws.com", "DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls"},
	{"s3.amazonaws.com", "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
	{"s3.amazonaws.com", "PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
	{"s3.amazonaws.com", "DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
	{"s3.amazonaws.com", "DeleteBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"},
	{"s3.amazonaws.com", "GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"},
	{"s3.amazonaws.com", "PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"},

	// AWS KMS: ReEncrypt needs kms:ReEncryptFrom on the source key and
	// kms:ReEncryptTo on the destination key (iam-dataset KMS.ReEncrypt). The
	// pattern kms:ReEncrypt* that trailscraper emits is a policy pattern, not an
	// action; the key the caller reads from is the one named here.
	{"kms.amazonaws.com", "ReEncrypt", "kms:ReEncryptFrom"},

	// AWS Lambda API Reference: Invoke and InvokeWithResponseStream require
	// lambda:InvokeFunction; iam-dataset: GetLayerVersionByArn needs lambda:GetLayerVersion.
	{"lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"},
	{"lambda.amazonaws.com", "InvokeWithResponseStream", "lambda:InvokeFunction"},
	{"lambda.amazonaws.com", "GetLayerVersionByArn", "lambda:GetLayerVersion"},

	// CloudFront developer guide, API permissions reference: CreateDistributionWithTags
	// needs cloudfront:CreateDistribution (and cloudfront:TagResource).
	{"cloudfront.amazonaws.com", "CreateDistributionWithTags", "cloudfront:CreateDistribution"},

	// Amazon SQS API Reference (AddPermission): SendMessage, DeleteMessage and
	// ChangeMessageVisibility also grant their batch versions.
	{"sqs.amazonaws.com", "SendMessageBatch", "sqs:SendMessage"},
	{"sqs.amazonaws.com", "DeleteMessageBatch", "sqs:DeleteMessage"},
	{"sqs.amazonaws.com", "ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"},

	// Amazon SNS API permissions reference: sns:Publish grants Publish and PublishBatch.
	{"sns.amazonaws.com", "PublishBatch", "sns:Publish"},

	// iam-dataset DynamoDB.TransactGetItems: dynamodb:GetItem on each table.
	// (TransactWriteItems needs Put/Update/Delete/ConditionCheckItem depending on
	// its items, ExecuteStatement a PartiQL action depending on the statement:
	// neither has one action, so neither is listed.)
	{"dynamodb.amazonaws.com", "TransactGetItems", "dynamodb:GetItem"},

	// Amazon Bedrock Runtime API Reference: Converse requires bedrock:InvokeModel,
	// ConverseStream bedrock:InvokeModelWithResponseStream.
	{"bedrock.amazonaws.com", "Converse", "bedrock:InvokeModel"},
	{"bedrock.amazonaws.com", "ConverseStream", "bedrock:InvokeModelWithResponseStream"},

	// Amazon API Gateway: see actionWordRules. These operations' HTTP methods do
	// not follow the first word of their names (botocore service models
	// apigateway 2015-07-09 and apigatewayv2 2018-11-29).
	{"apigateway.amazonaws.com", "ImportRestApi", "apigateway:POST"},
	{"apigateway.amazonaws.com", "ImportApiKeys", "apigateway:POST"},
	{"apigateway.amazonaws.com", "ImportDocumentationParts", "apigateway:PUT"},
	{"apigateway.amazonaws.com", "ImportApi", "apigateway:PUT"},
	// TagResource is PUT in the REST API (v1) and POST in the v2 API; CloudTrail
	// logs both under the same name, so this is a guess in favour of REST APIs.
	{"apigateway.amazonaws.com", "TagResource", "apigateway:PUT"},
}

// actionWordRule maps the events of one eventSource whose (version-stripped)
// name starts with a word (Get in GetRestApis) to one IAM action. It exists for
// Amazon API Gateway, whose management actions are HTTP methods
// (apigateway:GET, POST, PUT, PATCH, DELETE) rather than operation names, as
// the Service Authorization Reference lists them and trailscraper maps them.
type actionWordRule struct{ Source, Word, Action string }

// actionWordRules hold for every operation of the API Gateway v1 and v2
// service models in botocore whose first word appears here; the exceptions
// are overrides above.
var actionWordRules = []actionWordRule{
	{"apigateway.amazonaws.com", "Get", "apigateway:GET"},
	{"apigateway.amazonaws.com", "List", "apigateway:GET"},
	{"apigateway.amazonaws.com", "Export", "apigateway:GET"},
	{"apigateway.amazonaws.com", "Create", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Generate", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Preview", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Publish", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Reject", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Test", "apigateway:POST"},
	{"apigateway.amazonaws.com", "Put", "apigateway:PUT"},
	{"apigateway.amazonaws.com", "Reimport", "apigateway:PUT"},
	{"apigateway.amazonaws.com", "Update", "apigateway:PATCH"},
	{"apigateway.amazonaws.com", "Delete", "apigateway:DELETE"},
	{"apigateway.amazonaws.com", "Disable", "apigateway:DELETE"},
	{"apigateway.amazonaws.com", "Flush", "apigateway:DELETE"},
	{"apigateway.amazonaws.com", "Reset", "apigateway:DELETE"},
	{"apigateway.amazonaws.com", "Untag", "apigateway:DELETE"},
}

// actionsNeedingNoPermission are actions that iam_action_of yields for events
// which no IAM policy allows or denies: sign-in events and the few calls any
// authenticated caller may make. Analyses of unused permissions leave them out;
// they are written to the table actions_needing_no_permission.
var actionsNeedingNoPermission = []string{
	// STS API Reference: no permissions are required for GetCallerIdentity.
	// duo-labs/cloudtracker NO_IAM and iam-dataset sdk_permissionless_actions
	// list it and sts:GetSessionToken.
	"sts:GetCallerIdentity",
	"sts:GetSessionToken",
	// STS API Reference: AssumeRoleWithSAML and AssumeRoleWithWebIdentity do
	// not take AWS credentials; the role's trust policy alone authorises them.
	"sts:AssumeRoleWithSAML",
	"sts:AssumeRoleWithWebIdentity",
	// iam-dataset sdk_permissionless_actions.
	"dynamodb:DescribeEndpoints",
	// Console sign-in events (CloudTrail User Guide, "AWS Management Console
	// sign-in events"; cloudtracker NO_IAM). They are not API calls; the signin
	// service prefix has real actions (signin:Authenticate, ...), so only these
	// event names are listed, not the prefix.
	"signin:ConsoleLogin",
	"signin:CheckMfa",
	"signin:SwitchRole",
	"signin:ExitRole",
	"signin:RenewRole",
	// Federation and directory sign-ins (CloudTrail User Guide, sign-in events:
	// the federation endpoint's GetSigninToken, external IdP directory logins).
	"signin:GetSigninToken",
	"signin:ExternalIdPDirectoryLogin",
	// The root user's password change at sign-in (AwsConsoleSignIn event in the
	// CloudTrail documentation's examples).
	"signin:PasswordUpdated",
	// IAM Identity Center sign-in events, which "have no matching public APIs"
	// (IAM Identity Center User Guide, "Understanding IAM Identity Center sign-in events").
	"signin:CredentialChallenge",
	"signin:CredentialVerification",
	"signin:UserAuthentication",
}

// versionSuffixPattern matches an event name that ends in a date-like
// API-version suffix, as Lambda and CloudFront log them
// (UpdateFunctionCode20150331v2, CreateDistribution2020_05_31): group 1 is the
// name without it. The suffix is a date of 19xx or 20xx, either eight digits
// or with underscores between year, month and day, optionally followed by v
// and a number. Names that merely end in digits (ListObjectsV2, GetObjectV2)
// do not match, nor does a name that would be left empty.
const versionSuffixPattern = `^(.*[A-Za-z])(?:19|20)[0-9]{2}(?:(?:0[1-9]|1[0-2])|_(?:0[1-9]|1[0-2])_)[0-3][0-9](?:v[0-9]+)?$`

// refreshActionMap rewrites the mapping tables and the iam_action_of macro in
// one transaction, so a failure leaves the previous map in place.
func refreshActionMap(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("action map: %w", err)
	}
	defer tx.Rollback()
	if err := writeActionMap(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("action map: %w", err)
	}
	return nil
}

func writeActionMap(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		"create or replace table action_prefixes (event_source varchar primary key, prefix varchar not null)",
		"create or replace table action_overrides (event_source varchar, event_name varchar, iam_action varchar not null, primary key (event_source, event_name))",
		"create or replace table action_word_rules (event_source varchar, first_word varchar, iam_action varchar not null, primary key (event_source, first_word))",
		"create or replace table actions_needing_no_permission (iam_action varchar primary key)",
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("action map: %w", err)
		}
	}
	var prefixes, overrides, words, free [][]any
	for src, prefix := range actionPrefixes {
		prefixes = append(prefixes, []any{src, prefix})
	}
	for _, o := range actionOverrides {
		overrides = append(overrides, []any{o.Source, o.Name, o.Action})
	}
	for _, r := range actionWordRules {
		words = append(words, []any{r.Source, r.Word, r.Action})
	}
	for _, a := range actionsNeedingNoPermission {
		free = append(free, []any{a})
	}
	for _, t := range []struct {
		name string
		rows [][]any
	}{
		{"action_prefixes", prefixes},
		{"action_overrides", overrides},
		{"action_word_rules", words},
		{"actions_needing_no_permission", free},
	} {
		if err := insertRows(ctx, tx, t.name, t.rows); err != nil {
			return fmt.Errorf("action map: %s: %w", t.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, actionMacro()); err != nil {
		return fmt.Errorf("action map macro: %w", err)
	}
	return nil
}

// insertRows inserts rows, all of the table's width, in one statement.
func insertRows(ctx context.Context, tx *sql.Tx, table string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	tuple := "(" + strings.Repeat("?, ", len(rows[0])-1) + "?)"
	var q strings.Builder
	args := make([]any, 0, len(rows)*len(rows[0]))
	q.WriteString("insert into " + table + " values ")
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(tuple)
		args = append(args, r...)
	}
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return err
}

// actionBaseName is the SQL expression for an event name without its version
// suffix. The suffix always ends in a digit, so the regular expression runs
// only on names that do: few do, and it was half the macro's cost per event.
const actionBaseName = `(case when right(name, 1) between '0' and '9' then regexp_replace(name, '` + versionSuffixPattern + `', '\1') else name end)`

// actionFirstWord is the SQL expression for the first word of an event name
// (Get in GetRestApis), the key of action_word_rules.
const actionFirstWord = `regexp_extract(` + actionBaseName + `, '^[A-Z][a-z]*')`

// actionMacro defines iam_action_of from the same slices as the tables, as
// constant maps: a lookup per event is then an expression, cheap enough to run
// inside the bulk insert (correlated subqueries into the tables cost 3.6 s
// per 260k events, and updating the column afterwards made DuckDB rewrite it
// at checkpoint).
func actionMacro() string {
	sources := map[string]bool{}
	overrides := make([][2]string, 0, len(actionOverrides))
	for _, o := range actionOverrides {
		overrides = append(overrides, [2]string{o.Source + "|" + o.Name, o.Action})
		sources[o.Source] = true
	}
	words := make([][2]string, 0, len(actionWordRules))
	wordSources := map[string]bool{}
	for _, w := range actionWordRules {
		words = append(words, [2]string{w.Source + "|" + w.Word, w.Action})
		wordSources[w.Source] = true
	}
	prefixes := make([][2]string, 0, len(actionPrefixes))
	for src, prefix := range actionPrefixes {
		prefixes = append(prefixes, [2]string{src, prefix})
	}
	return `create or replace macro iam_action_of(src, name) as (
  case when src is null or name is null or src = '' or name = '' then null else
  coalesce(
    case when list_contains(` + sqlStringList(keys(sources)) + `, src) then
      ` + sqlMap(overrides) + `[src || '|' || ` + actionBaseName + `] end,
    case when list_contains(` + sqlStringList(keys(wordSources)) + `, src) then
      ` + sqlMap(words) + `[src || '|' || ` + actionFirstWord + `] end,
    coalesce(` + sqlMap(prefixes) + `[src], split_part(src, '.', 1)) || ':' || ` + actionBaseName + `)
  end)`
}

// sqlQuote writes s as a SQL string literal. Only the project's own mapping
// data goes through it, never evidence.
func sqlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlStringList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = sqlQuote(it)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// sqlMap writes pairs, sorted by key, as a DuckDB MAP literal.
func sqlMap(pairs [][2]string) string {
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0] < pairs[j][0] })
	entries := make([]string, len(pairs))
	for i, p := range pairs {
		entries[i] = sqlQuote(p[0]) + ": " + sqlQuote(p[1])
	}
	return "MAP {" + strings.Join(entries, ", ") + "}"
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
