package ingest

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Log validation statuses, as `credtrail verify` and the log_validation
// table give them.
const (
	ValidationValid       = "valid"        // hash (and signature, for a digest) checked and right
	ValidationModified    = "modified"     // a hash or signature does not match: the file changed after delivery
	ValidationMissing     = "missing"      // a digest names it, and the evidence lacks it
	ValidationNotCovered  = "not_covered"  // a log file that no digest of the case lists
	ValidationNotVerified = "not_verified" // could not be checked, for the reason given
	ValidationGap         = "gap"          // a break in a digest chain
)

// LogValidation is one result of Verify: a digest, a log file or a gap.
type LogValidation struct {
	Kind      string // digest, log_file, chain
	AccountID string
	Object    string // the S3 key the digest names, or the file name
	Path      string // the evidence path, when the case holds the file
	Status    string
	Detail    string
	Start     time.Time // the period the row is about (a digest's, or a gap's)
	End       time.Time
}

// verifyDigest is a digest of the case, with what checks it.
type verifyDigest struct {
	fileID                        int64
	path, account, bucket, object string
	start, end                    time.Time
	fingerprint, contentSHA       string
	prevBucket, prevObject        string
	prevHash, prevSig             string
	hasPrev                       bool
}

// Verify validates the CloudTrail evidence of the case the way
// `aws cloudtrail validate-logs` does online (FORMATS.md A3.7), offline:
// each digest's SHA-256 against the next digest's previousDigestHashValue
// and its signature (from the next digest's previousDigestSignature)
// against the case's public keys; every log file a digest lists against
// the SHA-256 of its uncompressed bytes (one gzip member, nothing after);
// breaks in the chains; and log files that no digest covers. Log files are
// read again where the evidence lies: at the paths recorded at ingest, or,
// when search is given, in those files and folders (bundles included),
// found by file name. The results replace the case's log_validation rows.
func (c *Case) Verify(ctx context.Context, search []string) ([]LogValidation, error) {
	digests, err := c.verifyDigests(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := c.verifyKeys(ctx)
	if err != nil {
		return nil, err
	}
	sigs, err := c.verifySignatures(ctx)
	if err != nil {
		return nil, err
	}
	var out []LogValidation
	out = append(out, checkChains(digests, keys, sigs)...)

	logs, err := c.verifyLogFiles(ctx)
	if err != nil {
		return nil, err
	}
	listed, err := c.digestListings(ctx)
	if err != nil {
		return nil, err
	}
	finder, err := newEvidenceFinder(ctx, search, logs)
	if err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, l := range listed {
		name := path.Base(l.object)
		covered[name] = true
		row := LogValidation{Kind: "log_file", AccountID: l.account, Object: l.object, Start: l.start, End: l.end}
		ev, ok := logs[name]
		if !ok && finder.has(name) {
			ev, ok = evidenceRef{path: finder.where(name)}, true
		}
		if !ok {
			row.Status, row.Detail = ValidationMissing, "listed by digest "+path.Base(l.digest)+"; not in the evidence"
			out = append(out, row)
			continue
		}
		row.Path = ev.path
		sum, err := finder.uncompressedSHA256(ctx, name, ev)
		switch {
		case errors.Is(err, errTrailingData):
			row.Status, row.Detail = ValidationModified, err.Error()
		case err != nil:
			row.Status, row.Detail = ValidationNotVerified, err.Error()
		case !strings.EqualFold(sum, l.hash):
			row.Status, row.Detail = ValidationModified, fmt.Sprintf("SHA-256 of the uncompressed bytes is %s; digest %s lists %s", sum, path.Base(l.digest), l.hash)
		default:
			row.Status = ValidationValid
		}
		out = append(out, row)
	}
	// Log files present that no digest lists.
	names := make([]string, 0, len(logs))
	for n := range logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if covered[n] {
			continue
		}
		ev := logs[n]
		out = append(out, LogValidation{Kind: "log_file", AccountID: ev.account, Object: n, Path: ev.path, Status: ValidationNotCovered,
			Detail: "no digest of the case lists this file (its digest is not in the evidence, or the trail had validation off)"})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.storeValidation(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Case) verifyDigests(ctx context.Context) ([]verifyDigest, error) {
	rows, err := c.DB.QueryContext(ctx, `select d.file_id, ef.path, coalesce(d.account_id, ''), coalesce(d.digest_s3_bucket, ''),
		    coalesce(d.digest_s3_object, ''), d.digest_start_time, d.digest_end_time, coalesce(d.digest_public_key_fingerprint, ''),
		    d.content_sha256, coalesce(d.previous_digest_s3_bucket, ''), coalesce(d.previous_digest_s3_object, ''),
		    coalesce(d.previous_digest_hash_value, ''), coalesce(d.previous_digest_signature, ''), d.previous_digest_s3_object is not null
		from digests d join evidence_files ef on ef.file_id = d.file_id
		order by d.account_id, d.digest_end_time, d.digest_s3_object`)
	if err != nil {
		return nil, fmt.Errorf("verify: read digests: %w", err)
	}
	defer rows.Close()
	var out []verifyDigest
	for rows.Next() {
		var d verifyDigest
		if err := rows.Scan(&d.fileID, &d.path, &d.account, &d.bucket, &d.object, &d.start, &d.end, &d.fingerprint,
			&d.contentSHA, &d.prevBucket, &d.prevObject, &d.prevHash, &d.prevSig, &d.hasPrev); err != nil {
			return nil, fmt.Errorf("verify: read digests: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// verifyKeys returns the case's CloudTrail public keys by lower-case
// fingerprint. A key's fingerprint is the hex MD5 of its DER bytes, which
// are PKCS#1 RSAPublicKey or SubjectPublicKeyInfo.
func (c *Case) verifyKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	rows, err := c.DB.QueryContext(ctx, "select value from public_keys")
	if err != nil {
		return nil, fmt.Errorf("verify: read public keys: %w", err)
	}
	defer rows.Close()
	keys := map[string]*rsa.PublicKey{}
	for rows.Next() {
		var value string
		if err := rows.Scan(&value); err != nil {
			return nil, fmt.Errorf("verify: read public keys: %w", err)
		}
		der, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue // ingest noted it; a key that cannot be read verifies nothing
		}
		key, err := parseRSAPublicKey(der)
		if err != nil {
			continue
		}
		sum := md5.Sum(der)
		keys[hex.EncodeToString(sum[:])] = key
	}
	return keys, rows.Err()
}

func parseRSAPublicKey(der []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// DigestStringToSign is what CloudTrail signs for a digest: its end time,
// its location, the SHA-256 of its uncompressed bytes and the previous
// digest's signature ("null" for the first of a chain).
func DigestStringToSign(end time.Time, bucket, object, contentSHA256, previousSignature string) string {
	if previousSignature == "" {
		previousSignature = "null"
	}
	return end.UTC().Format("2006-01-02T15:04:05Z") + "\n" + bucket + "/" + object + "\n" + contentSHA256 + "\n" + previousSignature
}

// objectSignature is a digest signature from an S3 head-object export.
type objectSignature struct {
	path, signature string
}

// verifySignatures returns the digest signatures of the case's S3
// head-object exports.
func (c *Case) verifySignatures(ctx context.Context) ([]objectSignature, error) {
	rows, err := c.DB.QueryContext(ctx, `select ef.path, s.signature from digest_signatures s
		join evidence_files ef on ef.file_id = s.file_id order by s.file_id`)
	if err != nil {
		return nil, fmt.Errorf("verify: read digest signatures: %w", err)
	}
	defer rows.Close()
	var out []objectSignature
	for rows.Next() {
		var s objectSignature
		if err := rows.Scan(&s.path, &s.signature); err != nil {
			return nil, fmt.Errorf("verify: read digest signatures: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// signatureVerifies says whether sigHex is key's signature of digest d.
func signatureVerifies(d *verifyDigest, key *rsa.PublicKey, sigHex string) bool {
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(DigestStringToSign(d.end, d.bucket, d.object, d.contentSHA, d.prevSig)))
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) == nil
}

// checkNewest validates the newest digest of a chain, whose hash and
// signature no later digest holds, by the signatures of the S3 head-object
// exports: the one that verifies it is its signature.
func checkNewest(d *verifyDigest, keys map[string]*rsa.PublicKey, sigs []objectSignature) (status, detail string) {
	const newest = "the newest digest of its chain: no later digest holds its hash and signature (CloudTrail keeps them in the S3 object's metadata"
	if len(sigs) == 0 {
		return ValidationNotVerified, newest + "; give its aws s3api head-object output to verify it)"
	}
	key := keys[strings.ToLower(d.fingerprint)]
	if key == nil {
		return ValidationNotVerified, newest + "; no public key with fingerprint " + d.fingerprint + " in the case to check the exported signatures)"
	}
	for _, s := range sigs {
		if signatureVerifies(d, key, s.signature) {
			return ValidationValid, "signature from the S3 metadata export " + filepath.Base(s.path)
		}
	}
	return ValidationNotVerified, fmt.Sprintf("%s; none of the %d head-object exports in the case holds a signature that verifies it)", newest, len(sigs))
}

// checkChains validates each digest by the one after it (the newest of a
// chain by the head-object exports' signatures), and reports the breaks of
// each account's chains.
func checkChains(digests []verifyDigest, keys map[string]*rsa.PublicKey, sigs []objectSignature) []LogValidation {
	byObject := map[string]*verifyDigest{}
	next := map[string]*verifyDigest{} // previous object → the digest naming it
	for i := range digests {
		d := &digests[i]
		byObject[d.bucket+"/"+d.object] = d
		if d.hasPrev {
			next[d.prevBucket+"/"+d.prevObject] = d
		}
	}
	var out []LogValidation
	for i := range digests {
		d := &digests[i]
		row := LogValidation{Kind: "digest", AccountID: d.account, Object: d.object, Path: d.path, Start: d.start, End: d.end}
		n := next[d.bucket+"/"+d.object]
		switch {
		case n == nil:
			row.Status, row.Detail = checkNewest(d, keys, sigs)
		case !strings.EqualFold(n.prevHash, d.contentSHA):
			row.Status = ValidationModified
			row.Detail = fmt.Sprintf("SHA-256 %s; the next digest %s holds %s", d.contentSHA, path.Base(n.object), n.prevHash)
		default:
			key := keys[strings.ToLower(d.fingerprint)]
			_, err := hex.DecodeString(n.prevSig)
			switch {
			case key == nil:
				row.Status = ValidationNotVerified
				row.Detail = "hash matches the next digest; no public key with fingerprint " + d.fingerprint + " in the case (add the aws cloudtrail list-public-keys export)"
			case err != nil:
				row.Status, row.Detail = ValidationModified, "the next digest's previousDigestSignature is not hex"
			case !signatureVerifies(d, key, n.prevSig):
				row.Status, row.Detail = ValidationModified, "signature does not verify with key "+d.fingerprint
			default:
				row.Status = ValidationValid
			}
		}
		out = append(out, row)
	}
	// Breaks: a digest naming a previous one the case lacks, or a chain
	// that starts again (validation turned off and on, or digests deleted).
	for i := range digests {
		d := &digests[i]
		switch {
		case d.hasPrev && byObject[d.prevBucket+"/"+d.prevObject] == nil:
			out = append(out, LogValidation{Kind: "digest", AccountID: d.account, Object: d.prevObject, Status: ValidationMissing,
				Detail: "named as previous digest by " + path.Base(d.object) + "; not in the evidence", End: d.start})
		case !d.hasPrev && hasEarlier(digests, i):
			prev := earlier(digests, i)
			out = append(out, LogValidation{Kind: "chain", AccountID: d.account, Object: d.object, Status: ValidationGap,
				Detail: fmt.Sprintf("chain starts again after %s: no digest covers %s .. %s (log file validation was off, or digests were deleted)",
					path.Base(prev.object), prev.end.UTC().Format(time.RFC3339), d.start.UTC().Format(time.RFC3339)),
				Start: prev.end, End: d.start})
		}
	}
	return out
}

// chainOf names the chain a digest belongs to: account, region and trail,
// from its file name (ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOME_STAMP.json.gz).
func chainOf(d *verifyDigest) string {
	name := path.Base(d.object)
	if i := strings.LastIndex(name, "_"); i > 0 {
		name = name[:i]
	}
	return d.account + "|" + path.Dir(path.Dir(path.Dir(path.Dir(d.object)))) + "|" + name
}

func earlier(digests []verifyDigest, i int) *verifyDigest {
	var best *verifyDigest
	for j := range digests {
		e := &digests[j]
		if j != i && chainOf(e) == chainOf(&digests[i]) && e.end.Before(digests[i].end) && (best == nil || e.end.After(best.end)) {
			best = e
		}
	}
	return best
}

func hasEarlier(digests []verifyDigest, i int) bool { return earlier(digests, i) != nil }

// evidenceRef is a CloudTrail evidence file of the case.
type evidenceRef struct {
	path, account, sha256 string
}

// verifyLogFiles returns the case's CloudTrail log files by file name.
func (c *Case) verifyLogFiles(ctx context.Context) (map[string]evidenceRef, error) {
	rows, err := c.DB.QueryContext(ctx, `select path, coalesce(account_id, ''), coalesce(sha256, '') from evidence_files
		where kind = 'cloudtrail' and status <> 'rejected' order by file_id`)
	if err != nil {
		return nil, fmt.Errorf("verify: read evidence: %w", err)
	}
	defer rows.Close()
	out := map[string]evidenceRef{}
	for rows.Next() {
		var e evidenceRef
		if err := rows.Scan(&e.path, &e.account, &e.sha256); err != nil {
			return nil, fmt.Errorf("verify: read evidence: %w", err)
		}
		name := path.Base(filepath.ToSlash(e.path))
		if _, seen := out[name]; !seen {
			out[name] = e
		}
	}
	return out, rows.Err()
}

type digestListing struct {
	account, digest, object, hash string
	start, end                    time.Time
}

func (c *Case) digestListings(ctx context.Context) ([]digestListing, error) {
	rows, err := c.DB.QueryContext(ctx, `select coalesce(d.account_id, ''), coalesce(d.digest_s3_object, ''), coalesce(l.s3_object, ''),
		    coalesce(l.hash_value, ''), d.digest_start_time, d.digest_end_time
		from digest_log_files l join digests d on d.file_id = l.digest_file_id
		order by d.account_id, d.digest_end_time, l.log_file_index`)
	if err != nil {
		return nil, fmt.Errorf("verify: read digest listings: %w", err)
	}
	defer rows.Close()
	var out []digestListing
	seen := map[string]bool{}
	for rows.Next() {
		var l digestListing
		if err := rows.Scan(&l.account, &l.digest, &l.object, &l.hash, &l.start, &l.end); err != nil {
			return nil, fmt.Errorf("verify: read digest listings: %w", err)
		}
		if k := l.object + "|" + l.hash; !seen[k] { // the same digest given twice lists its files once
			seen[k] = true
			out = append(out, l)
		}
	}
	return out, rows.Err()
}

// evidenceFinder reads log files again, by file name: from the paths the
// user gave (files, folders, bundles), else from the paths recorded at
// ingest.
type evidenceFinder struct {
	found  map[string]string // file name → path (or bundle!entry) in the search paths
	hashes map[string]string // file name → SHA-256 of the uncompressed bytes, for bundle entries read in one pass
	errs   map[string]error
}

func newEvidenceFinder(ctx context.Context, search []string, logs map[string]evidenceRef) (*evidenceFinder, error) {
	f := &evidenceFinder{found: map[string]string{}, hashes: map[string]string{}, errs: map[string]error{}}
	var bundles []string
	for _, root := range search {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if isBundleName(d.Name()) {
				bundles = append(bundles, p)
				return nil
			}
			if _, seen := f.found[d.Name()]; !seen {
				f.found[d.Name()] = p
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	// Bundles given or recorded at ingest are read once, hashing the log
	// files they hold.
	for _, e := range logs {
		if b, _, ok := strings.Cut(e.path, "!"); ok && len(search) == 0 {
			bundles = append(bundles, b)
		}
	}
	sort.Strings(bundles)
	done := map[string]bool{}
	for _, b := range bundles {
		if done[b] {
			continue
		}
		done[b] = true
		if err := f.hashBundle(ctx, b); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func isBundleName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".tar") || strings.HasSuffix(n, ".tgz") || strings.HasSuffix(n, ".tar.gz") || strings.HasSuffix(n, ".zip")
}

func (f *evidenceFinder) has(name string) bool {
	_, ok := f.found[name]
	if !ok {
		_, ok = f.hashes[name]
	}
	return ok
}

func (f *evidenceFinder) where(name string) string { return f.found[name] }

// hashBundle hashes the CloudTrail log files inside a tar, tar.gz or zip.
func (f *evidenceFinder) hashBundle(ctx context.Context, bundle string) error {
	file, err := openEvidence(bundle)
	if err != nil {
		return nil // not reachable: its log files are reported one by one
	}
	defer file.Close()
	entry := func(name string, r io.Reader) {
		base := path.Base(name)
		if !strings.Contains(base, "_CloudTrail_") {
			return
		}
		sum, err := uncompressedSHA256(r, strings.HasSuffix(strings.ToLower(base), ".gz"))
		if err != nil {
			f.errs[base] = fmt.Errorf("%s!%s: %w", bundle, name, err)
			return
		}
		if _, seen := f.hashes[base]; !seen {
			f.hashes[base] = sum
			f.found[base] = bundle + "!" + name
		}
	}
	if strings.HasSuffix(strings.ToLower(bundle), ".zip") {
		st, err := file.Stat()
		if err != nil {
			return nil
		}
		zr, err := zip.NewReader(file, st.Size())
		if err != nil {
			return nil
		}
		for _, zf := range zr.File {
			if err := ctx.Err(); err != nil {
				return err
			}
			rc, err := zf.Open()
			if err != nil {
				continue
			}
			entry(zf.Name, rc)
			rc.Close()
		}
		return nil
	}
	var r io.Reader = bufio.NewReader(file)
	if n := strings.ToLower(bundle); strings.HasSuffix(n, ".gz") || strings.HasSuffix(n, ".tgz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err != nil {
			return nil // the end, or a damaged bundle: what is left is reported missing or not verified
		}
		if h.Typeflag == tar.TypeReg {
			entry(h.Name, tr)
		}
	}
}

// uncompressedSHA256 returns the SHA-256 of a log file's bytes as
// CloudTrail hashed them: after gunzip of its one member when gzipped.
// Data after the first gzip member is an error, as in aws-cli.
func (f *evidenceFinder) uncompressedSHA256(ctx context.Context, name string, ev evidenceRef) (string, error) {
	if sum, ok := f.hashes[name]; ok {
		return sum, nil
	}
	if err, ok := f.errs[name]; ok {
		return "", err
	}
	p := ev.path
	if found, ok := f.found[name]; ok {
		p = found
	}
	if strings.Contains(p, "!") {
		return "", fmt.Errorf("%s: inside a bundle that could not be read; give the bundle or its unpacked folder: credtrail verify CASE PATH", p)
	}
	file, err := openEvidence(p)
	if err != nil {
		return "", fmt.Errorf("not reachable where it was ingested (%w); give where it lies now: credtrail verify CASE PATH", err)
	}
	defer file.Close()
	return uncompressedSHA256(file, strings.HasSuffix(strings.ToLower(p), ".gz"))
}

// errTrailingData: bytes after the one gzip member CloudTrail delivers,
// which aws-cli reports as invalid.
var errTrailingData = errors.New("data after the end of the gzip stream (CloudTrail delivers one gzip member)")

func uncompressedSHA256(r io.Reader, gzipped bool) (string, error) {
	h := sha256.New()
	if !gzipped {
		if _, err := io.Copy(h, r); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	br := bufio.NewReader(r)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	zr.Multistream(false)
	if _, err := io.Copy(h, zr); err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return "", errTrailingData
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// storeValidation replaces the case's log_validation rows with rows, in one
// insert: with several DuckDB threads an insert per row held 256 KiB each
// until the commit, so a case of 4,000 log files ran out of a 1 GB limit.
func (c *Case) storeValidation(ctx context.Context, rows []LogValidation) error {
	n := len(rows)
	nums := make([]int64, n)
	kinds, accounts, objects, paths := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	statuses, details := make([]string, n), make([]string, n)
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	for i, r := range rows {
		nums[i] = int64(i + 1)
		kinds[i], accounts[i], objects[i], paths[i] = r.Kind, r.AccountID, r.Object, r.Path
		statuses[i], details[i] = r.Status, r.Detail
		starts[i], ends[i] = r.Start.UTC(), r.End.UTC()
	}
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "delete from log_validation"); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `insert into log_validation (row_number, kind, account_id, object, path, status, detail, period_start, period_end)
			select unnest(?::bigint[]), unnest(?::varchar[]), nullif(unnest(?::varchar[]), ''), unnest(?::varchar[]),
			       nullif(unnest(?::varchar[]), ''), unnest(?::varchar[]), nullif(unnest(?::varchar[]), ''),
			       nullif(unnest(?::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz),
			       nullif(unnest(?::timestamptz[]), '0001-01-01 00:00:00+00'::timestamptz)`,
			nums, kinds, accounts, objects, paths, statuses, details, starts, ends); err != nil {
			return fmt.Errorf("verify: store results: %w", err)
		}
	}
	return tx.Commit()
}
