package samples

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Digest files for one region of one account (FORMATS.md A3.7): one per
// hour, listing the log files delivered in it with the SHA-256 of their
// uncompressed bytes, and chained to the previous digest by the SHA-256 of
// its uncompressed bytes. The first digest starts a chain (previous fields
// null).
//
// Each digest is signed as CloudTrail signs it (SHA256withRSA over its end
// time, location, the SHA-256 of its bytes and the previous signature) with
// the sample key below, whose public half the generator writes as an
// `aws cloudtrail list-public-keys` export beside the logs; a digest's
// signature is carried by the next digest's previousDigestSignature (the
// newest one's would be in S3 object metadata). The key is a fixed sample
// key, committed so that the case is the same on every run: it signs
// nothing but samples.

//go:embed digest_signing_key.pem
var digestSigningKeyPEM []byte

// digestKey is the sample signing key, its DER public key (PKCS#1, as
// CloudTrail publishes them) and fingerprint (hex MD5 of the DER).
func digestKey() (*rsa.PrivateKey, []byte, string, error) {
	block, _ := pem.Decode(digestSigningKeyPEM)
	if block == nil {
		return nil, nil, "", fmt.Errorf("digest signing key: no PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("digest signing key: %w", err)
	}
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	sum := md5.Sum(der)
	return key, der, hex.EncodeToString(sum[:]), nil
}

// signDigest signs a digest the way CloudTrail does (FORMATS.md A3.7).
func signDigest(key *rsa.PrivateKey, end int64, bucket, object, contentSHA, prevSig string) (string, error) {
	if prevSig == "" {
		prevSig = "null"
	}
	stamp := appendTime(nil, end)
	toSign := string(stamp) + "\n" + bucket + "/" + object + "\n" + contentSHA + "\n" + prevSig
	sum := sha256.Sum256([]byte(toSign))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign digest %s: %w", object, err)
	}
	return hex.EncodeToString(sig), nil
}

// writePublicKeys writes the list-public-keys export of the sample key,
// valid over the case's window.
func (g *generator) writePublicKeys(der []byte, fingerprint string) error {
	w := g.w
	start := appendTime(nil, w.windowStart-day)
	end := appendTime(nil, w.asOf+day)
	body := fmt.Sprintf(`{
    "PublicKeyList": [
        {
            "Value": "%s",
            "ValidityStartTime": "%s",
            "ValidityEndTime": "%s",
            "Fingerprint": "%s"
        }
    ]
}
`, base64.StdEncoding.EncodeToString(der), start, end, fingerprint)
	return g.writeFile(filepath.Join(g.dir, "cloudtrail-public-keys.json"), []byte(body))
}

const digestOffset = 4*60 + 4 // digests end a few minutes past the hour

func (g *generator) writeDigests(files []logFile) error {
	w := g.w
	if len(files) == 0 {
		return nil
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].delivered != files[j].delivered {
			return files[i].delivered < files[j].delivered
		}
		return files[i].key < files[j].key
	})
	a, region := w.digest.account, w.digest.region
	key, der, fingerprint, err := digestKey()
	if err != nil {
		return err
	}
	if err := g.writePublicKeys(der, fingerprint); err != nil {
		return err
	}
	last := files[len(files)-1].delivered
	var prevKey, prevHash, prevSig, newestPath string
	var newestEnd int64
	next := 0
	for end := w.windowStart + 3600 + digestOffset; end-3600 < max(last, w.asOf); end += 3600 {
		start := end - 3600
		var in []logFile
		for next < len(files) && files[next].delivered <= end {
			if files[next].delivered > start {
				in = append(in, files[next])
			}
			next++
		}
		stamp := appendTime(nil, end)
		y, m, d := civil(end / day)
		dir := fmt.Sprintf("AWSLogs/%s/%s/CloudTrail-Digest/%s/%04d/%02d/%02d", w.orgID, a.id, region, y, m, d)
		name := fmt.Sprintf("%s_CloudTrail-Digest_%s_%s_%s_%s%s%sT%s%s%sZ.json.gz", a.id, region, w.trailName, "us-east-1",
			stamp[0:4], stamp[5:7], stamp[8:10], stamp[11:13], stamp[14:16], stamp[17:19])
		object := dir + "/" + name
		body := g.digestBody(a, start, end, object, fingerprint, prevKey, prevHash, prevSig, in)
		if err := g.writeGzip(filepath.Join(g.dir, filepath.FromSlash(dir)), name, body); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		sig, err := signDigest(key, end, w.trailBucket, object, hex.EncodeToString(sum[:]), prevSig)
		if err != nil {
			return err
		}
		prevKey, prevHash, prevSig = object, hex.EncodeToString(sum[:]), sig
		newestPath, newestEnd = filepath.Join(g.dir, filepath.FromSlash(dir), name), end
		g.digests++
	}
	return g.writeObjectMetadata(newestPath, newestEnd, prevSig)
}

