package samples

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
// Signatures cannot be produced without CloudTrail's private key: the
// fingerprint and previousDigestSignature are random hex of the right
// length, so a verifier can check hashes and chaining but must report the
// signatures as unverifiable.

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
	r := w.rng("digest")
	fingerprint := randomHex(r, 32)
	last := files[len(files)-1].delivered
	var prevKey, prevHash, prevSig string
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
		key := dir + "/" + name
		body := g.digestBody(a, start, end, key, fingerprint, prevKey, prevHash, prevSig, in)
		if err := g.writeGzip(filepath.Join(g.dir, filepath.FromSlash(dir)), name, body); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		prevKey, prevHash, prevSig = key, hex.EncodeToString(sum[:]), randomHex(r, 512)
		g.digests++
	}
	return nil
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
