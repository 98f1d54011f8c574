package samples

import "fmt"

// The planted stories. plantProduction builds the production account's
// principals (each one a small story: see the comments) and plants the
// incident and the brute force; plantRootMisuse plants the root-user story
// in the second account (or the only one).

const (
	attackerIP      = "203.0.113.77"
	bruteForceIP    = "203.0.113.199"
	incidentRegion  = "ap-southeast-3" // never used by the organization before the incident
	attackerCLI     = "aws-cli/2.13.5 Python/3.11.4 Linux/6.3.0-kali1-amd64 exe/x86_64.kali.2023 prompt/off command/"
	formulaUA       = `=cmd|' /C calc'!A0`
	ciLegacyIP      = "3.91.47.12"
	ciLegacyUA      = "aws-cli/1.18.69 Python/2.7.18 Linux/4.14.231-173.361.amzn2.x86_64 botocore/1.16.19"
	rootScriptIP    = "198.51.100.201"
	rootScriptUA    = "aws-cli/1.16.312 Python/2.7.17 Linux/4.15.0-213-generic botocore/1.13.48"
	rootConsoleIP   = "198.51.100.88"
	githubOIDC      = "token.actions.githubusercontent.com"
	bruteForceTries = 36
	bulkObjects     = 180
)

// storyTime is when a planted story happens: daysAgo before the as-of
// time, or, when the window is too short for that, at the fraction frac of
// the window, so that every story keeps its place in a short window too.
func (w *world) storyTime(daysAgo, frac float64) int64 {
	if t := w.daysAgo(daysAgo); t >= w.windowStart+4*3600 {
		return t
	}
	return w.windowStart + int64(frac*float64(w.asOf-w.windowStart))
}

