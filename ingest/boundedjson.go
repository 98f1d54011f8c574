package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONValueBytes bounds one JSON value read from a stream: a record of a
// CloudTrail body, or a value the sniffer reads past. A json.Decoder holds
// the whole of the value it decodes in memory, and a 7 MB gzip file can hold
// one 7 GiB string. CloudTrail's own records are at most 256 KB; a chunk of a
// rewrite (chunkBytes) holds at least one record of this size.
const maxJSONValueBytes = chunkBytes

// errValueTooLarge is the error of a decoder whose value passed maxJSONValueBytes.
var errValueTooLarge = fmt.Errorf("a JSON value larger than %d MiB", maxJSONValueBytes>>20)

// boundedDecoder is a json.Decoder whose every Token and Decode may read at
// most maxJSONValueBytes past where the decoder stands: the reader under it
// stops giving bytes there (More, which peeks, too), so a larger value fails with errValueTooLarge
// instead of filling memory. Nesting is bounded by the decoder itself
// (encoding/json refuses documents nested more than 10,000 deep).
type boundedDecoder struct {
	*json.Decoder
	src *boundedReader
}

func newBoundedDecoder(r io.Reader) *boundedDecoder {
	src := &boundedReader{r: r}
	return &boundedDecoder{Decoder: json.NewDecoder(src), src: src}
}

func (d *boundedDecoder) Token() (json.Token, error) {
	d.allow()
	return d.Decoder.Token()
}

func (d *boundedDecoder) Decode(v any) error {
	d.allow()
	return d.Decoder.Decode(v)
}

func (d *boundedDecoder) More() bool {
	d.allow()
	return d.Decoder.More()
}

// allow lets the reader give bytes up to maxJSONValueBytes past the decoder.
func (d *boundedDecoder) allow() { d.src.end = d.InputOffset() + maxJSONValueBytes }

// boundedReader gives the bytes of r up to offset end.
type boundedReader struct {
	r         io.Reader
	read, end int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.read >= b.end {
		return 0, errValueTooLarge
	}
	if rest := b.end - b.read; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

// isTooLarge says whether err is a value that passed maxJSONValueBytes.
func isTooLarge(err error) bool { return errors.Is(err, errValueTooLarge) }
