package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testChain builds n digests of one chain, each signed with key and
// holding the previous one's hash and signature, as CloudTrail writes them.
func testChain(t *testing.T, key *rsa.PrivateKey, fingerprint string, n int) []verifyDigest {
	t.Helper()
	var out []verifyDigest
	start := time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)
	var prevObject, prevHash, prevSig string
	for i := range n {
		d := verifyDigest{fileID: int64(i + 1), account: "111122223333", bucket: "trail-bucket",
			object: fmt.Sprintf("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/10/30/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_202610300%d0404Z.json.gz", i),
			start:  start.Add(time.Duration(i) * time.Hour), end: start.Add(time.Duration(i+1) * time.Hour),
			fingerprint: fingerprint, prevBucket: "trail-bucket", prevObject: prevObject, prevHash: prevHash, prevSig: prevSig, hasPrev: i > 0}
		sum := sha256.Sum256([]byte(fmt.Sprintf("digest %d", i)))
		d.contentSHA = hex.EncodeToString(sum[:])
		toSign := sha256.Sum256([]byte(DigestStringToSign(d.end, d.bucket, d.object, d.contentSHA, prevSig)))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, toSign[:])
		if err != nil {
			t.Fatal(err)
		}
		prevObject, prevHash, prevSig = d.object, d.contentSHA, hex.EncodeToString(sig)
		out = append(out, d)
	}
	return out
}

// testSigningKey is a fresh digest signing key, its CloudTrail fingerprint
// (hex MD5 of the PKCS#1 DER) and the keys map verify reads.
func testSigningKey(t *testing.T) (*rsa.PrivateKey, string, map[string]*rsa.PublicKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	sum := md5.Sum(der)
	fp := hex.EncodeToString(sum[:])
	return key, fp, map[string]*rsa.PublicKey{fp: &key.PublicKey}
}

func statuses(rows []LogValidation) string {
	var s []string
	for _, r := range rows {
		s = append(s, r.Kind+":"+r.Status)
	}
	return strings.Join(s, " ")
}

func TestCheckChains(t *testing.T) {
	key, fp, keys := testSigningKey(t)

	chain := testChain(t, key, fp, 4)
	if got, want := statuses(checkChains(chain, keys, nil)), "digest:valid digest:valid digest:valid digest:not_verified"; got != want {
		t.Errorf("clean chain: %s, want %s", got, want)
	}
	// A digest changed after delivery: its hash no longer matches the next.
	bad := testChain(t, key, fp, 4)
	bad[1].contentSHA = strings.Repeat("0", 64)
	if got, want := statuses(checkChains(bad, keys, nil)), "digest:valid digest:modified digest:valid digest:not_verified"; got != want {
		t.Errorf("changed digest: %s, want %s", got, want)
	}
	// A forged signature in the next digest (the hash left right).
	bad = testChain(t, key, fp, 4)
	bad[2].prevSig = strings.Repeat("ab", 256)
	if got := statuses(checkChains(bad, keys, nil)); !strings.HasPrefix(got, "digest:valid digest:modified") {
		t.Errorf("forged signature: %s", got)
	}
	// Without the public key, the hash is checked and the signature is not.
	if got, want := statuses(checkChains(testChain(t, key, fp, 2), nil, nil)), "digest:not_verified digest:not_verified"; got != want {
		t.Errorf("no key: %s, want %s", got, want)
	}
	// A digest deleted from the middle: the next names one that is missing,
	// and the one before it has nothing after it to check it.
	bad = testChain(t, key, fp, 4)
	bad = append(bad[:2], bad[3])
	if got, want := statuses(checkChains(bad, keys, nil)), "digest:valid digest:not_verified digest:not_verified digest:missing"; got != want {
		t.Errorf("deleted digest: %s, want %s", got, want)
	}
	// Reordered: digests given in any order give the same results.
	chain = testChain(t, key, fp, 3)
	chain[0], chain[2] = chain[2], chain[0]
	if got, want := statuses(checkChains(chain, keys, nil)), "digest:not_verified digest:valid digest:valid"; got != want {
		t.Errorf("reordered: %s, want %s", got, want)
	}
	// A chain that starts again: a gap between its two parts.
	bad = testChain(t, key, fp, 4)
	bad[2].hasPrev, bad[2].prevObject, bad[2].prevHash, bad[2].prevSig = false, "", "", ""
	rows := checkChains(bad, keys, nil)
	if got := statuses(rows); !strings.Contains(got, "chain:gap") {
		t.Errorf("restarted chain: %s", got)
	}
}

