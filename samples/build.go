package samples

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// newWorld builds the organization: accounts, principals, credentials,
// resources, actors and the planted stories. Everything is drawn from RNGs
// seeded by labels, in a fixed order.
func newWorld(opts Options) *world {
	w := &world{
		opts:        opts,
		seed:        opts.Seed,
		asOf:        opts.AsOf.Unix(),
		awsPolicies: map[string]*managedPolicy{},
		planted:     map[taskKey][]*plantedEvent{},
	}
	w.windowStart = w.asOf - int64(opts.Days)*day
	r := w.rng("organization")
	w.orgID = "o-" + randomString(r, lowerAlnum, 10)
	w.mgmtAccount = accountNumber(r)
	w.vendorAcct = accountNumber(w.rng("vendor"))
	w.trailName = "acme-org-trail"
	w.trailBucket = "acme-org-cloudtrail-" + w.mgmtAccount
	for i := range opts.Accounts {
		w.accounts = append(w.accounts, w.newAccount(i, accountNumber(r)))
	}
	w.digest.account, w.digest.region = w.accounts[0], "us-east-1"

	w.plantProduction(w.accounts[0])
	w.plantRootMisuse(w.accountB())
	for _, a := range w.accounts {
		w.baseline(a)
		w.background(a)
		w.plantServiceEvents(a)
	}
	for _, a := range w.accounts {
		for i, ac := range a.actors {
			ac.index = i
			ac.setup()
		}
	}
	return w
}

// accountB is where the root-user story is planted: the second account when there is one.
func (w *world) accountB() *account { return w.accounts[min(1, len(w.accounts)-1)] }

func accountNumber(r *rand.Rand) string {
	return strconv.Itoa(1+r.IntN(9)) + fmt.Sprintf("%011d", r.Int64N(1e11))
}

func (w *world) newAccount(i int, id string) *account {
	r := w.rng("account", i)
	a := &account{index: i, id: id, gaadPaged: i == 0, gaadSDK: i%2 == 1, instanceID: map[string][]string{}}
	switch i {
	case 0:
		a.alias, a.regions = "acme-prod", []string{"us-east-1", "us-west-2", "eu-west-1"}
	case 1:
		a.alias, a.regions = "acme-dev", []string{"us-east-1", "eu-central-1"}
	default:
		a.alias, a.regions = "acme-workload-"+strconv.Itoa(i), []string{"us-east-1", "us-east-2"}
	}
	second := a.regions[min(1, len(a.regions)-1)]
	a.res = resources{
		flowLogBucket: a.alias + "-vpc-flow-logs",
		configBucket:  a.alias + "-config-history",
		elbLogBucket:  a.alias + "-alb-access-logs",
		dataBuckets:   map[string]string{},
		artifacts:     a.alias + "-build-artifacts",
		artifactsRgn:  second,
		backups:       a.alias + "-backups",
		webAssets:     a.alias + "-web-assets",
		distribution:  "E" + randomString(r, upperAlnum, 13),
		functions:     map[string][]string{},
		tables:        []string{"orders", "customer-sessions", "inventory", "feature-flags"},
		secrets:       []string{"prod/orders/db-credentials", "prod/payments/stripe-api-key", "prod/app/jwt-signing-key"},
		parameters:    []string{"/prod/app/config", "/prod/app/feature-flags", "/prod/orders/queue-url"},
		kmsKeys:       map[string]string{},
		kmsKeyARN:     map[string]string{},
		stacks:        []string{"orders-api", "web-frontend", "networking", "data-pipeline"},
		vpcEndpoint:   map[string]string{},
	}
	for _, rg := range a.regions {
		a.res.dataBuckets[rg] = a.alias + "-app-data-" + rg
		a.res.kmsKeys[rg] = uuid(r)
		a.res.kmsKeyARN[rg] = "arn:aws:kms:" + rg + ":" + a.id + ":key/" + a.res.kmsKeys[rg]
		a.res.vpcEndpoint[rg] = "vpce-0" + randomHex(r, 16)
		for range 3 {
			a.instanceID[rg] = append(a.instanceID[rg], "i-0"+randomHex(r, 16))
		}
	}
	a.res.kmsKeys["ap-southeast-3"] = uuid(r)
	a.res.kmsKeyARN["ap-southeast-3"] = "arn:aws:kms:ap-southeast-3:" + a.id + ":key/" + a.res.kmsKeys["ap-southeast-3"]
	if i == 0 {
		a.res.archive = a.alias + "-archive-apse3"
	}
	return a
}

