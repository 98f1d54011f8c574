package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const catalogDir = "testdata/catalog"

// The service documents of the fixture catalog and their action counts.
var catalogFixtureActions = map[string]int64{"ec2.json": 10, "iam.json": 9, "s3.json": 12, "sts.json": 3}

const catalogRowsQuery = `select action, access_level, resource_types from action_catalog order by action`

func TestSniffActionCatalog(t *testing.T) {
	tests := []struct {
		name, body   string
		kind, format string
	}{
		{"service document", `{"Name": "s3", "Actions": [{"Name": "GetObject"}], "Version": "v1.4"}`, KindActionCatalog, formatJSON},
		{"service document, Actions last", `{"Name": "s3", "Resources": [], "Actions": []}`, KindActionCatalog, formatJSON},
		{"service document without Name", `{"Actions": [], "ConditionKeys": [], "Resources": []}`, KindActionCatalog, formatJSON},
		{"Actions not an array beside the document's keys", `{"Name": "s3", "Actions": {}, "Resources": []}`, KindActionCatalog, formatJSON},
		{"cut short inside Actions", "{\"Name\": \"s3\", \"Actions\": [{\"Name\": \"GetObj", KindActionCatalog, formatJSON},
		{"service list", `[{"service": "s3", "url": "https://servicereference.us-east-1.amazonaws.com/v1/s3/s3.json"}]`, KindActionCatalog, formatServiceList},
		// Shapes that are not the catalog stay what they were.
		{"Name and Actions that is not an array", `{"Name": "x", "Actions": "y"}`, KindUnknown, ""},
		{"Actions alone", `{"Actions": []}`, KindUnknown, ""},
		{"Name alone", `{"Name": "s3"}`, KindUnknown, ""},
		{"list of services without url", `[{"service": "s3"}]`, KindUnknown, ""},
		{"CloudTrail event naming a service", `[{"eventName": "GetObject", "service": "s3", "url": "x"}]`, KindCloudTrail, formatArray},
		{"Records beside Name and Actions", `{"Name": "s3", "Actions": [], "Records": []}`, KindCloudTrail, formatRecords},
		{"Policies beside Name and Actions", `{"Name": "s3", "Actions": [], "Policies": []}`, KindAuthorization, formatJSON},
		{"event beside Name and Actions", `{"Name": "s3", "Actions": [], "eventName": "GetObject"}`, KindCloudTrail, formatNDJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sniffStream(strings.NewReader(tt.body))
			if s.kind != tt.kind || s.format != tt.format {
				t.Errorf("sniffed %s/%s (%s), want %s/%s", s.kind, s.format, s.reason, tt.kind, tt.format)
			}
		})
	}

	// Every file of the fixture catalog, gzipped too, is the catalog.
	entries, err := os.ReadDir(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(catalogDir, e.Name())
		body := readFixture(t, "catalog/"+e.Name())
		gz := filepath.Join(t.TempDir(), e.Name()+".gz")
		if err := os.WriteFile(gz, gzipBytes(t, body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{p, gz} {
			s, err := sniffFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if s.kind != KindActionCatalog || s.gzipped != (path == gz) {
				t.Errorf("%s: sniffed %+v, want %s", path, s, KindActionCatalog)
			}
		}
	}
}

// No fixture of another kind is taken for the catalog.
func TestSniffNoOtherFixtureIsTheCatalog(t *testing.T) {
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p == catalogDir:
			return filepath.SkipDir
		case d.IsDir():
			return nil
		}
		s, err := sniffFile(p)
		if err != nil {
			return err
		}
		if s.kind == KindActionCatalog {
			t.Errorf("%s: sniffed as %s", p, s.kind)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestActionCatalogFolder(t *testing.T) {
	c := openTestCase(t)
	dir := copyTree(t, catalogDir)
	outcomes := ingestPaths(t, c, dir)
	if len(outcomes) != 6 {
		t.Fatalf("%d outcomes, want 6: %+v", len(outcomes), outcomes)
	}
	for name, records := range catalogFixtureActions {
		o := outcomeOf(t, outcomes, string(filepath.Separator)+name)
		if o.Status != StatusLoaded || o.Kind != KindActionCatalog || o.Records != records || o.Duplicates != 0 || o.Error != "" {
			t.Errorf("%s: %+v, want loaded %s with %d records", name, o, KindActionCatalog, records)
		}
	}
	list := outcomeOf(t, outcomes, "service-list.json")
	if list.Status != StatusLoaded || list.Kind != KindActionCatalog || list.Records != 0 || !strings.Contains(list.Error, "naming 4 services") {
		t.Errorf("service list: %+v, want loaded %s with 0 records", list, KindActionCatalog)
	}
	bad := outcomeOf(t, outcomes, "kms-no-name.json")
	if bad.Status != StatusRejected || bad.Kind != KindActionCatalog || !strings.HasPrefix(bad.Error, "Name: missing") {
		t.Errorf("document without Name: %+v, want rejected for its missing Name", bad)
	}
	diffLines(t, "evidence", dumpRows(t, c.DB, `select regexp_extract(path, '[^/\\]+$'), kind, format, status, records
		from evidence_files order by path`), []string{
		"ec2.json | action_catalog | json | loaded | 10",
		"iam.json | action_catalog | json | loaded | 9",
		"kms-no-name.json | action_catalog | json | rejected | NULL",
		"s3.json | action_catalog | json | loaded | 12",
		"service-list.json | action_catalog | service_list | loaded | 0",
		"sts.json | action_catalog | json | loaded | 3",
	})

	diffLines(t, "actions per service", dumpRows(t, c.DB,
		"select service, count(*), count(distinct action) from action_catalog group by service order by service"), []string{
		"ec2 | 10 | 10",
		"iam | 9 | 9",
		"s3 | 12 | 12",
		"sts | 3 | 3",
	})
	diffLines(t, "named actions", dumpRows(t, c.DB, `select action, access_level, resource_types from action_catalog
		where action in ('s3:GetObject', 's3:ListAllMyBuckets', 's3:PutBucketPolicy', 's3:PutBucketTagging',
		  'ec2:DescribeInstances', 'ec2:CreateTags', 'iam:PassRole', 'iam:AttachUserPolicy', 'sts:GetCallerIdentity')
		order by action`), []string{
		"ec2:CreateTags | Tagging | [image instance security-group snapshot volume]",
		"ec2:DescribeInstances | List | []",
		"iam:AttachUserPolicy | Permissions management | [user]",
		"iam:PassRole | Write | [role]",
		"s3:GetObject | Read | [object]",
		"s3:ListAllMyBuckets | List | []",
		"s3:PutBucketPolicy | Permissions management | [bucket]",
		"s3:PutBucketTagging | Tagging | [bucket]",
		"sts:GetCallerIdentity | Read | []",
	})
	// Each row points at the document it came from.
	if n := queryInt(t, c.DB, `select count(*) from action_catalog a join evidence_files f using (file_id)
		where f.path not like '%' || a.service || '.json'`); n != 0 {
		t.Errorf("%d rows whose file_id is not their service's document", n)
	}
	if n := queryInt(t, c.DB, "select count(*) from action_catalog where action like 'kms:%' or service = ''"); n != 0 {
		t.Errorf("%d rows of the rejected document", n)
	}

	// The same files again are re-submissions and add no rows; the rejected
	// document is tried again, and rejected again (keeping its first row).
	files := queryInt(t, c.DB, "select count(*) from evidence_files")
	again := ingestPaths(t, c, dir)
	for _, o := range again {
		want := StatusResubmitted
		if strings.HasSuffix(o.Path, "kms-no-name.json") {
			want = StatusRejected
		}
		if o.Status != want {
			t.Errorf("%s: %s on re-ingest, want %s", o.Path, o.Status, want)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from evidence_files"); n != files {
		t.Errorf("re-ingest added %d evidence rows", n-files)
	}
	if n := queryInt(t, c.DB, "select count(*) from action_catalog"); n != 34 {
		t.Errorf("after re-ingest: %d rows, want 34", n)
	}
}

// The catalog loads the same from a folder, a .tgz bundle (with a gzipped
// document inside) and a .zip bundle.
func TestActionCatalogBundles(t *testing.T) {
	files := map[string][]byte{}
	entries, err := os.ReadDir(catalogDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files[e.Name()] = readFixture(t, "catalog/"+e.Name())
	}
	c := openTestCase(t)
	ingestPaths(t, c, copyTree(t, catalogDir))
	want := dumpRows(t, c.DB, catalogRowsQuery)
	if len(want) != 34 {
		t.Fatalf("folder: %d rows, want 34", len(want))
	}

	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if name == "s3.json" {
			name, body = "s3.json.gz", gzipBytes(t, body)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "service-reference/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var zbuf bytes.Buffer
	zipw := zip.NewWriter(&zbuf)
	for name, body := range files {
		w, err := zipw.Create("service-reference/" + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	if err := zipw.Close(); err != nil {
		t.Fatal(err)
	}

	for _, b := range []struct {
		name string
		body []byte
	}{{"catalog.tgz", tgz.Bytes()}, {"catalog.zip", zbuf.Bytes()}} {
		t.Run(b.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), b.name)
			if err := os.WriteFile(p, b.body, 0o644); err != nil {
				t.Fatal(err)
			}
			c := openTestCase(t)
			outcomes := ingestPaths(t, c, p)
			if o := outcomeOf(t, outcomes, b.name); o.Kind != KindBundle || o.Records != 6 {
				t.Errorf("bundle: %+v", o)
			}
			if o := outcomeOf(t, outcomes, "!service-reference/kms-no-name.json"); o.Status != StatusRejected {
				t.Errorf("document without Name in the bundle: %+v", o)
			}
			if b.name == "catalog.tgz" {
				if o := outcomeOf(t, outcomes, "!service-reference/s3.json.gz"); o.Status != StatusLoaded || o.Records != 12 {
					t.Errorf("gzipped document in the bundle: %+v", o)
				}
			}
			diffLines(t, "rows from "+b.name, dumpRows(t, c.DB, catalogRowsQuery), want)
		})
	}
}

func TestActionCatalogDocument(t *testing.T) {
	c := openTestCase(t)
	body := `{"Name": "S3", "Actions": [
		{"Name": "GetObject", "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": false, "IsTaggingOnly": false, "IsWrite": false}},
		 "Resources": [{"Name": "object"}, {"Name": null}, {"Name": ""}]},
		{"Name": "getobject", "Annotations": {"Properties": {"IsWrite": true}}},
		{"Name": "GetObject"},
		{"Name": "PutObjectAcl", "Annotations": {"Properties": {"IsWrite": true, "IsPermissionManagement": true}}, "Resources": [{"Name": "object"}]},
		{"Name": "PutObjectTagging", "Annotations": {"Properties": {"IsWrite": true, "IsTaggingOnly": true}}},
		{"Name": "ListBucket", "Annotations": {"Properties": {"IsList": true}}},
		{"Name": "CreateSession", "Annotations": {"Properties": {}}},
		{"Name": "ListAccessGrants", "Annotations": {"Properties": null}},
		{"Name": "GetAccessGrant", "Annotations": {}},
		{"Name": "GetAccessPoint"}
	]}`
	st := mustLoad(t, c, loadActionCatalog, 7, []byte(body))
	if st.Records != 8 || st.Duplicates != 0 || st.Note != "" {
		t.Errorf("stats = %+v, want 8 records and nothing said of the repeated action", st)
	}
	diffLines(t, "action_catalog", dumpRows(t, c.DB,
		"select service, action, access_level, resource_types, file_id from action_catalog order by action"), []string{
		"s3 | S3:CreateSession | Read | [] | 7",
		"s3 | S3:GetAccessGrant | NULL | [] | 7",
		"s3 | S3:GetAccessPoint | NULL | [] | 7",
		"s3 | S3:GetObject | Read | [object] | 7",
		"s3 | S3:ListAccessGrants | NULL | [] | 7",
		"s3 | S3:ListBucket | List | [] | 7",
		"s3 | S3:PutObjectAcl | Permissions management | [object] | 7",
		"s3 | S3:PutObjectTagging | Tagging | [] | 7",
	})
}

func TestActionCatalogErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"no Name", `{"Actions": [], "Resources": [], "ConditionKeys": []}`, "Name: missing (the service prefix of a service reference document)"},
		{"null Name", `{"Name": null, "Actions": []}`, "Name: missing (the service prefix of a service reference document)"},
		{"empty Name", `{"Name": " ", "Actions": []}`, "Name: empty (the service prefix of a service reference document)"},
		{"Name not a string", `{"Name": 3, "Actions": []}`, "Name: not a string: 3"},
		{"no Actions", `{"Name": "s3", "Resources": []}`, "Actions: missing"},
		{"Actions an object", `{"Name": "s3", "Actions": {"GetObject": {}}}`, `Actions: not an array: {"GetObject": {}}`},
		{"action without Name", `{"Name": "s3", "Actions": [{"Name": "GetObject"}, {"Name": "PutObject"}, {"Resources": []}]}`, "Actions[2].Name: missing"},
		{"action with empty Name", `{"Name": "s3", "Actions": [{"Name": ""}]}`, "Actions[0].Name: missing"},
		{"flag of the wrong type", "{\"Name\": \"s3\", \"Actions\": [\n{\"Name\": \"GetObject\",\n \"Annotations\": {\"Properties\": {\"IsWrite\": \"no\"}}}]}",
			"line 3: Actions.Annotations.Properties.IsWrite: JSON string where a boolean was expected"},
		{"cut short", "{\"Name\": \"s3\",\n\"Actions\": [{\"Name\": \"GetObj", "line 2: invalid JSON: unexpected end of JSON input"},
		{"service list entry without service", `[{"service": "s3", "url": "u"}, {"url": "u"}]`, "[1].service: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openTestCase(t)
			_, err := loadBody(t, c, loadActionCatalog, 1, []byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			if n := queryInt(t, c.DB, "select count(*) from action_catalog"); n != 0 {
				t.Errorf("rejected file left %d rows", n)
			}
		})
	}
}