// The newest digest of a chain is verified by the signature of its S3
// head-object export, whichever export holds it; a signature of another
// digest, or a changed newest digest, leaves it not verified.
func TestCheckChainsNewestByObjectMetadata(t *testing.T) {
	key, fp, keys := testSigningKey(t)
	chain := testChain(t, key, fp, 3)
	newest := &chain[2]
	toSign := sha256.Sum256([]byte(DigestStringToSign(newest.end, newest.bucket, newest.object, newest.contentSHA, newest.prevSig)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, toSign[:])
	if err != nil {
		t.Fatal(err)
	}
	other := objectSignature{path: "/ev/older.head-object.json", signature: chain[2].prevSig} // digest 1's signature
	mine := objectSignature{path: "/ev/newest.head-object.json", signature: hex.EncodeToString(sig)}

	rows := checkChains(chain, keys, []objectSignature{other, mine})
	if got, want := statuses(rows), "digest:valid digest:valid digest:valid"; got != want {
		t.Fatalf("with the newest digest's export: %s, want %s", got, want)
	}
	if !strings.Contains(rows[2].Detail, "newest.head-object.json") {
		t.Errorf("detail does not name the export: %q", rows[2].Detail)
	}
	if got, want := statuses(checkChains(chain, keys, []objectSignature{other})), "digest:valid digest:valid digest:not_verified"; got != want {
		t.Errorf("with another digest's export only: %s, want %s", got, want)
	}
	changed := testChain(t, key, fp, 3)
	changed[2].contentSHA = strings.Repeat("0", 64)
	rows = checkChains(changed, keys, []objectSignature{mine})
	if got, want := statuses(rows), "digest:valid digest:valid digest:not_verified"; got != want {
		t.Errorf("changed newest digest: %s, want %s", got, want)
	}
	if !strings.Contains(rows[2].Detail, "none of the 1 head-object exports") {
		t.Errorf("detail: %q", rows[2].Detail)
	}
	if got, want := statuses(checkChains(chain, nil, []objectSignature{mine})), "digest:not_verified digest:not_verified digest:not_verified"; got != want {
		t.Errorf("no key: %s, want %s", got, want)
	}
}

// CloudTrail's fingerprint is the MD5 of the key's DER, which is PKCS#1 or
// SubjectPublicKeyInfo: both forms parse to the same key.
func TestParseRSAPublicKeyBothForms(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, der := range [][]byte{pkcs1, pkix} {
		k, err := parseRSAPublicKey(der)
		if err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("%d-byte DER: %v", len(der), err)
		}
	}
	if _, err := parseRSAPublicKey([]byte("not a key")); err == nil {
		t.Error("garbage parsed as a key")
	}
}

// sampleDigestRegion copies the part of the sample case its digests cover
// (one account and region) and the public keys into a folder.
func sampleDigestRegion(t *testing.T) string {
	t.Helper()
	root := filepath.Join("..", "samples", "case")
	if _, err := os.Stat(root); err != nil {
		t.Skip("no samples/case")
	}
	dst := t.TempDir()
	const acct = "AWSLogs/o-hjot2hwz7m/927587041124/"
	for _, sub := range []string{acct + "CloudTrail-Digest/us-east-1", acct + "CloudTrail/us-east-1", "cloudtrail-public-keys.json", "cloudtrail-digest-metadata"} {
		src := filepath.Join(root, filepath.FromSlash(sub))
		err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(dst, rel)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func verifyDir(t *testing.T, dir string) map[string]int {
	t.Helper()
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(t.TempDir(), "case.duckdb"), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ingestPaths(t, c, dir)
	rows, err := c.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Kind+":"+r.Status]++
	}
	var stored int
	if err := c.DB.QueryRow("select count(*) from log_validation").Scan(&stored); err != nil || stored != len(rows) {
		t.Errorf("log_validation holds %d rows, want %d (%v)", stored, len(rows), err)
	}
	return counts
}

func logFilesOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, "_CloudTrail_") {
			out = append(out, p)
		}
		return nil
	})
	if len(out) < 3 {
		t.Fatalf("%d log files", len(out))
	}
	return out
}

