package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseAWSTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "2022-03-08T16:02:25+00:00", want: utc(2022, 3, 8, 16, 2, 25, 0)},
		{in: "2025-01-28T17:25:12Z", want: utc(2025, 1, 28, 17, 25, 12, 0)},
		{in: "2025-01-28T17:25:12.123Z", want: utc(2025, 1, 28, 17, 25, 12, 123000000)},
		{in: "2025-01-28T17:25:12.123456+00:00", want: utc(2025, 1, 28, 17, 25, 12, 123456000)},
		{in: "2021-11-18T09:41:02-08:00", want: utc(2021, 11, 18, 17, 41, 2, 0)},
		{in: "2023-03-09 10:41:45+00:00", want: utc(2023, 3, 9, 10, 41, 45, 0)},
		{in: "2023-03-09 10:41:45.5+00:00", want: utc(2023, 3, 9, 10, 41, 45, 500000000)},
		{in: "2023-03-09T10:41:45+0000", want: utc(2023, 3, 9, 10, 41, 45, 0)},
		{in: "20131102T010628Z", want: utc(2013, 11, 2, 1, 6, 28, 0)},
		{in: "1453076702.0", want: utc(2016, 1, 18, 0, 25, 2, 0)},
		{in: "1453076702", want: utc(2016, 1, 18, 0, 25, 2, 0)},
		{in: "1453076702.25", want: utc(2016, 1, 18, 0, 25, 2, 250000000)},
		{in: "1.453076702e9", want: utc(2016, 1, 18, 0, 25, 2, 0)},
		{in: "", wantErr: "empty time"},
		{in: "2022-13-01T00:00:00Z", wantErr: `invalid time "2022-13-01T00:00:00Z": month out of range`},
		{in: "2022-13-01", wantErr: `invalid time "2022-13-01": month out of range`},
		{in: "2023-03-09T10:41:45", wantErr: `invalid time "2023-03-09T10:41:45"`}, // no zone
		{in: "yesterday", wantErr: `invalid time "yesterday"`},
		{in: "1453076702000", wantErr: `invalid time "1453076702000"`}, // milliseconds
		{in: "1.2.3", wantErr: `invalid time "1.2.3"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAWSTime(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseAWSTime(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseAWSTime(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("parseAWSTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseJSONTime(t *testing.T) {
	tests := []struct {
		raw     string
		want    string // RFC 3339, or "" for the zero time
		wantErr string
	}{
		{raw: `"2020-09-11T18:36:49Z"`, want: "2020-09-11T18:36:49Z"},
		{raw: `"2023-03-09 10:41:45+00:00"`, want: "2023-03-09T10:41:45Z"},
		{raw: `1455668702.0`, want: "2016-02-17T00:25:02Z"},
		{raw: `1455668702`, want: "2016-02-17T00:25:02Z"},
		{raw: `null`},
		{raw: `""`},
		{raw: ``},
		{raw: `-1`, wantErr: `invalid time "-1"`},
		{raw: `true`, wantErr: "invalid time true: not a string or number"},
		{raw: `"soon"`, wantErr: `invalid time "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := parseJSONTime(json.RawMessage(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("got %v, want the zero time", got)
				}
				return
			}
			if s := got.Format(time.RFC3339Nano); s != tt.want {
				t.Fatalf("got %s, want %s", s, tt.want)
			}
		})
	}
}