// bucketRegion is where a bucket lives, and so where its S3 events are logged.
func (w *world) bucketRegion(a *account, bucket string) string {
	switch bucket {
	case a.res.artifacts:
		return a.res.artifactsRgn
	case a.res.archive:
		return "ap-southeast-3"
	case a.res.flowLogBucket, a.res.configBucket, a.res.elbLogBucket, a.res.backups, a.res.webAssets:
		return "us-east-1"
	}
	for rg, b := range a.res.dataBuckets {
		if b == bucket {
			return rg
		}
	}
	return "us-east-1"
}

// awsPolicy returns an AWS managed policy (shared by every account).
func (w *world) awsPolicy(name string) *managedPolicy {
	if p, ok := w.awsPolicies[name]; ok {
		return p
	}
	p := &managedPolicy{name: name, aws: true, path: "/"}
	p.arn = "arn:aws:iam::aws:policy/" + name
	var d *policyDoc
	var id, ver string
	switch name {
	case "AdministratorAccess":
		id, ver = "ANPAIWMBCKSKIEE64ZLYK", "v1"
		d = doc(allow([]string{"*"}))
		p.description = "Provides full access to AWS services and resources."
		p.created, p.updated = 1423236547, 1423236547
	case "PowerUserAccess":
		id, ver = "ANPAJYRXTHIB4FOVS3ZXS", "v5"
		d = doc(
			statement{Effect: "Allow", NotAction: []string{"iam:*", "organizations:*", "account:*"}, Resource: []string{"*"}},
			allow([]string{"account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions", "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"}),
		)
		p.description = "Provides full access to AWS services and resources, but does not allow management of Users and groups."
		p.created, p.updated = 1423236547, 1678893040
	case "AWSLambdaBasicExecutionRole":
		id, ver = "ANPAJNCQGXC42545SKXIK", "v1"
		d = doc(allow([]string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}))
		p.description = "Provides write permissions to CloudWatch Logs."
		p.path = "/service-role/"
		p.arn = "arn:aws:iam::aws:policy/service-role/" + name
		p.created, p.updated = 1428451860, 1428451860
	case "AmazonSSMManagedInstanceCore":
		id, ver = "ANPAIXSHM2BNB2D3AXXRU", "v2"
		d = doc(
			allow([]string{"ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:DescribeDocument", "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters", "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:PutInventory", "ssm:PutComplianceItems", "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation"}),
			allow([]string{"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"}),
			allow([]string{"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"}),
		)
		p.description = "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality."
		p.created, p.updated = 1552521445, 1680191238
	default:
		panic("samples: unknown AWS managed policy " + name)
	}
	p.id = id
	p.versions = []policyVersion{{id: ver, doc: d, created: p.updated}}
	w.awsPolicies[name] = p
	return p
}