func (w *world) plantProduction(a *account) {
	r := w.rng("production")
	pl := &planter{w: w, r: w.rng("production-events")}
	id := a.id

	// Groups and their policies.
	readOnly := w.readOnlyPolicy(a, r)
	devAccess := w.customerPolicy(a, r, "DeveloperAccess", w.ago(r, 800),
		doc(allow([]string{"lambda:*", "cloudformation:*", "s3:*", "logs:*"})),
		doc(allow([]string{"lambda:*", "cloudformation:*", "s3:*", "logs:*", "dynamodb:*", "ec2:Describe*", "sqs:*", "sns:*", "cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"})))
	admins := w.addGroup(a, r, "Admins", w.ago(r, 1100))
	admins.attached = []*managedPolicy{w.awsPolicy("AdministratorAccess")}
	developers := w.addGroup(a, r, "Developers", w.ago(r, 900))
	developers.attached = []*managedPolicy{devAccess}
	// The group's inline policy lets any member rewrite policies and attach
	// them to themselves: privilege escalation through a group.
	developers.inline = []inlinePolicy{{name: "developers-iam-self-service", doc: doc(
		statement{Sid: "ManagePolicies", Effect: "Allow", Action: []string{"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy"}, Resource: []string{"*"}},
		statement{Sid: "PassAppRoles", Effect: "Allow", Action: []string{"iam:PassRole", "iam:Get*", "iam:List*"}, Resource: []string{"*"}},
	)}}
	ro := w.addGroup(a, r, "ReadOnly", w.ago(r, 700))
	ro.attached = []*managedPolicy{readOnly}
	// An empty group that still carries a broad policy.
	contractors := w.addGroup(a, r, "Contractors", w.ago(r, 600))
	contractors.attached = []*managedPolicy{w.awsPolicy("PowerUserAccess")}

	// alice: administrator through the Admins group, console with MFA and a CLI key.
	alice := w.addUser(a, r, "alice", w.ago(r, 1200))
	w.setPassword(alice, w.ago(r, 70), w.priorUse(r, 1))
	alice.mfa = true
	alice.tags = [][2]string{{"team", "platform"}}
	admins.members = append(admins.members, alice)
	alice.groups = append(alice.groups, admins)
	aliceKey := w.addKey(alice, r, w.windowStart-40*day-int64(r.IntN(day)), true).usedBefore(w.priorUse(r, 1), "us-east-1", "iam")

	// bob: a console user without MFA, in Developers, with a broad inline
	// NotAction policy someone gave him "for a week". The brute force target.
	bob := w.addUser(a, r, "bob", w.ago(r, 500))
	w.setPassword(bob, w.ago(r, 400), w.priorUse(r, 1))
	bob.inline = []inlinePolicy{{name: "bob-temporary-broad-access", doc: doc(
		statement{Effect: "Allow", NotAction: []string{"iam:*", "organizations:*", "account:*"}, Resource: []string{"*"}})}}

	// carol: data engineer; her first key is 200 days old and still used by a
	// script, the second one is new: two active keys during a rotation that never ended.
	carol := w.addUser(a, r, "carol", w.ago(r, 700))
	w.setPassword(carol, w.ago(r, 200), w.priorUse(r, 1))
	carol.mfa = true
	dataPlatform := w.customerPolicy(a, r, "DataPlatformAccess", w.ago(r, 650),
		doc(allow([]string{"s3:*", "dynamodb:*", "iam:PassRole", "glue:*"})),
		doc(statement{Sid: "DataLake", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:ListAllMyBuckets"}, Resource: []string{"*"}},
			statement{Sid: "Tables", Effect: "Allow", Action: []string{"dynamodb:DescribeTable", "dynamodb:ListTables", "dynamodb:Query", "dynamodb:Scan"}, Resource: []string{"*"}},
			statement{Sid: "Keys", Effect: "Allow", Action: []string{"kms:Decrypt", "kms:GenerateDataKey", "secretsmanager:GetSecretValue", "iam:CreateAccessKey", "iam:ListAccessKeys"}, Resource: []string{"*"}},
		))
	carol.attached = []*managedPolicy{dataPlatform}
	carolOld := w.addKey(carol, r, w.ago(r, 200), true).usedBefore(w.priorUse(r, 1), "us-west-2", "s3")
	carolNewAt := w.daysAgo(11.58)
	carolNew := w.addKey(carol, r, min(carolNewAt, w.asOf-2*day), true)

	// dave: administrator by a directly attached policy; last signed in 50 days ago.
	dave := w.addUser(a, r, "dave", w.ago(r, 1000))
	w.setPassword(dave, w.ago(r, 300), w.priorUse(r, 50))
	dave.mfa = true
	dave.attached = []*managedPolicy{w.awsPolicy("AdministratorAccess")}

	// erin: left the team months ago. Password and first key unused for
	// over 90 days; her second key was deactivated long ago and must not be flagged.
	erin := w.addUser(a, r, "erin", w.ago(r, 800))
	w.setPassword(erin, w.ago(r, 600), w.priorUse(r, 120))
	erin.mfa = true
	developers.members = append(developers.members, bob, erin)
	bob.groups = append(bob.groups, developers)
	erin.groups = append(erin.groups, developers)
	w.addKey(erin, r, w.ago(r, 300), true).usedBefore(w.priorUse(r, 130), "us-east-1", "ec2")
	erinOld := w.addKey(erin, r, w.ago(r, 400), false).usedBefore(w.priorUse(r, 380), "us-east-1", "s3")
	w.facts = append(w.facts, Fact{Fact: "inactive_old_key_not_flagged", Category: "credentials", Subject: erin.arn,
		Evidence: []string{keyRef(a, "erin", 2)},
		Detail:   "erin's second access key (" + erinOld.id + ") is 400 days old and unused for over a year but inactive: key-age and unused-credential checks must not report it"})

	// frank: project access limited by a permissions boundary that takes away
	// every EC2 action but Describe*; his attempts to launch and terminate are denied.
	frank := w.addUser(a, r, "frank", w.ago(r, 400))
	frank.attached = []*managedPolicy{w.customerPolicy(a, r, "FrankProjectAccess", w.ago(r, 390), doc(allow([]string{"s3:*", "ec2:*", "cloudwatch:Describe*"})))}
	frank.boundary = w.customerPolicy(a, r, "DeveloperBoundary", w.ago(r, 395), doc(allow([]string{"s3:*", "ec2:Describe*", "cloudwatch:*", "logs:*"})))
	frankKey := w.addKey(frank, r, w.windowStart-30*day-int64(r.IntN(day)), true).usedBefore(w.priorUse(r, 1), "us-west-2", "ec2")

	// svc-reporting: a service user whose key was created 150 days ago and
	// never used; it has a directly attached and an inline policy. The
	// attacker gives it a console password.
	svcReporting := w.addUser(a, r, "svc-reporting", w.ago(r, 150))
	svcReporting.path = "/service/"
	svcReporting.arn = "arn:aws:iam::" + id + ":user/service/svc-reporting"
	svcReporting.principal.arn = svcReporting.arn
	svcReporting.attached = []*managedPolicy{w.customerPolicy(a, r, "ReportingReadS3", w.ago(r, 150), doc(
		statement{Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + a.alias + "-reports", "arn:aws:s3:::" + a.alias + "-reports/*"}, ListOneValue: true}))}
	svcReporting.inline = []inlinePolicy{{name: "reporting-cost-explorer", doc: doc(allow([]string{"ce:GetCostAndUsage", "ce:GetCostForecast"}))}}
	w.addKey(svcReporting, r, w.ago(r, 150), true)

	// ci-legacy: the old Jenkins user. Its inline policy was meant for its own
	// keys and the deploy role but names every user and every role. Its key leaks.
	ciLegacy := w.addUser(a, r, "ci-legacy", w.ago(r, 900))
	ciLegacy.inline = []inlinePolicy{{name: "ci-legacy-deploy", doc: doc(
		statement{Sid: "Artifacts", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + a.res.artifacts, "arn:aws:s3:::" + a.res.artifacts + "/*"}},
		statement{Sid: "AssumeDeployRole", Effect: "Allow", Action: []string{"sts:AssumeRole"}, Resource: []string{"arn:aws:iam::" + id + ":role/*"}},
		statement{Sid: "RotateOwnKeys", Effect: "Allow", Action: []string{"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:ListAccessKeys", "iam:GetUser", "iam:ListUsers", "iam:ListRoles"}, Resource: []string{"arn:aws:iam::" + id + ":user/*", "arn:aws:iam::" + id + ":role/*"}},
		statement{Sid: "Registry", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: []string{"*"}},
	)}}
	ciKey := w.addKey(ciLegacy, r, min(w.ago(r, 70), w.windowStart-2*day-int64(r.IntN(day))), true).usedBefore(w.priorUse(r, 1), "us-east-1", "sts")

	// etl-dynamo: works only on DynamoDB items, which the trail does not
	// record (data events): the report shows yesterday's use, CloudTrail nothing.
	etl := w.addUser(a, r, "etl-dynamo", w.ago(r, 250))
	etl.inline = []inlinePolicy{{name: "etl-tables", doc: doc(allow([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"}, "arn:aws:dynamodb:us-west-2:"+id+":table/orders"))}}
	etlKey := w.addKey(etl, r, min(w.ago(r, 60), w.windowStart-day-int64(r.IntN(day))), true)
	etlKey.usedBefore(w.asOf-day+3*3600+17*60, "us-west-2", "dynamodb")

	// olivia: a new hire who never signed in.
	olivia := w.addUser(a, r, "olivia", min(w.ago(r, 20), w.windowStart-2*day-int64(r.IntN(day))))
	w.setPassword(olivia, olivia.created, 0)
	ro.members = append(ro.members, olivia)
	olivia.groups = append(olivia.groups, ro)

	// Roles.
	opsAdmin := w.addRole(a, r, "ops-admin", "/", w.ago(r, 1000), trustAWS([]string{"arn:aws:iam::" + id + ":root"}, nil))
	opsAdmin.attached = []*managedPolicy{w.awsPolicy("AdministratorAccess")}
	opsAdmin.lastUsed, opsAdmin.lastRegion = w.priorUse(r, 1), "us-east-1"
	deploy := w.addRole(a, r, "deploy", "/", w.ago(r, 850), trustAWS([]string{"arn:aws:iam::" + id + ":user/ci-legacy"}, nil))
	deploy.attached = []*managedPolicy{w.customerPolicy(a, r, "deploy-pipeline", w.ago(r, 840), doc(
		statement{Sid: "Artifacts", Effect: "Allow", Action: []string{"s3:*"}, Resource: []string{"arn:aws:s3:::" + a.res.artifacts, "arn:aws:s3:::" + a.res.artifacts + "/*"}},
		statement{Sid: "Functions", Effect: "Allow", Action: []string{"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:GetFunction", "lambda:PublishVersion", "lambda:CreateFunction", "lambda:DeleteFunction"}, Resource: []string{"*"}},
		statement{Sid: "Stacks", Effect: "Allow", Action: []string{"cloudformation:*", "ec2:*", "dynamodb:*", "iam:PassRole"}, Resource: []string{"*"}},
	))}
	deploy.lastUsed, deploy.lastRegion = w.priorUse(r, 1), a.res.artifactsRgn

	oidcProvider := "arn:aws:iam::" + id + ":oidc-provider/" + githubOIDC
	// GitHub Actions can assume this role from any repository: the trust
	// checks the audience but not the subject.
	gh := w.addRole(a, r, "github-actions-deploy", "/", w.ago(r, 300), doc(statement{
		Effect: "Allow", Principal: &principalSpec{Kinds: []principalKind{{"Federated", []string{oidcProvider}}}},
		Action: []string{"sts:AssumeRoleWithWebIdentity"}, Condition: map[string]map[string][]string{"StringEquals": {githubOIDC + ":aud": {"sts.amazonaws.com"}}},
	}))
	gh.inline = []inlinePolicy{{name: "web-assets-deploy", doc: doc(
		statement{Effect: "Allow", Action: []string{"s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:GetObject"}, Resource: []string{"arn:aws:s3:::" + a.res.webAssets, "arn:aws:s3:::" + a.res.webAssets + "/*"}},
		statement{Effect: "Allow", Action: []string{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}, Resource: []string{"*"}},
	)}}
	gh.lastUsed, gh.lastRegion = w.priorUse(r, 1), "us-east-1"

	// A role anyone in any account can assume: never used, and forgotten.
	partner := w.addRole(a, r, "legacy-partner-access", "/", w.ago(r, 1400), doc(statement{
		Effect: "Allow", Principal: &principalSpec{Kinds: []principalKind{{"AWS", []string{"*"}}}}, Action: []string{"sts:AssumeRole"}}))
	partner.inline = []inlinePolicy{{name: "partner-read", doc: doc(allow([]string{"s3:GetObject", "s3:ListBucket"}, "arn:aws:s3:::"+a.alias+"-partner-exchange", "arn:aws:s3:::"+a.alias+"-partner-exchange/*"))}}
	// An auditor's role, guarded by an ExternalId and never used.
	auditor := w.addRole(a, r, "audit-readonly-2019", "/", w.ago(r, 2500), trustAWS([]string{"arn:aws:iam::" + accountNumber(w.rng("auditor")) + ":root"},
		map[string]map[string][]string{"StringEquals": {"sts:ExternalId": {"acme-audit-" + randomHex(r, 12)}}}))
	auditor.attached = []*managedPolicy{w.customerPolicy(a, r, "SecurityAuditLite", w.ago(r, 2500), doc(allow([]string{"iam:Get*", "iam:List*", "cloudtrail:Describe*", "cloudtrail:GetTrailStatus", "config:Describe*", "s3:GetBucketPolicy", "s3:GetBucketAcl", "ec2:Describe*"})))}
	w.vendorRole(a, r)
	w.lambdaRole(a, r, "orders-api", a.res.artifactsRgn)

	// Routine activity of these principals.
	adminCalls := []any{"ec2:DescribeInstances", 12, "ec2:DescribeSecurityGroups", 4, "ec2:StopInstances", 1, "ec2:StartInstances", 1, "ec2:CreateTags", 1,
		"iam:ListUsers", 3, "iam:ListRoles", 4, "iam:GetRole", 4, "iam:ListAttachedRolePolicies", 3, "iam:GetAccountSummary", 1, "iam:ListMFADevices", 1,
		"s3:ListBuckets", 5, "s3:GetBucketPolicy", 4, "s3:GetBucketPublicAccessBlock", 2, "s3:ListObjects", 3, "cloudtrail:DescribeTrails", 2,
		"cloudtrail:GetTrailStatus", 2, "cloudtrail:LookupEvents", 3, "cloudformation:DescribeStacks", 4, "rds:DescribeDBInstances", 2,
		"kms:ListAliases", 1, "monitoring:DescribeAlarms", 3, "guardduty:ListDetectors", 1, "organizations:DescribeOrganization", 1, "ce:GetCostAndUsage", 1}
	devCalls := []any{"lambda:ListFunctions20150331", 10, "lambda:GetFunction20150331v2", 8, "lambda:GetFunctionConfiguration20150331v2", 4,
		"cloudformation:DescribeStacks", 8, "cloudformation:DescribeStackEvents", 6, "cloudformation:GetTemplate", 2, "logs:DescribeLogGroups", 6,
		"logs:DescribeLogStreams", 6, "s3:ListBuckets", 4, "s3:ListObjects", 6, "s3:GetObject", 4, "dynamodb:DescribeTable", 3, "ec2:DescribeInstances", 4,
		"monitoring:DescribeAlarms", 3, "iam:ListRoles", 2, "sqs:ListQueues", 2}
	w.humanActors(a, r, alice, adminCalls, nil, false)
	aliceCLI := &actor{acct: a, name: "alice@cli", kind: kindUserKey, weight: 1, regions: spread(a, 0, 0.7), user: alice, key: aliceKey, principal: alice.principal,
		calls: calls(adminCalls...), errRate: 0.02, pattern: bursty, workdays: true, workFrom: 9, workLen: 8, tz: -5, cli: true,
		uas: []string{cliAgents[0]}, ips: []string{"198.51.100.23"}}
	a.actors = append(a.actors, aliceCLI)
	w.humanActors(a, r, bob, devCalls, []string{"organizations:DescribeOrganization"}, false)
	bobConsole := a.actors[len(a.actors)-1]
	bobConsole.ips = []string{"192.0.2.41"}
	carolCalls := []any{"s3:ListBuckets", 4, "s3:GetBucketLocation", 3, "s3:ListObjects", 10, "s3:GetObject", 14, "s3:PutObject", 6, "dynamodb:DescribeTable", 3, "dynamodb:ListTables", 2, "kms:Decrypt", 3}
	w.humanActors(a, r, carol, carolCalls, []string{"secretsmanager:ListSecrets", "ec2:DescribeInstances"}, false)
	a.actors = append(a.actors,
		&actor{acct: a, name: "carol@cli", kind: kindUserKey, weight: 1, regions: spread(a, 1, 0.8), user: carol, key: carolNew, principal: carol.principal,
			calls: calls(carolCalls...), errRate: 0.02, pattern: bursty, workdays: true, workFrom: 9, workLen: 8, tz: 1, cli: true,
			uas: []string{cliAgents[1]}, ips: []string{"192.0.2.87"}, buckets: []string{a.res.dataBuckets[a.regions[1]]}, keyPrefix: "analytics"},
		&actor{acct: a, name: "carol@script", kind: kindUserKey, weight: 1.5, regions: only(a, a.regions[1]), user: carol, key: carolOld, principal: carol.principal,
			calls: calls("s3:GetObject", 50, "s3:ListObjects", 15, "s3:PutObject", 25, "kms:Decrypt", 10), errRate: 0.01, pattern: bursty,
			uas: []string{"Boto3/1.26.90 Python/3.9.16 Linux/5.15.0-1031-aws Botocore/1.29.90"}, ips: []string{"192.0.2.87"},
			buckets: []string{a.res.dataBuckets[a.regions[1]]}, keyPrefix: "etl/daily"},
		&actor{acct: a, name: "frank@cli", kind: kindUserKey, weight: 1, regions: spread(a, 1, 0.8), user: frank, key: frankKey, principal: frank.principal,
			calls:   calls("ec2:DescribeInstances", 20, "ec2:DescribeVolumes", 6, "ec2:DescribeSubnets", 4, "s3:ListObjects", 8, "s3:GetObject", 8, "s3:PutObject", 4, "monitoring:DescribeAlarms", 4),
			errRate: 0.02, pattern: bursty, workdays: true, workFrom: 10, workLen: 7, tz: 0, cli: true, uas: []string{cliAgents[1]}, ips: []string{"192.0.2.150"}},
	)
	ciActor := &actor{acct: a, name: "ci-legacy", kind: kindUserKey, weight: 2, regions: spread(a, 1, 0.6), user: ciLegacy, key: ciKey, principal: ciLegacy.principal,
		calls: calls("s3:GetObject", 30, "s3:PutObject", 25, "s3:ListObjects", 15, "sts:GetCallerIdentity", 15, "ecr:GetAuthorizationToken", 15), errRate: 0.01,
		pattern: bursty, workdays: true, workFrom: 6, workLen: 14, uas: []string{ciLegacyUA}, ips: []string{ciLegacyIP}, buckets: []string{a.res.artifacts}, keyPrefix: "builds"}
	a.actors = append(a.actors, ciActor,
		&actor{acct: a, name: "deploy", kind: kindAssumed, weight: 3, regions: spread(a, 1, 0.8), role: deploy, principal: deploy.principal, issuer: ciActor,
			calls: calls("s3:PutObject", 30, "lambda:UpdateFunctionCode20150331v2", 8, "lambda:GetFunction20150331v2", 15, "cloudformation:DescribeStacks", 20,
				"cloudformation:DescribeStackEvents", 15, "cloudformation:CreateChangeSet", 4, "cloudformation:DescribeChangeSet", 4, "cloudformation:ExecuteChangeSet", 3),
			errRate: 0.01, pattern: bursty, runs: [2]int{2, 6}, runLen: 900, uas: []string{"aws-cli/1.18.69 Python/2.7.18 Linux/4.14.231-173.361.amzn2.x86_64 botocore/1.16.19"},
			buckets: []string{a.res.artifacts}, keyPrefix: "releases"},
		&actor{acct: a, name: "ops-admin", kind: kindAssumed, weight: 0.5, regions: spread(a, 0, 0.7), role: opsAdmin, principal: opsAdmin.principal, issuer: aliceCLI,
			calls: calls(adminCalls...), errRate: 0.02, pattern: bursty, runs: [2]int{0, 1}, runLen: 1800, uas: []string{cliAgents[0]}},
		&actor{acct: a, name: "github-actions-deploy", kind: kindWebIdentity, weight: 2, regions: only(a, "us-east-1"), role: gh, principal: gh.principal,
			calls: calls("s3:PutObject", 60, "s3:ListObjects", 20, "cloudfront:CreateInvalidation2020_05_31", 8), errRate: 0.005, pattern: bursty,
			runs: [2]int{3, 10}, runLen: 300, oidc: oidcProvider, subject: "repo:acme/web-frontend:ref:refs/heads/main",
			uas: []string{"aws-sdk-js/3.679.0 ua/2.1 os/linux#6.5.0-1025-azure lang/js md/nodejs#20.18.0 api/s3#3.679.0 m/E,N"},
			ips: []string{"20.42.11.37", "4.227.19.83", "52.191.44.204", "20.98.134.66"}, buckets: []string{a.res.webAssets}, keyPrefix: "assets"},
	)

	// Carol's rotation: she created her second key with her first one.
	if carolNewAt >= w.windowStart+3600 {
		pl.call(a, "us-east-1", carolNewAt, call("iam:CreateAccessKey"), userKey(carol, carolOld, "192.0.2.87", cliAgents[1]+" md/command#iam.create-access-key"), opt{target: "carol"}).
			rec.resp = []byte(fmt.Sprintf(`{"accessKey":{"userName":"carol","accessKeyId":"%s","status":"Active","createDate":"%s"}}`, carolNew.id, iamDate(carolNewAt)))
	}

	// Frank tries what his boundary removes.
	frankWho := userKey(frank, frankKey, "192.0.2.150", cliAgents[1])
	frankWho.cliUA = true
	ft := w.storyTime(3.55, 0.65)
	var frankDenied []string
	for i, name := range []string{"ec2:RunInstances", "ec2:TerminateInstances", "ec2:RunInstances"} {
		frankDenied = append(frankDenied, pl.call(a, a.regions[1], ft+int64(i*47), call(name), frankWho, opt{denied: true, boundary: true}).id())
	}
	w.extraEvidence = map[string][]string{frank.arn: frankDenied}

	w.plantBruteForce(a, pl, bob)
	w.plantIncident(a, pl, ciLegacy, ciKey, alice, svcReporting, opsAdmin)
}

// plantBruteForce: guesses at unknown names, then dozens of failed
// passwords for bob, then a success (bob has no MFA) and a look around.
func (w *world) plantBruteForce(a *account, pl *planter, bob *iamUser) {
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"
	t := w.storyTime(4.62, 0.5)
	var ev []string
	for range 3 {
		ev = append(ev, pl.consoleLogin(a, t, nil, false, false, false, bruteForceIP, ua).id())
		t += int64(6 + pl.r.IntN(9))
	}
	for range bruteForceTries {
		ev = append(ev, pl.consoleLogin(a, t, bob, false, false, false, bruteForceIP, ua).id())
		t += int64(7 + pl.r.IntN(10))
	}
	ok := pl.consoleLogin(a, t, bob, false, true, false, bruteForceIP, ua)
	ev = append(ev, ok.id())
	sess := accessKeyID(pl.r, "ASIA")
	by := userConsole(bob, sess, t, false, bruteForceIP)
	var after []string
	for i, c := range []string{"s3:ListBuckets", "ec2:DescribeInstances", "lambda:ListFunctions20150331", "secretsmanager:ListSecrets", "iam:ListUsers"} {
		ac := call(c)
		region := "us-east-1"
		if !ac.global && i%2 == 1 {
			region = a.regions[1]
		}
		after = append(after, pl.call(a, region, t+int64(40+i*23), ac, by, opt{}).id())
	}
	w.facts = append(w.facts, Fact{Fact: "console_brute_force", Category: "incident", Subject: bob.arn, Evidence: ev,
		Detail: fmt.Sprintf("%d failed console sign-ins from %s (3 for unknown user names, %d for bob) within minutes, then a successful sign-in without MFA", 3+bruteForceTries, bruteForceIP, bruteForceTries)})
	w.facts = append(w.facts, Fact{Fact: "activity_after_brute_force", Category: "incident", Subject: bob.arn, Evidence: after,
		Detail: "the console session opened by the brute force lists buckets, instances, functions, secrets and users from " + bruteForceIP})
}

// plantIncident: ci-legacy's leaked key is used from a new address:
// GetCallerIdentity and a burst of AccessDenied reconnaissance, a key for
// alice and a console password for svc-reporting, then AssumeRole into
// ops-admin, whose session stops a trail and reads the archive bucket in
// bulk from a region the organization never used.
func (w *world) plantIncident(a *account, pl *planter, ci *iamUser, ciKey *accessKey, alice, target *iamUser, opsAdmin *iamRole) {
	t0 := w.storyTime(1.905, 0.85)
	attacker := func(command string) who {
		by := userKey(ci, ciKey, attackerIP, attackerCLI+command)
		return by
	}
	// The pipeline's own use of the key earlier that day, from its usual address.
	pl.call(a, "us-east-1", t0-5*3600, call("sts:GetCallerIdentity"), userKey(ci, ciKey, ciLegacyIP, ciLegacyUA), opt{})
	pl.call(a, a.res.artifactsRgn, t0-5*3600+4, call("s3:GetObject"), userKey(ci, ciKey, ciLegacyIP, ciLegacyUA), opt{bucket: a.res.artifacts, key: "builds/main/4711/app.zip"})
	var all, recon []string
	step := func(t int64, region, name string, ua string, o opt) *plantedEvent {
		c := call(name)
		by := attacker(cliCommand(c))
		if ua != "" {
			by.ua = ua
		}
		ev := pl.call(a, region, t, c, by, o)
		all = append(all, ev.id())
		return ev
	}
	t := t0
	first := step(t, "us-east-1", "sts:GetCallerIdentity", "", opt{})
	recon = append(recon, first.id())
	type probe struct {
		name, region, ua string
		denied           bool
		target           string
	}
	probes := []probe{
		{"iam:ListUsers", "us-east-1", "", false, ""},
		{"iam:ListRoles", "us-east-1", "", false, ""},
		{"iam:GetAccountAuthorizationDetails", "us-east-1", "", true, ""},
		{"iam:ListAttachedUserPolicies", "us-east-1", "", true, "ci-legacy"},
		{"iam:ListGroups", "us-east-1", "", true, ""},
		{"s3:ListBuckets", "us-east-1", "", true, ""},
		{"ec2:DescribeInstances", "us-east-1", "", true, ""},
		{"ec2:DescribeInstances", a.regions[min(1, len(a.regions)-1)], "", true, ""},
		{"ec2:DescribeInstances", a.regions[len(a.regions)-1], "", true, ""},
		{"secretsmanager:ListSecrets", "us-east-1", "", true, ""},
		{"lambda:ListFunctions20150331", "us-east-1", "", true, ""},
		{"rds:DescribeDBInstances", "us-east-1", formulaUA, true, ""},
		{"guardduty:ListDetectors", "us-east-1", `Mozilla/5.0 (compatible; "recon"\"><script>alert(document.domain)</script>)`, true, ""},
		{"organizations:DescribeOrganization", "us-east-1", "", true, ""},
		{"kms:ListKeys", "us-east-1", "", true, ""},
		{"dynamodb:ListTables", "us-east-1", "Boto3/1.28.62 Python/3.11.6\tpacu/1.5.3 \u00fc\u00f1\u00ee\u2028end", true, ""},
		{"cloudtrail:DescribeTrails", "us-east-1", "", true, ""},
		{"ssm:DescribeParameters", "us-east-1", "", true, ""},
		{"iam:ListAccessKeys", "us-east-1", "", false, alice.name},
	}
	for _, p := range probes {
		t += int64(4 + pl.r.IntN(14))
		recon = append(recon, step(t, p.region, p.name, p.ua, opt{denied: p.denied, target: p.target}).id())
	}
	w.facts = append(w.facts,
		Fact{Fact: "leaked_access_key_used_from_new_ip", Category: "incident", Subject: ciKey.id, Evidence: []string{first.id()},
			Detail: "ci-legacy's key, used until then only from " + ciLegacyIP + " by Jenkins, is used from " + attackerIP + " with a Kali Linux aws-cli"},
		Fact{Fact: "reconnaissance_burst", Category: "incident", Subject: ciKey.id, Evidence: recon,
			Detail: fmt.Sprintf("GetCallerIdentity then %d calls across IAM, S3, EC2 and other services within minutes from %s, most refused (AccessDenied / Client.UnauthorizedOperation)", len(probes), attackerIP)},
	)

	// Persistence: a key for an administrator, a password for a service user.
	t = t0 + 6*60 + int64(pl.r.IntN(30))
	newKey := w.addKey(alice, pl.r, t, true)
	ck := step(t, "us-east-1", "iam:CreateAccessKey", "", opt{target: alice.name})
	ck.rec.resp = []byte(fmt.Sprintf(`{"accessKey":{"userName":%q,"accessKeyId":%q,"status":"Active","createDate":%q}}`, alice.name, newKey.id, iamDate(t)))
	t += 50 + int64(pl.r.IntN(20))
	target.password = &password{changed: t, cred: w.addCred("password")}
	lp := step(t, "us-east-1", "iam:CreateLoginProfile", "", opt{target: target.name})
	lp.rec.params = []byte(fmt.Sprintf(`{"userName":%q,"passwordResetRequired":false}`, target.name))
	lp.rec.resp = []byte(fmt.Sprintf(`{"loginProfile":{"userName":%q,"createDate":%q,"passwordResetRequired":false}}`, target.name, iamDate(t)))
	t += 40 + int64(pl.r.IntN(20))
	check := pl.call(a, "us-east-1", t, call("sts:GetCallerIdentity"), userKey(alice, newKey, attackerIP, attackerCLI+"sts.get-caller-identity"), opt{})
	all = append(all, check.id())
	w.facts = append(w.facts,
		Fact{Fact: "access_key_created_for_another_user", Category: "incident", Subject: ciKey.id, Evidence: []string{ck.id(), check.id()},
			Detail: "ci-legacy's key creates access key " + newKey.id + " for the administrator alice; the new key is tried at once from " + attackerIP},
		Fact{Fact: "login_profile_created_for_another_user", Category: "incident", Subject: ciKey.id, Evidence: []string{lp.id()},
			Detail: "ci-legacy's key gives the service user svc-reporting a console password (no MFA)"},
	)

	// Privilege: AssumeRole into ops-admin (AdministratorAccess).
	t += 60 + int64(pl.r.IntN(30))
	sess := roleSession{name: "maintenance", keyID: accessKeyID(pl.r, "ASIA"), created: t}
	ar := step(t, "us-east-1", "sts:AssumeRole", "", opt{})
	assumeRoleEvent(&ar.rec, opsAdmin, sess.name, sess.keyID, 3600, "", pl.r)
	w.facts = append(w.facts, Fact{Fact: "admin_role_assumed_with_leaked_key", Category: "incident", Subject: opsAdmin.arn, Evidence: []string{ar.id()},
		Detail: "ci-legacy's key assumes ops-admin (AdministratorAccess) as session 'maintenance'; temporary key " + sess.keyID})

	// In a region never used before: stop a trail, then read the archive bucket in bulk.
	admin := roleWho(opsAdmin, sess, attackerIP, attackerCLI+"cloudtrail.describe-trails")
	t += 90 + int64(pl.r.IntN(30))
	dt := pl.call(a, incidentRegion, t, call("cloudtrail:DescribeTrails"), admin, opt{})
	t += 20
	admin.ua = attackerCLI + "cloudtrail.stop-logging"
	stop := pl.call(a, incidentRegion, t, call("cloudtrail:StopLogging"), admin, opt{target: "arn:aws:cloudtrail:" + incidentRegion + ":" + a.id + ":trail/acme-prod-archive-audit"})
	stop.rec.resp = nil
	w.facts = append(w.facts, Fact{Fact: "cloudtrail_logging_stopped", Category: "incident", Subject: opsAdmin.arn, Evidence: []string{stop.id()},
		Detail: "the ops-admin session (temporary key " + sess.keyID + ", from " + attackerIP + ") stops the account trail acme-prod-archive-audit in " + incidentRegion})

	admin.ua = attackerCLI + "s3.ls"
	var bulk []string
	t += 60
	for i, prefix := range []string{"finance/", "customers/", "exports/"} {
		bulk = append(bulk, pl.call(a, incidentRegion, t+int64(i*3), call("s3:ListObjects"), admin, opt{bucket: a.res.archive, key: prefix}).id())
	}
	admin.ua = attackerCLI + "s3.cp"
	t += 30
	for i := range bulkObjects {
		var key string
		switch {
		case i == 17:
			key = `exports/=HYPERLINK("http://203.0.113.77/x","quarterly").csv`
		case i%3 == 0:
			key = fmt.Sprintf("finance/%d/ledger-%04d.parquet", 2021+i%5, i)
		case i%3 == 1:
			key = fmt.Sprintf("customers/export-%04d.csv.gz", i)
		default:
			key = fmt.Sprintf("exports/contracts-%04d.pdf", i)
		}
		bulk = append(bulk, pl.call(a, incidentRegion, t, call("s3:GetObject"), admin, opt{bucket: a.res.archive, key: key}).id())
		t += int64(pl.r.IntN(8))
	}
	w.facts = append(w.facts,
		Fact{Fact: "s3_bulk_download", Category: "incident", Subject: opsAdmin.arn, Evidence: bulk,
			Detail: fmt.Sprintf("the ops-admin session lists and downloads %d objects of %s (GetObject data events) from %s", bulkObjects, a.res.archive, attackerIP)},
		Fact{Fact: "activity_in_new_region", Category: "incident", Subject: opsAdmin.arn, Evidence: []string{dt.id(), stop.id(), bulk[0]},
			Detail: "first events of the organization in " + incidentRegion + ": the attacker's ops-admin session"},
	)
}

// plantRootMisuse: the root user has no MFA and an active access key that a
// forgotten backup script still uses; someone signs in as root without MFA.
func (w *world) plantRootMisuse(b *account) {
	r := w.rng("root")
	pl := &planter{w: w, r: w.rng("root-events")}
	root := &rootUser{created: w.ago(r, 1500), mfa: false, pwLastUsed: w.priorUse(r, 40)}
	root.key = &accessKey{id: accessKeyID(r, "AKIA"), active: true, created: w.ago(r, 1400), cred: w.addCred("key")}
	root.key.usedBefore(w.priorUse(r, 1), "us-east-1", "s3")
	b.root = root
	root.principal = w.addPrincipal(b, "root", "arn:aws:iam::"+b.id+":root")
	root.loginCred = w.addCred("password")
	rootArn := "arn:aws:iam::" + b.id + ":root"

	script := who{identity: identityRoot(b, root.key.id, 0, false), ip: rootScriptIP, ua: rootScriptUA, p: root.principal, cred: root.key.cred, arn: rootArn}
	var keyUse []string
	for i, ago := range []float64{11.3, 6.3, 3.3} {
		t := w.storyTime(ago, 0.1+0.25*float64(i))
		keyUse = append(keyUse, pl.call(b, "us-east-1", t, call("s3:ListBuckets"), script, opt{}).id())
		for i := range 3 {
			keyUse = append(keyUse, pl.call(b, "us-east-1", t+int64(5+i*11), call("s3:PutObject"), script, opt{bucket: b.res.backups, key: fmt.Sprintf("legacy-db/%s-%d.sql.gz", compactDate(t), i)}).id())
		}
	}

	t := w.storyTime(8.4, 0.3)
	const browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	login := pl.consoleLogin(b, t, nil, true, true, false, rootConsoleIP, browser)
	sess := accessKeyID(pl.r, "ASIA")
	console := who{identity: identityRoot(b, sess, t, false), ip: rootConsoleIP, ua: "console.amazonaws.com", p: root.principal, console: true, arn: rootArn}
	var session []string
	for i, c := range []string{"iam:GetAccountSummary", "ce:GetCostAndUsage", "s3:ListBuckets", "iam:ListUsers", "ec2:DescribeInstances", "organizations:DescribeOrganization"} {
		session = append(session, pl.call(b, "us-east-1", t+int64(30+i*41), call(c), console, opt{}).id())
	}
	w.facts = append(w.facts,
		Fact{Fact: "root_console_login_without_mfa", Category: "root", Subject: rootArn, Evidence: []string{login.id()},
			Detail: "the root user signs in to the console from " + rootConsoleIP + " without MFA (MFAUsed No)"},
		Fact{Fact: "root_console_activity", Category: "root", Subject: rootArn, Evidence: session,
			Detail: "the root console session reads the account summary, costs, buckets, users, instances and the organization"},
		Fact{Fact: "root_access_key_used", Category: "root", Subject: root.key.id, Evidence: keyUse,
			Detail: "a script signs API calls with the root user's access key from " + rootScriptIP + " (ListBuckets and PutObject to " + b.res.backups + ")"},
	)
}

// plantServiceEvents plants a KMS key's yearly automatic rotation: an
// AwsServiceEvent whose userIdentity has no type, only the account and
// "AWS Internal".
func (w *world) plantServiceEvents(a *account) {
	pl := &planter{w: w, r: w.rng("service-events", a.index)}
	region := a.regions[len(a.regions)-1]
	t := w.storyTime(3.2+0.3*float64(a.index%5), 0.4)
	by := who{identity: []byte(`{"accountId":"` + a.id + `","invokedBy":"AWS Internal"}`), ip: "AWS Internal", ua: "AWS Internal"}
	rec := &pl.call(a, region, t, call("kms:RotateKey"), by, opt{}).rec
	rec.eventType, rec.tlsHost, rec.requestID = "AwsServiceEvent", "", nil
}

func compactDate(t int64) string {
	y, m, d := civil(t / day)
	return fmt.Sprintf("%04d%02d%02d", y, m, d)
}
