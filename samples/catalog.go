package samples

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// apiCall is one AWS API as CloudTrail logs it: where it is logged, which
// IAM action it needs, and how its parameters and responses look.
type apiCall struct {
	index    int
	svc      string // first DNS label of eventSource
	source   string
	name     string // eventName, with the API-version suffix some services log
	action   string // IAM action the call needs; "" when none is needed
	readOnly bool
	data     bool // data event (S3 object level)
	global   bool // logged in us-east-1 whatever the caller's region
	version  string
	build    func(c *callCtx) // requestParameters, responseElements, resources, additionalEventData
	errs     []callError      // errors other than a denied permission
}

type callError struct{ code, msg string }

// callCtx is what a parameter builder needs to fill in one record. It
// appends the JSON fragments to b and points the record's fields at them.
type callCtx struct {
	r      *rand.Rand
	w      *world
	acct   *account
	region string
	rec    *record
	b      []byte
	actor  *actor // nil for planted events
	bucket string // S3 calls: the bucket (chosen by the caller when set)
	key    string // S3 object calls: the object key (chosen by the caller when set)
	target string // a named resource chosen by the caller (function, stack, user…)
}

func (c *callCtx) start() int { return len(c.b) }

func (c *callCtx) frag(start int) []byte { return c.b[start:len(c.b):len(c.b)] }

// literal sets requestParameters to a fixed JSON text.
func literal(js string) func(c *callCtx) {
	return func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, js...)
		c.rec.params = c.frag(s)
	}
}

// paramsKV sets requestParameters to {key: <chosen value>}.
func paramsKV(key string, pick func(c *callCtx) string) func(c *callCtx) {
	return func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, '{')
		c.b = appendStringField(c.b, key, pick(c))
		c.b = append(c.b, '}')
		c.rec.params = c.frag(s)
	}
}

func noParams(c *callCtx) {}

var catalog = map[string]*apiCall{}
var catalogList []*apiCall

// call returns the catalog entry "svc:EventName"; it panics on a typo, which
// the tests catch at once.
func call(id string) *apiCall {
	c, ok := catalog[id]
	if !ok {
		panic("samples: no API call " + id)
	}
	return c
}