// baseline adds what every account has: the root user, the organization's
// access role, the vendor monitoring role, a read-only group, the flow-log
// delivery and the application's compute roles.
func (w *world) baseline(a *account) {
	r := w.rng("baseline", a.index)
	if a.root == nil {
		a.root = &rootUser{created: w.ago(r, 900+float64(r.IntN(900))), mfa: true}
		a.root.pwLastUsed = w.priorUse(r, 60+float64(r.IntN(200)))
		a.root.principal = w.addPrincipal(a, "root", "arn:aws:iam::"+a.id+":root")
		a.root.loginCred = w.addCred("password")
	}
	if a.index%2 == 1 {
		a.root.pwChanged = a.root.created // the newer report semantics (FORMATS.md A1)
	}

	if findRole(a, "OrganizationAccountAccessRole") == nil {
		ro := w.addRole(a, r, "OrganizationAccountAccessRole", "/", a.root.created+3600, trustAWS([]string{"arn:aws:iam::" + w.mgmtAccount + ":root"}, nil))
		ro.attached = []*managedPolicy{w.awsPolicy("AdministratorAccess")}
		ro.lastUsed, ro.lastRegion = w.priorUse(r, 30+float64(r.IntN(300))), "us-east-1"
	}
	ro := findRole(a, "VendorMonitoringRole")
	if ro == nil {
		ro = w.vendorRole(a, r)
	}
	w.vendorActor(a, ro)

	ro = findRole(a, "app-server")
	if ro == nil {
		ro = w.addRole(a, r, "app-server", "/", w.ago(r, 500+float64(r.IntN(300))), trustService("ec2.amazonaws.com"))
		ro.instanceProfile = true
		ro.attached = []*managedPolicy{w.awsPolicy("AmazonSSMManagedInstanceCore"), w.appServerPolicy(a, r)}
	}
	for _, rg := range a.regions[:min(2, len(a.regions))] {
		w.appServerActor(a, ro, rg)
	}
	if findRole(a, "orders-api-lambda") == nil {
		w.lambdaRole(a, r, "orders-api", a.res.artifactsRgn)
	}

	// AWS services delivering logs and configuration snapshots to the account's buckets.
	for _, d := range []struct {
		name, service, bucket, prefix string
		weight                        float64
		period                        int64
	}{
		{"vpc-flow-log-delivery", "delivery.logs.amazonaws.com", a.res.flowLogBucket, "AWSLogs/" + a.id + "/vpcflowlogs", 9, 300},
		{"config-delivery", "config.amazonaws.com", a.res.configBucket, "AWSLogs/" + a.id + "/Config", 6, 900},
		{"elb-log-delivery", "logdelivery.elasticloadbalancing.amazonaws.com", a.res.elbLogBucket, "AWSLogs/" + a.id + "/elasticloadbalancing", 6, 300},
	} {
		a.actors = append(a.actors, &actor{
			acct: a, name: d.name, kind: kindService, weight: d.weight, regions: only(a, "us-east-1"),
			calls: calls("s3:PutObject", 80, "s3:GetBucketAcl", 20), pattern: periodic, period: d.period, errRate: 0.01,
			service: d.service, ips: []string{d.service}, uas: []string{d.service}, buckets: []string{d.bucket}, keyPrefix: d.prefix,
		})
	}

	if findGroup(a, "ReadOnly") == nil {
		g := w.addGroup(a, r, "ReadOnly", w.ago(r, 700))
		g.attached = []*managedPolicy{w.readOnlyPolicy(a, r)}
	}
}

func findRole(a *account, name string) *iamRole {
	for _, ro := range a.roles {
		if ro.name == name {
			return ro
		}
	}
	return nil
}

