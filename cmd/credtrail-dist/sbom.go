package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"
)

// The SBOM is CycloneDX 1.5 JSON, written from the build information Go
// stamps into the binary: exactly the modules linked into it, with the
// versions and go.sum hashes the build used.
type bom struct {
	BOMFormat    string       `json:"bomFormat"`
	SpecVersion  string       `json:"specVersion"`
	SerialNumber string       `json:"serialNumber"`
	Version      int          `json:"version"`
	Metadata     bomMetadata  `json:"metadata"`
	Components   []component  `json:"components"`
	Dependencies []dependency `json:"dependencies"`
}

type bomMetadata struct {
	Timestamp string    `json:"timestamp"`
	Tools     bomTools  `json:"tools"`
	Component component `json:"component"`
}

type bomTools struct {
	Components []component `json:"components"`
}

type component struct {
	Type       string     `json:"type"`
	BOMRef     string     `json:"bom-ref,omitempty"`
	Name       string     `json:"name"`
	Version    string     `json:"version,omitempty"`
	PURL       string     `json:"purl,omitempty"`
	Hashes     []hash     `json:"hashes,omitempty"`
	Licenses   []licence  `json:"licenses,omitempty"`
	Properties []property `json:"properties,omitempty"`
}

type hash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type licence struct {
	License struct {
		ID string `json:"id"`
	} `json:"license"`
}

type property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type dependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

func purl(path, version string) string { return "pkg:golang/" + path + "@" + version }

// cycloneDX writes the SBOM of one binary: its build settings (GOOS,
// GOARCH, cgo, the commit) as properties of the application, and one
// library per module, with its licence where licenceID knew it.
func cycloneDX(info *debug.BuildInfo, licences map[string]string, version, binSHA256 string, epoch time.Time) ([]byte, error) {
	app := component{
		Type: "application", Name: "credtrail", Version: version,
		BOMRef: purl(info.Main.Path, version), PURL: purl(info.Main.Path, version),
		Hashes: []hash{{Alg: "SHA-256", Content: binSHA256}},
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS", "GOARCH", "CGO_ENABLED", "-tags", "-trimpath", "vcs.revision", "vcs.time", "vcs.modified":
			app.Properties = append(app.Properties, property{Name: "go:build:" + s.Key, Value: s.Value})
		}
	}
	stdlib := component{Type: "library", Name: "stdlib", Version: info.GoVersion,
		BOMRef: purl("stdlib", info.GoVersion), PURL: purl("stdlib", info.GoVersion)}
	stdlib.Licenses = []licence{{}}
	stdlib.Licenses[0].License.ID = "BSD-3-Clause"
	b := bom{
		BOMFormat: "CycloneDX", SpecVersion: "1.5", Version: 1,
		// The same binary gives the same serial number.
		SerialNumber: uuidURN(binSHA256),
		Metadata: bomMetadata{
			Timestamp: epoch.Format(time.RFC3339),
			Tools:     bomTools{Components: []component{{Type: "application", Name: "credtrail-dist", Version: version}}},
			Component: app,
		},
		Components: []component{stdlib},
	}
	deps := dependency{Ref: app.BOMRef, DependsOn: []string{stdlib.BOMRef}}
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		c := component{Type: "library", Name: d.Path, Version: m.Version, BOMRef: purl(d.Path, m.Version), PURL: purl(d.Path, m.Version)}
		if m.Sum != "" {
			c.Properties = append(c.Properties, property{Name: "go:module:sum", Value: m.Sum})
		}
		if id := licences[d.Path]; id != "" {
			c.Licenses = []licence{{}}
			c.Licenses[0].License.ID = id
		}
		b.Components = append(b.Components, c)
		deps.DependsOn = append(deps.DependsOn, c.BOMRef)
	}
	b.Dependencies = []dependency{deps}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// uuidURN is a version 5 style UUID made from a hex digest.
func uuidURN(seed string) string {
	h := sha256.Sum256([]byte(seed))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
