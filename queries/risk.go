package queries

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
)

// Risk categories (issue #14, item 5): what a user or role may do on every
// resource, beside escalation, in the four categories cloudsplaining reports.
// The rules risk_<category> read the table risk_grants that riskSQL builds
// from these lists and from the grants and use of permission_usage.
//
// infrastructure_modification has no list: it is every write action
// (Write, Permissions management or Tagging in the action catalog, or by its
// verb without one) a principal may call on every resource.
const (
	RiskDataExfiltration           = "data_exfiltration"
	RiskCredentialsExposure        = "credentials_exposure"
	RiskResourceExposure           = "resource_exposure"
	RiskInfrastructureModification = "infrastructure_modification"
)

// RiskActions are the actions of each listed category. Names are spelled as
// the service authorization reference spells them; IAM compares them
// without regard to case.
var RiskActions = map[string][]string{
	// Reads that return the stored data itself, or copy it where the caller
	// can take it.
	RiskDataExfiltration: {
		"s3:GetObject", "s3:GetObjectVersion",
		"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
		"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
		"ebs:GetSnapshotBlock",
		"rds:CreateDBSnapshot", "rds:CopyDBSnapshot", "rds:CreateDBClusterSnapshot", "rds:CopyDBClusterSnapshot",
	},
	// Calls whose response holds credentials, or that create or revive
	// credentials of another identity. Left out: sts:AssumeRole (the role
	// chains and assume_role_any_resource judge it against trust policies),
	// sts:GetSessionToken (the caller's own credentials), and
	// AssumeRoleWithSAML / AssumeRoleWithWebIdentity (not governed by the
	// caller's identity policies).
	RiskCredentialsExposure: {
		"iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
		"iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
		"sts:GetFederationToken",
		"ecr:GetAuthorizationToken", "ecr-public:GetAuthorizationToken", "codeartifact:GetAuthorizationToken",
		"ec2:GetPasswordData",
		"redshift:GetClusterCredentials", "redshift:GetClusterCredentialsWithIAM", "redshift-serverless:GetCredentials",
		"rds-db:connect",
		"sso:GetRoleCredentials",
		"cognito-identity:GetCredentialsForIdentity", "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
		"lightsail:GetInstanceAccessDetails", "lightsail:DownloadDefaultKeyPair",
		"lightsail:GetRelationalDatabaseMasterUserPassword", "lightsail:CreateBucketAccessKey",
		"appsync:CreateApiKey", "grafana:CreateWorkspaceApiKey",
		"airflow:CreateCliToken", "airflow:CreateWebLoginToken",
		"cloud9:CreateEnvironmentToken", "codepipeline:PollForJobs",
		"gamelift:GetInstanceAccess", "gamelift:RequestUploadCredentials",
		"emr-containers:GetManagedEndpointSessionCredentials",
	},
	// Calls that change who may reach a resource: resource policies, ACLs,
	// public access blocks, sharing with other accounts, and handing a role
	// to a service.
	RiskResourceExposure: {
		"iam:PassRole", "iam:UpdateAssumeRolePolicy",
		"s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
		"s3:PutBucketPublicAccessBlock", "s3:PutAccountPublicAccessBlock", "s3:PutBucketOwnershipControls",
		"s3:PutAccessPointPolicy", "s3:PutMultiRegionAccessPointPolicy",
		"kms:PutKeyPolicy", "kms:CreateGrant",
		"sqs:AddPermission", "sqs:SetQueueAttributes", "sns:AddPermission", "sns:SetTopicAttributes",
		"lambda:AddPermission", "lambda:AddLayerVersionPermission", "lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig",
		"ecr:SetRepositoryPolicy", "ecr:PutRegistryPolicy", "ecr-public:SetRepositoryPolicy",
		"secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy",
		"glacier:SetVaultAccessPolicy", "backup:PutBackupVaultAccessPolicy", "elasticfilesystem:PutFileSystemPolicy",
		"ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "ec2:ModifyFpgaImageAttribute",
		"rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute", "redshift:AuthorizeSnapshotAccess",
		"ram:CreateResourceShare", "ram:AssociateResourceShare", "ram:UpdateResourceShare",
		"logs:PutResourcePolicy", "events:PutPermission", "apigateway:UpdateRestApiPolicy", "glue:PutResourcePolicy",
		"codeartifact:PutDomainPermissionsPolicy", "codeartifact:PutRepositoryPermissionsPolicy",
		"dynamodb:PutResourcePolicy", "kinesis:PutResourcePolicy", "ssm:ModifyDocumentPermission",
		"serverlessrepo:PutApplicationPolicy", "mediastore:PutContainerPolicy",
	},
}

// RiskUnlogged are the listed actions whose use CloudTrail does not show as
// a management event: "data" ones appear only when the trail records data
// events of their service, "none" ones never appear (iam:PassRole is checked
// inside the call that hands the role over; rds-db:connect is a database
// sign-in). Their use is judged only where the case can show it.
var RiskUnlogged = map[string]string{
	"s3:GetObject": "data", "s3:GetObjectVersion": "data", "s3:PutObjectAcl": "data", "s3:PutObjectVersionAcl": "data",
	"dynamodb:GetItem": "data", "dynamodb:BatchGetItem": "data", "dynamodb:Query": "data", "dynamodb:Scan": "data",
	"ebs:GetSnapshotBlock": "data",
	"iam:PassRole":         "none", "rds-db:connect": "none",
}

// riskSQL builds risk_grants from risk_actions and the permission-usage
// tables; it runs after usageSQL.
//
//go:embed analysis/risk_grants.sql
var riskSQL string

// riskTemps are the temporary tables runRisk leaves for the rules.
var riskTemps = []string{"risk_actions", "risk_principals", "risk_statements", "risk_requests", "risk_listed",
	"risk_catalog", "risk_infra", "risk_first_calls", "risk_grants"}

// runRisk loads RiskActions into the temporary table risk_actions
// (category, action, logged: management, data or none) and builds
// risk_grants.
func runRisk(ctx context.Context, tx *sql.Tx) error {
	type row struct {
		Category string `json:"category"`
		Action   string `json:"action"`
		Logged   string `json:"logged"`
	}
	var rows []row
	for _, c := range []string{RiskDataExfiltration, RiskCredentialsExposure, RiskResourceExposure} {
		for _, a := range RiskActions[c] {
			logged := RiskUnlogged[a]
			if logged == "" {
				logged = "management"
			}
			rows = append(rows, row{c, a, logged})
		}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `create or replace temp table risk_actions as
		select r.category, r.action, r.logged
		from (select unnest(from_json(?::json, '[{"category":"VARCHAR","action":"VARCHAR","logged":"VARCHAR"}]')) as r)`, string(b)); err != nil {
		return fmt.Errorf("risk categories: action lists: %w", err)
	}
	return runStatements(ctx, tx, "risk categories", riskSQL)
}