func findGroup(a *account, name string) *iamGroup {
	for _, g := range a.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

func findPolicy(a *account, name string) *managedPolicy {
	for _, p := range a.policies {
		if p.name == name {
			return p
		}
	}
	return nil
}

var readOnlyActions = []string{
	"ec2:Describe*", "s3:Get*", "s3:List*", "cloudwatch:Describe*", "cloudwatch:List*", "logs:Describe*",
	"lambda:List*", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "cloudformation:Describe*", "cloudformation:List*",
	"cloudformation:GetTemplate", "rds:Describe*", "dynamodb:Describe*", "dynamodb:List*", "elasticloadbalancing:Describe*",
	"iam:List*", "iam:Get*", "sqs:ListQueues", "sns:ListTopics", "kms:List*", "kms:DescribeKey", "cloudtrail:Describe*",
	"cloudtrail:GetTrailStatus", "cloudtrail:LookupEvents", "ssm:Describe*", "ecr:Describe*",
}

func (w *world) readOnlyPolicy(a *account, r *rand.Rand) *managedPolicy {
	if p := findPolicy(a, "EngineeringReadOnly"); p != nil {
		return p
	}
	v1 := doc(allow(readOnlyActions[:12]))
	return w.customerPolicy(a, r, "EngineeringReadOnly", w.ago(r, 700), v1, doc(allow(readOnlyActions)))
}

func (w *world) appServerPolicy(a *account, r *rand.Rand) *managedPolicy {
	d := doc(
		statement{Sid: "ReadAppData", Effect: "Allow", Action: []string{"s3:GetObject", "s3:ListBucket"}, Resource: []string{"arn:aws:s3:::" + a.alias + "-app-data-*", "arn:aws:s3:::" + a.alias + "-app-data-*/*"}},
		statement{Sid: "Secrets", Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue", "kms:Decrypt"}, Resource: []string{"*"}},
		statement{Sid: "Runtime", Effect: "Allow", Action: []string{"ec2:DescribeTags", "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "logs:CreateLogStream", "logs:PutLogEvents", "cloudwatch:PutMetricData"}, Resource: []string{"*"}},
	)
	return w.customerPolicy(a, r, "app-server-runtime", w.ago(r, 480), d)
}

func (w *world) appServerActor(a *account, ro *iamRole, region string) {
	a.actors = append(a.actors, &actor{
		acct: a, name: "app-server@" + region, kind: kindServiceRole, weight: 20, regions: only(a, region), role: ro, principal: ro.principal,
		calls: calls("ssm:UpdateInstanceInformation", 22, "ssm:ListInstanceAssociations", 24, "ec2:DescribeTags", 10, "s3:GetObject", 14,
			"s3:ListObjects", 4, "kms:Decrypt", 12, "secretsmanager:GetSecretValue", 8, "ecr:GetAuthorizationToken", 6),
		errRate: 0.025, pattern: periodic, period: 300, instances: a.instanceID[region], service: "ec2.amazonaws.com",
		uas: []string{"aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0", "aws-sdk-java/2.28.11 Linux/6.1.112-122.189.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/legacy"},
		ips: []string{"10.0.12.41", "10.0.13.77", "10.0.14.9"}, buckets: []string{a.res.dataBuckets[region]}, keyPrefix: "config", vpce: true,
	})
}

// lambdaRole adds a Lambda function's execution role and the function's activity.
func (w *world) lambdaRole(a *account, r *rand.Rand, fn, region string) *iamRole {
	ro := w.addRole(a, r, fn+"-lambda", "/service-role/", w.ago(r, 300+float64(r.IntN(500))), trustService("lambda.amazonaws.com"))
	ro.attached = []*managedPolicy{w.awsPolicy("AWSLambdaBasicExecutionRole")}
	ro.inline = []inlinePolicy{{name: fn + "-access", doc: doc(
		statement{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt"}, Resource: []string{"*"}},
		statement{Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resource: []string{"arn:aws:s3:::" + a.res.dataBuckets[region] + "/*"}},
		statement{Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}, Resource: []string{"arn:aws:dynamodb:" + region + ":" + a.id + ":table/*"}},
	)}}
	a.res.functions[region] = append(a.res.functions[region], fn)
	a.actors = append(a.actors, &actor{
		acct: a, name: fn, kind: kindServiceRole, weight: 7, regions: only(a, region), role: ro, principal: ro.principal,
		calls:   calls("secretsmanager:GetSecretValue", 18, "kms:Decrypt", 26, "ssm:GetParameter", 22, "s3:PutObject", 18, "s3:GetObject", 16),
		errRate: 0.03, service: "lambda.amazonaws.com",
		uas:     []string{"aws-sdk-nodejs/2.1692.0 linux/v20.17.0 exec-env/AWS_Lambda_nodejs20.x promise", "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.226-235.879.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145"},
		ips:     []string{"3.92." + strconv.Itoa(r.IntN(250)) + "." + strconv.Itoa(r.IntN(250)), "44.201." + strconv.Itoa(r.IntN(250)) + "." + strconv.Itoa(r.IntN(250))},
		buckets: []string{a.res.dataBuckets[region]}, keyPrefix: fn,
	})
	return ro
}

func (w *world) vendorRole(a *account, r *rand.Rand) *iamRole {
	vendor := w.vendorAcct
	ro := w.addRole(a, r, "VendorMonitoringRole", "/", w.ago(r, 400+float64(r.IntN(300))), trustAWS(
		[]string{"arn:aws:iam::" + vendor + ":root"},
		map[string]map[string][]string{"StringEquals": {"sts:ExternalId": {randomHex(w.rng("external-id", a.index), 32)}}},
	))
	ro.description = "Read-only access for the monitoring vendor"
	d := doc(
		allow([]string{"ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "ec2:DescribeVolumes", "ec2:DescribeSecurityGroups", "ec2:DescribeSnapshots",
			"rds:DescribeDBInstances", "rds:DescribeDBClusters", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups",
			"elasticloadbalancing:DescribeTargetHealth", "lambda:ListFunctions", "lambda:GetFunctionConfiguration", "dynamodb:ListTables", "dynamodb:DescribeTable",
			"sqs:ListQueues", "sns:ListTopics", "cloudfront:ListDistributions", "s3:ListAllMyBuckets", "s3:GetBucketTagging", "s3:GetBucketLocation",
			"cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "logs:DescribeLogGroups", "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData",
			"cloudwatch:ListMetrics", "support:DescribeTrustedAdvisorChecks", "budgets:ViewBudget", "health:DescribeEvents", "tag:GetResources",
			"xray:GetTraceSummaries", "autoscaling:DescribeAutoScalingGroups", "es:ListDomainNames", "kinesis:ListStreams", "redshift:DescribeClusters"}),
	)
	ro.inline = []inlinePolicy{{name: "vendor-monitoring-read", doc: d}}
	ro.maxSession = 3600
	return ro
}

func (w *world) vendorActor(a *account, ro *iamRole) {
	r := w.rng("vendor-actor", a.index)
	ext := ro.trust.Statements[0].Condition["StringEquals"]["sts:ExternalId"][0]
	a.actors = append(a.actors, &actor{
		acct: a, name: "vendor-monitoring", kind: kindVendor, weight: 14, regions: spread(a, 0, 1/float64(len(a.regions))), role: ro, principal: ro.principal,
		calls: calls("ec2:DescribeInstances", 15, "ec2:DescribeVolumes", 10, "ec2:DescribeSecurityGroups", 6, "ec2:DescribeInstanceStatus", 8,
			"rds:DescribeDBInstances", 8, "elasticloadbalancing:DescribeLoadBalancers", 8, "elasticloadbalancing:DescribeTargetGroups", 5,
			"lambda:ListFunctions20150331", 8, "dynamodb:ListTables", 4, "dynamodb:DescribeTable", 4, "sqs:ListQueues", 4, "sns:ListTopics", 3,
			"cloudfront:ListDistributions2020_05_31", 2, "s3:ListBuckets", 3, "s3:GetBucketTagging", 3, "cloudtrail:DescribeTrails", 2,
			"logs:DescribeLogGroups", 5, "monitoring:DescribeAlarms", 6),
		errRate: 0.03, pattern: periodic, period: 600,
		uas:        []string{"aws-sdk-go/1.55.5 (go1.22.8; linux; amd64)", "aws-sdk-go-v2/1.32.2 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.182.0"},
		ips:        []string{"3.233.144." + strconv.Itoa(r.IntN(250)), "3.233.145." + strconv.Itoa(r.IntN(250)), "54.87.201." + strconv.Itoa(r.IntN(250))},
		vendorAcct: w.vendorAcct, vendorRole: uniqueID(r, "AROA") + ":monitoring-worker", externalID: ext,
	})
}

var humanNames = []string{
	"priya.sharma", "jonas.weber", "mei.chen", "lucas.martin", "amara.okafor", "sofia.rossi", "noah.kim", "fatima.hassan",
	"oliver.brown", "yuki.tanaka", "mateo.garcia", "ingrid.larsen", "kwame.mensah", "elena.popescu", "arjun.nair",
	"chloe.dubois", "david.cohen", "nadia.petrov", "samuel.adeyemi", "laura.fischer",
}

var ciNames = []string{"ci-terraform", "svc-backup", "svc-metrics-export", "ci-image-builder", "svc-log-archiver"}

// background adds the --users and --roles principals of an account, with their activity.
func (w *world) background(a *account) {
	r := w.rng("background", a.index)
	ro := findGroup(a, "ReadOnly")
	humans, cis := 0, 0
	for i := range w.opts.Users {
		if i%3 == 2 {
			name := ciNames[cis%len(ciNames)]
			if cis >= len(ciNames) {
				name += "-" + strconv.Itoa(cis/len(ciNames)+1)
			}
			cis++
			w.ciUser(a, r, name)
			continue
		}
		name := humanNames[humans%len(humanNames)]
		if humans >= len(humanNames) {
			name += strconv.Itoa(humans/len(humanNames) + 1)
		}
		humans++
		u := w.addUser(a, r, name, w.ago(r, 200+float64(r.IntN(900))))
		w.setPassword(u, u.created+int64(r.IntN(100))*day, w.priorUse(r, 20))
		u.mfa = true
		ro.members = append(ro.members, u)
		u.groups = append(u.groups, ro)
		u.tags = [][2]string{{"team", pick(r, []string{"platform", "payments", "data", "web"})}}
		w.humanActors(a, r, u, readOnlyCalls, readOnlyDenied, i%2 == 0)
	}
	for i := range w.opts.Roles {
		if i%2 == 1 {
			name := "worker-" + strconv.Itoa(i/2+1)
			ro := w.addRole(a, r, name, "/", w.ago(r, 200+float64(r.IntN(500))), trustService("ec2.amazonaws.com"))
			ro.instanceProfile = true
			ro.attached = []*managedPolicy{w.awsPolicy("AmazonSSMManagedInstanceCore"), w.workerPolicy(a, r)}
			rg := a.regions[i%len(a.regions)]
			ac := &actor{
				acct: a, name: name, kind: kindServiceRole, weight: 6, regions: only(a, rg), role: ro, principal: ro.principal,
				calls:   calls("ssm:UpdateInstanceInformation", 40, "ssm:ListInstanceAssociations", 40, "s3:GetObject", 20),
				errRate: 0.01, pattern: periodic, period: 300, instances: []string{"i-0" + randomHex(r, 16)}, service: "ec2.amazonaws.com",
				uas: []string{"aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1142.0"}, ips: []string{"10.0.20." + strconv.Itoa(r.IntN(250))},
				buckets: []string{a.res.dataBuckets[rg]}, keyPrefix: "jobs", vpce: true,
			}
			a.actors = append(a.actors, ac)
			continue
		}
		fns := []string{"image-resizer", "nightly-report", "webhook-handler", "invoice-generator", "search-indexer", "email-sender"}
		fn := fns[(i/2)%len(fns)]
		if i/2 >= len(fns) {
			fn += "-" + strconv.Itoa(i/2/len(fns)+1)
		}
		w.lambdaRole(a, r, fn, a.regions[(i/2)%len(a.regions)])
	}
}

func (w *world) workerPolicy(a *account, r *rand.Rand) *managedPolicy {
	if p := findPolicy(a, "worker-runtime"); p != nil {
		return p
	}
	return w.customerPolicy(a, r, "worker-runtime", w.ago(r, 300), doc(allow([]string{"s3:GetObject", "s3:ListBucket", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"})))
}

var readOnlyCalls = []any{
	"ec2:DescribeInstances", 14, "ec2:DescribeSecurityGroups", 5, "ec2:DescribeVpcs", 3, "ec2:DescribeSubnets", 3, "ec2:DescribeVolumes", 3,
	"s3:ListBuckets", 6, "s3:GetBucketLocation", 4, "s3:GetBucketAcl", 3, "s3:GetBucketPolicy", 4, "s3:GetBucketEncryption", 3,
	"s3:GetBucketVersioning", 2, "s3:GetBucketPublicAccessBlock", 2, "s3:ListObjects", 5, "s3:GetObject", 3,
	"monitoring:DescribeAlarms", 5, "logs:DescribeLogGroups", 5, "logs:DescribeLogStreams", 3,
	"lambda:ListFunctions20150331", 5, "lambda:GetFunction20150331v2", 3, "cloudformation:DescribeStacks", 5,
	"cloudformation:DescribeStackEvents", 3, "rds:DescribeDBInstances", 2, "dynamodb:ListTables", 2,
	"iam:ListRoles", 2, "iam:GetRole", 2, "iam:ListUsers", 1, "cloudtrail:LookupEvents", 2, "elasticloadbalancing:DescribeLoadBalancers", 2,
}

var readOnlyDenied = []string{"ec2:StopInstances", "s3:PutObject", "secretsmanager:GetSecretValue", "ssm:GetParameter", "lambda:UpdateFunctionConfiguration20150331v2"}

// humanActors adds a person's console sessions and, when cli, their use of
// the CLI with an access key.
func (w *world) humanActors(a *account, r *rand.Rand, u *iamUser, callSpec []any, denied []string, cli bool) {
	tz := pick(r, []int{-8, -5, -5, 0, 1, 1, 2, 5})
	home := pick(r, []string{"192.0.2.", "198.51.100."}) + strconv.Itoa(10+r.IntN(200))
	browser := pick(r, browsers)
	var den []*apiCall
	for _, d := range denied {
		den = append(den, call(d))
	}
	primary := 0
	if tz >= 0 && len(a.regions) > 2 {
		primary = 2
	}
	a.actors = append(a.actors, &actor{
		acct: a, name: u.name + "@console", kind: kindConsole, weight: 2.5, regions: spread(a, primary, 0.75), user: u, principal: u.principal,
		calls: calls(callSpec...), denied: den, deniedRate: 0.01, errRate: 0.03,
		workdays: true, workFrom: 8, workLen: 8, tz: tz, browser: browser, ips: []string{home, "198.51.100.7"},
	})
	if !cli {
		return
	}
	k := w.addKey(u, r, w.windowStart-int64(5+r.IntN(60))*day-int64(r.IntN(day)), true)
	k.usedBefore(w.priorUse(r, 1), "us-east-1", "ec2")
	a.actors = append(a.actors, &actor{
		acct: a, name: u.name + "@cli", kind: kindUserKey, weight: 1, regions: spread(a, primary, 0.8), user: u, key: k, principal: u.principal,
		calls: calls(callSpec...), denied: den, deniedRate: 0.02, errRate: 0.02, pattern: bursty,
		workdays: true, workFrom: 9, workLen: 7, tz: tz, cli: true, uas: []string{pick(r, cliAgents)}, ips: []string{home},
	})
}

var browsers = []string{
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:131.0) Gecko/20100101 Firefox/131.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
}

var cliAgents = []string{
	"aws-cli/2.18.10 md/awscrt#0.22.0 ua/2.0 os/macos#24.0.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off",
	"aws-cli/2.17.46 md/awscrt#0.21.2 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off",
	"aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off",
}

// ciUser adds a CI or service user: a key used from one place for a narrow, repetitive job.
func (w *world) ciUser(a *account, r *rand.Rand, name string) {
	u := w.addUser(a, r, name, w.ago(r, 300+float64(r.IntN(700))))
	k := w.addKey(u, r, w.windowStart-int64(3+r.IntN(70))*day-int64(r.IntN(day)), true)
	ip := "3.8" + strconv.Itoa(r.IntN(10)) + "." + strconv.Itoa(r.IntN(250)) + "." + strconv.Itoa(r.IntN(250))
	ac := &actor{
		acct: a, name: name, kind: kindUserKey, weight: 3, regions: spread(a, 0, 0.7), user: u, key: k, principal: u.principal,
		errRate: 0.01, ips: []string{ip},
	}
	var actions []string
	switch {
	case strings.HasPrefix(name, "ci-terraform"):
		ac.calls = calls("ec2:DescribeInstances", 10, "ec2:DescribeVpcs", 8, "ec2:DescribeSubnets", 8, "ec2:DescribeSecurityGroups", 8,
			"iam:GetRole", 8, "iam:ListAttachedRolePolicies", 6, "iam:ListRolePolicies", 6, "s3:GetBucketPolicy", 6, "s3:GetBucketVersioning", 5,
			"s3:GetBucketEncryption", 5, "s3:GetBucketAcl", 4, "lambda:GetFunction20150331v2", 6, "rds:DescribeDBInstances", 4,
			"dynamodb:DescribeTable", 4, "kms:DescribeKey", 4, "sts:GetCallerIdentity", 3, "cloudfront:ListDistributions2020_05_31", 2)
		ac.pattern, ac.uas = bursty, []string{"APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.72.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64"}
		ac.workdays, ac.workFrom, ac.workLen = true, 7, 11
		actions = []string{"ec2:Describe*", "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion",
			"s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:ListBucket", "lambda:GetFunction", "lambda:ListVersionsByFunction", "rds:Describe*", "dynamodb:DescribeTable",
			"dynamodb:DescribeContinuousBackups", "kms:DescribeKey", "kms:GetKeyPolicy", "cloudfront:ListDistributions", "cloudfront:GetDistribution", "route53:ListHostedZones", "acm:DescribeCertificate"}
	case strings.HasPrefix(name, "svc-backup"):
		ac.calls = calls("s3:PutObject", 70, "s3:ListObjects", 20, "s3:HeadObject", 10)
		ac.pattern, ac.buckets, ac.keyPrefix = bursty, []string{a.res.backups}, "nightly"
		ac.regions = only(a, "us-east-1")
		ac.uas = []string{"aws-cli/1.33.13 Python/3.9.20 Linux/5.10.227-219.884.amzn2.x86_64 botocore/1.34.131"}
		actions = []string{"s3:PutObject", "s3:ListBucket", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
	default:
		ac.calls = calls("monitoring:DescribeAlarms", 30, "logs:DescribeLogGroups", 20, "ec2:DescribeInstances", 25, "rds:DescribeDBInstances", 15, "sts:GetCallerIdentity", 10)
		ac.pattern, ac.period = periodic, 900
		ac.uas = []string{"Boto3/1.35.44 md/Botocore#1.35.44 ua/2.0 os/linux#6.1.112-122.189.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.44"}
		actions = []string{"cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData", "logs:DescribeLogGroups", "ec2:DescribeInstances", "rds:DescribeDBInstances", "s3:PutObject"}
	}
	u.attached = []*managedPolicy{w.customerPolicy(a, r, name+"-policy", u.created+day, doc(allow(actions)))}
	k.usedBefore(w.priorUse(r, 1), "us-east-1", serviceOf(actions[0]))
	a.actors = append(a.actors, ac)
}