// The committed sample case's signed digests validate end to end, and each
// kind of tampering is detected.
func TestVerifySampleCase(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the sample case")
	}
	dir := sampleDigestRegion(t)
	counts := verifyDir(t, dir)
	// The newest digest too, by its head-object export's signature.
	if counts["digest:valid"] < 100 || counts["digest:not_verified"] != 0 || counts["log_file:valid"] < 100 ||
		counts["digest:modified"]+counts["log_file:modified"]+counts["log_file:missing"]+counts["digest:missing"] != 0 {
		t.Fatalf("clean sample: %v", counts)
	}
	clean := counts

	t.Run("one byte of a log file", func(t *testing.T) {
		dir := sampleDigestRegion(t)
		f := logFilesOf(t, dir)[5]
		zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, f)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		body[len(body)/2] ^= 1
		if err := os.WriteFile(f, gzipBytes(t, body), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := verifyDir(t, dir); got["log_file:modified"] != 1 {
			t.Errorf("%v", got)
		}
	})
	t.Run("data appended after the gzip member", func(t *testing.T) {
		dir := sampleDigestRegion(t)
		f := logFilesOf(t, dir)[6]
		b := append(mustRead(t, f), gzipBytes(t, []byte(`{"Records":[]}`))...)
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := verifyDir(t, dir); got["log_file:modified"] != 1 {
			t.Errorf("%v", got)
		}
	})
	t.Run("log file deleted", func(t *testing.T) {
		dir := sampleDigestRegion(t)
		if err := os.Remove(logFilesOf(t, dir)[7]); err != nil {
			t.Fatal(err)
		}
		if got := verifyDir(t, dir); got["log_file:missing"] != 1 || got["log_file:valid"] != clean["log_file:valid"]-1 {
			t.Errorf("%v", got)
		}
	})
	t.Run("digest deleted", func(t *testing.T) {
		dir := sampleDigestRegion(t)
		var digests []string
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && strings.Contains(p, "_CloudTrail-Digest_") {
				digests = append(digests, p)
			}
			return nil
		})
		if err := os.Remove(digests[10]); err != nil {
			t.Fatal(err)
		}
		got := verifyDir(t, dir)
		if got["digest:missing"] != 1 || got["log_file:missing"] != 0 {
			t.Errorf("%v", got)
		}
	})
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Verify's results are stored in memory that does not grow with each row: with
// more than one DuckDB thread an insert per row held 256 KiB until the commit,
// and verify of the corpus (4,564 log files) ran out of the 1 GB default limit.
func TestVerifyStoresManyResultsInBoundedMemory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	c, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A case written before, as verify meets it.
	c, err = Open(ctx, path, Options{MemoryLimit: "128MB", Threads: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)
	rows := make([]LogValidation, 5000)
	for i := range rows {
		rows[i] = LogValidation{Kind: "log_file", AccountID: "111122223333", Status: ValidationNotCovered,
			Object: fmt.Sprintf("111122223333_CloudTrail_us-east-1_20261030T%04dZ_x.json.gz", i), Path: fmt.Sprintf("logs/%d.json.gz", i),
			Detail: "no digest of the case lists this file"}
	}
	rows[0] = LogValidation{Kind: "chain", Object: "gap", Status: ValidationGap, Detail: "a gap", Start: start, End: start.Add(time.Hour)}
	for range 2 { // a second verify replaces the first one's rows
		if err := c.storeValidation(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, c.DB, "select count(*) from log_validation"); n != int64(len(rows)) {
		t.Errorf("%d rows stored, want %d", n, len(rows))
	}
	if n := queryInt(t, c.DB, `select count(*) from log_validation where row_number = 1 and kind = 'chain' and account_id is null and path is null
		and detail = 'a gap' and period_start = ? and period_end = ?`, start, start.Add(time.Hour)); n != 1 {
		t.Error("the first row was not stored as given")
	}
	if n := queryInt(t, c.DB, `select count(*) from log_validation where row_number = 5000 and account_id = '111122223333'
		and path = 'logs/4999.json.gz' and detail = 'no digest of the case lists this file' and period_start is null`); n != 1 {
		t.Error("the last row was not stored as given")
	}
}