// writeObjectMetadata writes what `aws s3api head-object` prints for the
// newest digest: its signature is in the object's metadata and nowhere
// else, and an examiner exports it beside the downloaded logs.
func (g *generator) writeObjectMetadata(digestPath string, end int64, sig string) error {
	gz, err := os.ReadFile(digestPath)
	if err != nil {
		return fmt.Errorf("head-object export: %w", err)
	}
	sum := md5.Sum(gz)
	modified := appendTime(nil, end+5)
	body := fmt.Sprintf(`{
    "AcceptRanges": "bytes",
    "LastModified": "%s+00:00",
    "ContentLength": %d,
    "ETag": "\"%x\"",
    "ContentType": "application/json",
    "ContentEncoding": "gzip",
    "ServerSideEncryption": "AES256",
    "Metadata": {
        "signature": "%s",
        "signature-algorithm": "SHA256withRSA"
    }
}
`, string(modified[:19]), len(gz), sum, sig)
	dir := filepath.Join(g.dir, "cloudtrail-digest-metadata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return g.writeFile(filepath.Join(dir, filepath.Base(digestPath)+".head-object.json"), []byte(body))
}

// digestBody renders a digest as CloudTrail does, '/' escaped as '\/'.
func (g *generator) digestBody(a *account, start, end int64, key, fingerprint, prevKey, prevHash, prevSig string, files []logFile) []byte {
	w := g.w
	b := []byte(`{"awsAccountId":"` + a.id + `"`)
	b = appendTimeField(b, "digestStartTime", start)
	b = appendTimeField(b, "digestEndTime", end)
	b = appendSlashed(b, "digestS3Bucket", w.trailBucket)
	b = appendSlashed(b, "digestS3Object", key)
	b = appendStringField(b, "digestPublicKeyFingerprint", fingerprint)
	b = appendStringField(b, "digestSignatureAlgorithm", "SHA256withRSA")
	var oldest, newest int64
	for _, f := range files {
		if oldest == 0 || f.oldest < oldest {
			oldest = f.oldest
		}
		newest = max(newest, f.newest)
	}
	if len(files) == 0 {
		b = append(b, `,"newestEventTime":null,"oldestEventTime":null`...)
	} else {
		b = appendTimeField(b, "newestEventTime", newest)
		b = appendTimeField(b, "oldestEventTime", oldest)
	}
	if prevKey == "" {
		b = append(b, `,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null`...)
	} else {
		b = appendSlashed(b, "previousDigestS3Bucket", w.trailBucket)
		b = appendSlashed(b, "previousDigestS3Object", prevKey)
		b = appendStringField(b, "previousDigestHashValue", prevHash)
		b = appendStringField(b, "previousDigestHashAlgorithm", "SHA-256")
		b = appendStringField(b, "previousDigestSignature", prevSig)
	}
	b = append(b, `,"logFiles":[`...)
	for i, f := range files {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendSlashed(b, "s3Bucket", w.trailBucket)
		b = appendSlashed(b, "s3Object", f.key)
		b = appendStringField(b, "hashValue", f.hash)
		b = appendStringField(b, "hashAlgorithm", "SHA-256")
		b = appendTimeField(b, "newestEventTime", f.newest)
		b = appendTimeField(b, "oldestEventTime", f.oldest)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendSlashed appends a string member with '/' escaped, as AWS writes digests.
func appendSlashed(b []byte, key, val string) []byte {
	s := len(b)
	b = appendStringField(b, key, val)
	return append(b[:s], bytes.ReplaceAll(b[s:], []byte("/"), []byte(`\/`))...)
}

func (g *generator) writeGzip(dir, name string, body []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	sc := g.getScratch()
	defer g.scratchPool.Put(sc)
	sc.gz.Reset(&buf)
	if _, err := sc.gz.Write(body); err != nil {
		return err
	}
	if err := sc.gz.Close(); err != nil {
		return err
	}
	g.digestBytes += int64(buf.Len())
	return os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
}