func def(svc, name, action string, readOnly bool, build func(c *callCtx), errs ...callError) *apiCall {
	c := &apiCall{svc: svc, source: svc + ".amazonaws.com", name: name, action: action, readOnly: readOnly, build: build, errs: errs, version: "1.08"}
	if c.build == nil {
		c.build = noParams
	}
	switch svc {
	case "iam", "organizations", "cloudfront", "ce", "signin":
		c.global = true
	case "ec2", "s3":
		c.version = "1.10"
	case "cloudtrail", "secretsmanager":
		c.version = "1.09"
	}
	if svc == "signin" {
		c.version = "1.11"
	}
	c.index = len(catalogList)
	catalogList = append(catalogList, c)
	catalog[svc+":"+name] = c
	return c
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// ---- resource pickers ----------------------------------------------------

func (c *callCtx) instance() string {
	ids := c.acct.instanceID[c.region]
	if len(ids) == 0 {
		return "i-0" + randomHex(c.r, 16)
	}
	return pick(c.r, ids)
}

func (c *callCtx) function() string {
	if c.target != "" {
		return c.target
	}
	if fs := c.acct.res.functions[c.region]; len(fs) > 0 {
		return pick(c.r, fs)
	}
	return "orders-api"
}

func (c *callCtx) stack() string {
	if c.target != "" {
		return c.target
	}
	return pick(c.r, c.acct.res.stacks)
}

func (c *callCtx) secret() string { return pick(c.r, c.acct.res.secrets) }

func (c *callCtx) kmsKeyARN() string { return c.acct.res.kmsKeyARN[c.region] }

func (c *callCtx) someUser() string {
	if c.target != "" {
		return c.target
	}
	return pick(c.r, c.acct.users).name
}

func (c *callCtx) someRole() *iamRole { return pick(c.r, c.acct.roles) }

// ---- S3 ------------------------------------------------------------------

func (c *callCtx) s3Bucket() string {
	if c.bucket != "" {
		return c.bucket
	}
	if c.actor != nil && len(c.actor.buckets) > 0 {
		for range 4 {
			if b := pick(c.r, c.actor.buckets); c.w.bucketRegion(c.acct, b) == c.region {
				return b
			}
		}
	}
	if b, ok := c.acct.res.dataBuckets[c.region]; ok {
		return b
	}
	return c.acct.res.dataBuckets["us-east-1"]
}

func (c *callCtx) s3Key() string {
	if c.key != "" {
		return c.key
	}
	prefix := "data"
	if c.actor != nil && c.actor.keyPrefix != "" {
		prefix = c.actor.keyPrefix
	}
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('/')
	y, m, d := civil(c.rec.time / day)
	b.WriteString(strconv.Itoa(y))
	b.WriteByte('/')
	b.Write(append2(nil, m))
	b.WriteByte('/')
	b.Write(append2(nil, d))
	b.WriteByte('/')
	b.Write(appendRandom(nil, c.r, lowerAlnum, 12))
	b.WriteString(pick(c.r, []string{".json.gz", ".parquet", ".csv", ".zip", ".json"}))
	return b.String()
}

func (c *callCtx) s3Addl(in, out int) {
	s := c.start()
	c.b = append(c.b, `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":`...)
	c.b = strconv.AppendInt(c.b, int64(in), 10)
	c.b = append(c.b, `,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
	c.b = appendRandom(c.b, c.r, base64Std, 75)
	c.b = append(c.b, `=","bytesTransferredOut":`...)
	c.b = strconv.AppendInt(c.b, int64(out), 10)
	c.b = append(c.b, '}')
	c.rec.addl = c.frag(s)
}

func (c *callCtx) s3BucketResource(bucket string) {
	s := c.start()
	c.b = append(c.b, `[{"accountId":"`...)
	c.b = append(c.b, c.acct.id...)
	c.b = append(c.b, `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
	c.b = appendEscaped(c.b, bucket)
	c.b = append(c.b, `"}]`...)
	c.rec.resources = c.frag(s)
}

// beginS3Params starts the requestParameters every S3 call has (bucket and
// virtual host, which is also the TLS host) and returns where they start.
func (c *callCtx) beginS3Params(bucket string) int {
	c.rec.tlsHost = bucket + ".s3." + c.region + ".amazonaws.com"
	s := c.start()
	c.b = append(c.b, '{')
	c.b = appendStringField(c.b, "bucketName", bucket)
	c.b = appendStringField(c.b, "Host", c.rec.tlsHost)
	return s
}

func s3BucketCall(sub string) func(c *callCtx) {
	return func(c *callCtx) {
		bucket := c.s3Bucket()
		s := c.beginS3Params(bucket)
		c.b = appendStringField(c.b, sub, "")
		c.b = append(c.b, '}')
		c.rec.params = c.frag(s)
		c.s3Addl(0, 200+c.r.IntN(900))
		c.s3BucketResource(bucket)
	}
}

func s3ObjectCall(write bool) func(c *callCtx) {
	return func(c *callCtx) {
		bucket, key := c.s3Bucket(), c.s3Key()
		s := c.beginS3Params(bucket)
		c.b = appendStringField(c.b, "key", key)
		if write {
			c.b = appendStringField(c.b, "x-amz-server-side-encryption", "aws:kms")
		}
		c.b = append(c.b, '}')
		c.rec.params = c.frag(s)
		if write && c.rec.errCode == "" {
			s = c.start()
			c.b = append(c.b, `{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":`...)
			c.b = appendString(c.b, c.kmsKeyARN())
			c.b = append(c.b, `,"x-amz-server-side-encryption-bucket-key-enabled":"true"}`...)
			c.rec.resp = c.frag(s)
		}
		size := 512 + c.r.IntN(2<<20)
		if write {
			c.s3Addl(size, 0)
		} else {
			c.s3Addl(0, size)
		}
		s = c.start()
		c.b = append(c.b, `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::`...)
		c.b = appendEscaped(c.b, bucket)
		c.b = append(c.b, '/')
		c.b = appendEscaped(c.b, key)
		c.b = append(c.b, `"},{"accountId":"`...)
		c.b = append(c.b, c.acct.id...)
		c.b = append(c.b, `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
		c.b = appendEscaped(c.b, bucket)
		c.b = append(c.b, `"}]`...)
		c.rec.resources = c.frag(s)
	}
}

func s3ListObjects(c *callCtx) {
	bucket := c.s3Bucket()
	s := c.beginS3Params(bucket)
	c.b = appendStringField(c.b, "list-type", "2")
	prefix := "data/"
	if c.actor != nil && c.actor.keyPrefix != "" {
		prefix = c.actor.keyPrefix + "/"
	}
	if c.key != "" {
		prefix = c.key
	}
	c.b = appendStringField(c.b, "prefix", prefix)
	c.b = appendStringField(c.b, "encoding-type", "url")
	c.b = append(c.b, '}')
	c.rec.params = c.frag(s)
	c.s3Addl(0, 400+c.r.IntN(40000))
	c.s3BucketResource(bucket)
}

// ---- the catalog ---------------------------------------------------------

var (
	errThrottle      = callError{"ThrottlingException", "Rate exceeded"}
	errEC2Throttle   = callError{"Client.RequestLimitExceeded", "Request limit exceeded."}
	errNoSuchEntity  = callError{"NoSuchEntityException", ""}
	errNotFound      = callError{"ResourceNotFoundException", ""}
	errEC2NoInstance = callError{"Client.InvalidInstanceID.NotFound", ""}
)

func ec2StateChange(from, fromCode, to, toCode string) func(c *callCtx) {
	return func(c *callCtx) {
		id := c.instance()
		s := c.start()
		c.b = append(c.b, `{"instancesSet":{"items":[{"instanceId":`...)
		c.b = appendString(c.b, id)
		c.b = append(c.b, `}]}}`...)
		c.rec.params = c.frag(s)
		s = c.start()
		c.b = append(c.b, `{"requestId":"`...)
		c.b = appendUUID(c.b, c.r)
		c.b = append(c.b, `","instancesSet":{"items":[{"instanceId":`...)
		c.b = appendString(c.b, id)
		c.b = append(c.b, `,"currentState":{"code":`+toCode+`,"name":"`+to+`"},"previousState":{"code":`+fromCode+`,"name":"`+from+`"}}]}}`...)
		c.rec.resp = c.frag(s)
	}
}

func init() {
	// EC2
	def("ec2", "DescribeInstances", "ec2:DescribeInstances", true, func(c *callCtx) {
		if c.r.IntN(3) > 0 {
			literal(`{"maxResults":1000,"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"},{"value":"pending"}]}}]}}`)(c)
			return
		}
		s := c.start()
		c.b = append(c.b, `{"instancesSet":{"items":[{"instanceId":`...)
		c.b = appendString(c.b, c.instance())
		c.b = append(c.b, `}]},"filterSet":{}}`...)
		c.rec.params = c.frag(s)
	}, errEC2Throttle)
	def("ec2", "DescribeInstanceStatus", "ec2:DescribeInstanceStatus", true, literal(`{"instancesSet":{},"filterSet":{},"includeAllInstances":true}`), errEC2Throttle)
	def("ec2", "DescribeVolumes", "ec2:DescribeVolumes", true, literal(`{"volumeSet":{},"filterSet":{}}`), errEC2Throttle)
	def("ec2", "DescribeSecurityGroups", "ec2:DescribeSecurityGroups", true, literal(`{"securityGroupSet":{},"securityGroupIdSet":{},"filterSet":{}}`), errEC2Throttle)
	def("ec2", "DescribeVpcs", "ec2:DescribeVpcs", true, literal(`{"vpcSet":{},"filterSet":{}}`), errEC2Throttle)
	def("ec2", "DescribeSubnets", "ec2:DescribeSubnets", true, literal(`{"subnetSet":{},"filterSet":{}}`), errEC2Throttle)
	def("ec2", "DescribeRegions", "ec2:DescribeRegions", true, literal(`{"regionSet":{},"allRegions":false}`))
	def("ec2", "DescribeSnapshots", "ec2:DescribeSnapshots", true, literal(`{"snapshotSet":{},"ownersSet":{"items":[{"owner":"self"}]},"sharedUsersSet":{},"filterSet":{}}`), errEC2Throttle)
	def("ec2", "DescribeTags", "ec2:DescribeTags", true, func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `{"filterSet":{"items":[{"name":"resource-id","valueSet":{"items":[{"value":`...)
		c.b = appendString(c.b, c.instance())
		c.b = append(c.b, `}]}}]}}`...)
		c.rec.params = c.frag(s)
	})
	def("ec2", "StartInstances", "ec2:StartInstances", false, ec2StateChange("stopped", "80", "pending", "0"), errEC2NoInstance)
	def("ec2", "StopInstances", "ec2:StopInstances", false, ec2StateChange("running", "16", "stopping", "64"), errEC2NoInstance)
	def("ec2", "TerminateInstances", "ec2:TerminateInstances", false, ec2StateChange("running", "16", "shutting-down", "32"), errEC2NoInstance)
	def("ec2", "RunInstances", "ec2:RunInstances", false, literal(`{"instancesSet":{"items":[{"imageId":"ami-0c7217cdde317cfec","minCount":1,"maxCount":1}]},"instanceType":"m7i.2xlarge","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"terraform-20261020","tagSpecificationSet":{"items":[{"resourceType":"instance","tags":[{"key":"Name","value":"gpu-test"}]}]}}`))
	def("ec2", "CreateTags", "ec2:CreateTags", false, func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `{"resourcesSet":{"items":[{"resourceId":`...)
		c.b = appendString(c.b, c.instance())
		c.b = append(c.b, `}]},"tagSet":{"items":[{"key":"owner","value":"platform"}]}}`...)
		c.rec.params = c.frag(s)
		s = c.start()
		c.b = append(c.b, `{"_return":true}`...)
		c.rec.resp = c.frag(s)
	})

	// S3 (bucket operations are management events, object operations data events)
	def("s3", "ListBuckets", "s3:ListAllMyBuckets", true, func(c *callCtx) {
		c.rec.tlsHost = "s3.amazonaws.com"
		literal(`{"Host":"s3.amazonaws.com"}`)(c)
		c.s3Addl(0, 1500+c.r.IntN(6000))
	}).global = true
	def("s3", "GetBucketLocation", "s3:GetBucketLocation", true, s3BucketCall("location"))
	def("s3", "GetBucketAcl", "s3:GetBucketAcl", true, s3BucketCall("acl"))
	def("s3", "GetBucketPolicy", "s3:GetBucketPolicy", true, s3BucketCall("policy"), callError{"NoSuchBucketPolicy", "The bucket policy does not exist"})
	def("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration", true, s3BucketCall("encryption"), callError{"ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"})
	def("s3", "GetBucketVersioning", "s3:GetBucketVersioning", true, s3BucketCall("versioning"))
	def("s3", "GetBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", true, s3BucketCall("publicAccessBlock"), callError{"NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"})
	def("s3", "GetBucketTagging", "s3:GetBucketTagging", true, s3BucketCall("tagging"), callError{"NoSuchTagSet", "The TagSet does not exist"})
	def("s3", "GetObject", "s3:GetObject", true, s3ObjectCall(false), callError{"NoSuchKey", "The specified key does not exist."}).data = true
	def("s3", "HeadObject", "s3:GetObject", true, s3ObjectCall(false), callError{"NoSuchKey", "The specified key does not exist."}).data = true
	def("s3", "PutObject", "s3:PutObject", false, s3ObjectCall(true)).data = true
	def("s3", "DeleteObject", "s3:DeleteObject", false, s3ObjectCall(false)).data = true
	def("s3", "ListObjects", "s3:ListBucket", true, s3ListObjects).data = true

	// IAM (global)
	def("iam", "ListUsers", "iam:ListUsers", true, nil)
	def("iam", "ListRoles", "iam:ListRoles", true, nil)
	def("iam", "ListGroups", "iam:ListGroups", true, nil)
	def("iam", "ListPolicies", "iam:ListPolicies", true, literal(`{"scope":"Local","onlyAttached":false,"policyUsageFilter":"PermissionsPolicy"}`))
	def("iam", "GetAccountSummary", "iam:GetAccountSummary", true, nil)
	def("iam", "GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails", true, literal(`{"filter":["User","Role","Group","LocalManagedPolicy","AWSManagedPolicy"]}`))
	def("iam", "GetUser", "iam:GetUser", true, paramsKV("userName", (*callCtx).someUser), errNoSuchEntity)
	def("iam", "ListAccessKeys", "iam:ListAccessKeys", true, paramsKV("userName", (*callCtx).someUser))
	def("iam", "ListMFADevices", "iam:ListMFADevices", true, paramsKV("userName", (*callCtx).someUser))
	def("iam", "ListAttachedUserPolicies", "iam:ListAttachedUserPolicies", true, paramsKV("userName", (*callCtx).someUser))
	def("iam", "GetRole", "iam:GetRole", true, paramsKV("roleName", func(c *callCtx) string { return c.someRole().name }), errNoSuchEntity)
	def("iam", "ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", true, paramsKV("roleName", func(c *callCtx) string { return c.someRole().name }))
	def("iam", "ListRolePolicies", "iam:ListRolePolicies", true, paramsKV("roleName", func(c *callCtx) string { return c.someRole().name }))
	def("iam", "GetPolicy", "iam:GetPolicy", true, paramsKV("policyArn", func(c *callCtx) string {
		if len(c.acct.policies) == 0 {
			return "arn:aws:iam::aws:policy/ReadOnlyAccess"
		}
		return pick(c.r, c.acct.policies).arn
	}), errNoSuchEntity)
	def("iam", "CreateAccessKey", "iam:CreateAccessKey", false, paramsKV("userName", (*callCtx).someUser))
	def("iam", "CreateLoginProfile", "iam:CreateLoginProfile", false, paramsKV("userName", (*callCtx).someUser))

	// STS. The global endpoint logs in us-east-1.
	def("sts", "GetCallerIdentity", "", true, nil)
	def("sts", "AssumeRole", "sts:AssumeRole", true, nil)
	def("sts", "AssumeRoleWithWebIdentity", "sts:AssumeRoleWithWebIdentity", true, nil)

	// Lambda logs API-versioned event names.
	def("lambda", "ListFunctions20150331", "lambda:ListFunctions", true, nil, errThrottle)
	def("lambda", "GetFunction20150331v2", "lambda:GetFunction", true, paramsKV("functionName", (*callCtx).function), errNotFound)
	def("lambda", "GetFunctionConfiguration20150331v2", "lambda:GetFunctionConfiguration", true, paramsKV("functionName", (*callCtx).function), errNotFound)
	def("lambda", "ListEventSourceMappings20150331", "lambda:ListEventSourceMappings", true, nil)
	def("lambda", "UpdateFunctionCode20150331v2", "lambda:UpdateFunctionCode", false, func(c *callCtx) {
		fn := c.function()
		s := c.start()
		c.b = append(c.b, `{"functionName":`...)
		c.b = appendString(c.b, fn)
		c.b = append(c.b, `,"publish":true,"dryRun":false}`...)
		c.rec.params = c.frag(s)
		s = c.start()
		c.b = append(c.b, `{"functionName":`...)
		c.b = appendString(c.b, fn)
		c.b = appendStringField(c.b, "functionArn", "arn:aws:lambda:"+c.region+":"+c.acct.id+":function:"+fn+":"+strconv.Itoa(100+c.r.IntN(300)))
		c.b = append(c.b, `,"runtime":"nodejs20.x","handler":"index.handler","codeSize":`...)
		c.b = strconv.AppendInt(c.b, int64(200000+c.r.IntN(5000000)), 10)
		c.b = append(c.b, `,"timeout":30,"memorySize":512,"lastModified":"`...)
		c.b = appendTime(c.b, c.rec.time)
		c.b = c.b[:len(c.b)-1] // Lambda writes its own time format
		c.b = append(c.b, `.000+0000","codeSha256":"`...)
		c.b = appendRandom(c.b, c.r, base64Std, 43)
		c.b = append(c.b, `=","version":"`...)
		c.b = strconv.AppendInt(c.b, int64(100+c.r.IntN(300)), 10)
		c.b = append(c.b, `","state":"Active","lastUpdateStatus":"InProgress","packageType":"Zip","architectures":["arm64"]}`...)
		c.rec.resp = c.frag(s)
	})
	def("lambda", "UpdateFunctionConfiguration20150331v2", "lambda:UpdateFunctionConfiguration", false, paramsKV("functionName", (*callCtx).function))

	// CloudFormation
	stackParam := paramsKV("stackName", (*callCtx).stack)
	def("cloudformation", "DescribeStacks", "cloudformation:DescribeStacks", true, stackParam, errThrottle)
	def("cloudformation", "DescribeStackEvents", "cloudformation:DescribeStackEvents", true, stackParam, errThrottle)
	def("cloudformation", "ListStacks", "cloudformation:ListStacks", true, literal(`{"stackStatusFilter":["CREATE_COMPLETE","UPDATE_COMPLETE","UPDATE_ROLLBACK_COMPLETE"]}`))
	def("cloudformation", "GetTemplate", "cloudformation:GetTemplate", true, stackParam)
	def("cloudformation", "DescribeChangeSet", "cloudformation:DescribeChangeSet", true, stackParam)
	def("cloudformation", "CreateChangeSet", "cloudformation:CreateChangeSet", false, func(c *callCtx) {
		st := c.stack()
		n := strconv.Itoa(1000 + c.r.IntN(9000))
		s := c.start()
		c.b = append(c.b, `{"stackName":`...)
		c.b = appendString(c.b, st)
		c.b = append(c.b, `,"usePreviousTemplate":false,"capabilities":["CAPABILITY_IAM","CAPABILITY_AUTO_EXPAND"],"changeSetName":"deploy-`+n+`","changeSetType":"UPDATE"}`...)
		c.rec.params = c.frag(s)
		s = c.start()
		c.b = append(c.b, `{"id":`...)
		c.b = appendString(c.b, "arn:aws:cloudformation:"+c.region+":"+c.acct.id+":changeSet/deploy-"+n+"/"+uuid(c.r))
		c.b = appendStringField(c.b, "stackId", "arn:aws:cloudformation:"+c.region+":"+c.acct.id+":stack/"+st+"/"+uuid(c.r))
		c.b = append(c.b, '}')
		c.rec.resp = c.frag(s)
	})
	def("cloudformation", "ExecuteChangeSet", "cloudformation:ExecuteChangeSet", false, stackParam)

	// KMS, Secrets Manager, SSM
	kmsResource := func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `[{"accountId":"`...)
		c.b = append(c.b, c.acct.id...)
		c.b = append(c.b, `","type":"AWS::KMS::Key","ARN":`...)
		c.b = appendString(c.b, c.kmsKeyARN())
		c.b = append(c.b, `}]`...)
		c.rec.resources = c.frag(s)
	}
	kmsKey := func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `{"keyId":`...)
		c.b = appendString(c.b, c.kmsKeyARN())
		c.b = append(c.b, `,"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`...)
		c.rec.params = c.frag(s)
		kmsResource(c)
	}
	def("kms", "Decrypt", "kms:Decrypt", true, kmsKey, errThrottle)
	def("kms", "GenerateDataKey", "kms:GenerateDataKey", true, kmsKey, errThrottle)
	def("kms", "DescribeKey", "kms:DescribeKey", true, kmsKey)
	def("kms", "ListKeys", "kms:ListKeys", true, nil)
	def("kms", "ListAliases", "kms:ListAliases", true, nil)
	// The yearly automatic rotation, an AwsServiceEvent (see plantServiceEvents).
	def("kms", "RotateKey", "", false, func(c *callCtx) {
		kmsResource(c)
		s := c.start()
		c.b = append(c.b, `{"keyId":`...)
		c.b = appendString(c.b, c.acct.res.kmsKeys[c.region])
		c.b = append(c.b, '}')
		c.rec.serviceDetails = c.frag(s)
	})
	def("secretsmanager", "GetSecretValue", "secretsmanager:GetSecretValue", true, paramsKV("secretId", (*callCtx).secret), errNotFound)
	def("secretsmanager", "DescribeSecret", "secretsmanager:DescribeSecret", true, paramsKV("secretId", (*callCtx).secret))
	def("secretsmanager", "ListSecrets", "secretsmanager:ListSecrets", true, nil)
	def("ssm", "UpdateInstanceInformation", "ssm:UpdateInstanceInformation", false, func(c *callCtx) {
		id := c.instance()
		ip := "10.0." + strconv.Itoa(c.r.IntN(64)) + "." + strconv.Itoa(1+c.r.IntN(250))
		if c.target != "" {
			id = c.target
		}
		s := c.start()
		c.b = append(c.b, `{"instanceId":`...)
		c.b = appendString(c.b, id)
		c.b = append(c.b, `,"agentVersion":"3.3.1142.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"`...)
		c.b = append(c.b, ip...)
		c.b = append(c.b, `","computerName":"ip-`...)
		c.b = append(c.b, strings.ReplaceAll(ip, ".", "-")...)
		c.b = append(c.b, `.ec2.internal","agentName":"amazon-ssm-agent","availabilityZone":"`...)
		c.b = append(c.b, c.region...)
		c.b = append(c.b, "abc"[c.r.IntN(3)])
		c.b = append(c.b, `"}`...)
		c.rec.params = c.frag(s)
	}, errThrottle)
	def("ssm", "ListInstanceAssociations", "ssm:ListInstanceAssociations", true, paramsKV("instanceId", (*callCtx).instance))
	def("ssm", "GetParameter", "ssm:GetParameter", true, func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `{"name":`...)
		c.b = appendString(c.b, pick(c.r, c.acct.res.parameters))
		c.b = append(c.b, `,"withDecryption":true}`...)
		c.rec.params = c.frag(s)
	}, callError{"ParameterNotFound", ""}, errThrottle)
	def("ssm", "GetParametersByPath", "ssm:GetParametersByPath", true, literal(`{"path":"/prod/","recursive":true,"withDecryption":true}`), errThrottle)
	def("ssm", "DescribeParameters", "ssm:DescribeParameters", true, nil)

	// CloudTrail
	def("cloudtrail", "DescribeTrails", "cloudtrail:DescribeTrails", true, literal(`{"includeShadowTrails":true}`))
	def("cloudtrail", "GetTrailStatus", "cloudtrail:GetTrailStatus", true, func(c *callCtx) {
		paramsKV("name", func(c *callCtx) string {
			return "arn:aws:cloudtrail:us-east-1:" + c.w.mgmtAccount + ":trail/" + c.w.trailName
		})(c)
	})
	def("cloudtrail", "LookupEvents", "cloudtrail:LookupEvents", true, literal(`{"maxResults":50,"lookupAttributes":[{"attributeKey":"ReadOnly","attributeValue":"false"}]}`), errThrottle)
	def("cloudtrail", "GetEventSelectors", "cloudtrail:GetEventSelectors", true, nil)
	def("cloudtrail", "StopLogging", "cloudtrail:StopLogging", false, paramsKV("name", func(c *callCtx) string { return c.target }))

	// Monitoring and logs
	def("monitoring", "DescribeAlarms", "cloudwatch:DescribeAlarms", true, literal(`{"maxRecords":100}`), errThrottle)
	def("monitoring", "ListDashboards", "cloudwatch:ListDashboards", true, nil)
	def("logs", "DescribeLogGroups", "logs:DescribeLogGroups", true, literal(`{"limit":50}`), errThrottle)
	def("logs", "DescribeLogStreams", "logs:DescribeLogStreams", true, paramsKV("logGroupName", func(c *callCtx) string { return "/aws/lambda/" + c.function() }), errNotFound)

	// Databases, load balancers, queues, containers
	def("rds", "DescribeDBInstances", "rds:DescribeDBInstances", true, nil, errThrottle)
	def("rds", "DescribeDBClusters", "rds:DescribeDBClusters", true, nil)
	def("rds", "DescribeDBSnapshots", "rds:DescribeDBSnapshots", true, literal(`{"snapshotType":"manual","includeShared":false,"includePublic":false}`))
	def("elasticloadbalancing", "DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers", true, nil, errThrottle)
	def("elasticloadbalancing", "DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroups", true, nil)
	def("dynamodb", "ListTables", "dynamodb:ListTables", true, nil)
	def("dynamodb", "DescribeTable", "dynamodb:DescribeTable", true, paramsKV("tableName", func(c *callCtx) string { return pick(c.r, c.acct.res.tables) }), errNotFound)
	def("sqs", "ListQueues", "sqs:ListQueues", true, nil)
	def("sns", "ListTopics", "sns:ListTopics", true, nil)
	def("ecr", "GetAuthorizationToken", "ecr:GetAuthorizationToken", true, nil)
	def("ecr", "DescribeRepositories", "ecr:DescribeRepositories", true, nil)
	def("guardduty", "ListDetectors", "guardduty:ListDetectors", true, nil)
	def("organizations", "DescribeOrganization", "organizations:DescribeOrganization", true, nil)
	def("ce", "GetCostAndUsage", "ce:GetCostAndUsage", true, literal(`{"timePeriod":{"start":"2026-10-01","end":"2026-11-01"},"granularity":"MONTHLY","metrics":["UnblendedCost"],"groupBy":[{"type":"DIMENSION","key":"SERVICE"}]}`))

	// CloudFront logs API-versioned event names and is global.
	def("cloudfront", "CreateInvalidation2020_05_31", "cloudfront:CreateInvalidation", false, func(c *callCtx) {
		s := c.start()
		c.b = append(c.b, `{"distributionId":`...)
		c.b = appendString(c.b, c.acct.res.distribution)
		c.b = append(c.b, `,"invalidationBatch":{"paths":{"quantity":1,"items":["/*"]},"callerReference":"`...)
		c.b = appendRandom(c.b, c.r, lowerAlnum, 20)
		c.b = append(c.b, `"}}`...)
		c.rec.params = c.frag(s)
	})
	def("cloudfront", "ListDistributions2020_05_31", "cloudfront:ListDistributions", true, nil)

	// Console sign-in; parameters are set by the sign-in builders.
	def("signin", "ConsoleLogin", "", false, nil)
}