// A newer download of a service's document loads beside the older one;
// queries read the distinct service and action.
func TestActionCatalogSameServiceInTwoFiles(t *testing.T) {
	c := openTestCase(t)
	dir := t.TempDir()
	older := readFixture(t, "catalog/s3.json")
	newer := bytes.Replace(older, []byte(`  "Actions": [`),
		[]byte(`  "Actions": [`+"\n"+`    {"Name": "GetObjectAttributes", "Annotations": {"Properties": {"IsList": false, "IsPermissionManagement": false, "IsTaggingOnly": false, "IsWrite": false}}, "Resources": [{"Name": "object"}]},`), 1)
	os.WriteFile(filepath.Join(dir, "s3-2024.json"), older, 0o644)
	os.WriteFile(filepath.Join(dir, "s3-2025.json"), newer, 0o644)
	outcomes := ingestPaths(t, c, dir)
	if o := outcomeOf(t, outcomes, "s3-2024.json"); o.Status != StatusLoaded || o.Records != 12 {
		t.Errorf("older: %+v", o)
	}
	if o := outcomeOf(t, outcomes, "s3-2025.json"); o.Status != StatusLoaded || o.Records != 13 || o.Duplicates != 0 {
		t.Errorf("newer: %+v", o)
	}
	diffLines(t, "rows and distinct actions", dumpRows(t, c.DB, `select count(*), count(distinct file_id),
		(select count(*) from (select distinct service, action from action_catalog)) from action_catalog`), []string{"25 | 2 | 13"})
}
