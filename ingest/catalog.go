package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The optional action catalog: AWS's service reference information
// (FORMATS.md A5). Each service document becomes one action_catalog row per
// action; the service list that names the documents is kept as evidence only.

// Access levels, as the Service Authorization Reference names them.
const (
	accessPermissionsManagement = "Permissions management"
	accessTagging               = "Tagging"
	accessWrite                 = "Write"
	accessList                  = "List"
	accessRead                  = "Read"
)

// catalogAction is the part of an Actions entry the catalog keeps.
type catalogAction struct {
	Name        *string
	Annotations *struct {
		Properties *actionProperties
	}
	Resources []struct {
		Name *string
	}
}

// actionProperties are the flags AWS gives in place of an access level.
type actionProperties struct {
	IsList                 bool
	IsPermissionManagement bool
	IsTaggingOnly          bool
	IsWrite                bool
}

// accessLevel names the access level the flags stand for, most specific
// first: a tagging action is also flagged IsWrite, a permissions-management
// one may be too. An action with no flag set reads.
func (p actionProperties) accessLevel() string {
	switch {
	case p.IsPermissionManagement:
		return accessPermissionsManagement
	case p.IsTaggingOnly:
		return accessTagging
	case p.IsWrite:
		return accessWrite
	case p.IsList:
		return accessList
	}
	return accessRead
}

// loadActionCatalog loads a service document of the service reference
// information, or accepts the service list that names those documents.
// A document is rejected whole when its Name or an action's Name is missing;
// an action listed twice (names compared as IAM does, ignoring case) is
// loaded once.
func loadActionCatalog(ctx context.Context, tx *sql.Tx, fileID int64, body []byte) (fileStats, error) {
	body = trimBOM(body)
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return loadServiceList(body)
	}
	doc, err := jsonObject(body)
	if err != nil {
		return fileStats{}, err
	}
	rawName, ok := doc["Name"]
	if !ok || bytes.Equal(bytes.TrimSpace(rawName), []byte("null")) {
		return fileStats{}, errors.New("Name: missing (the service prefix of a service reference document)")
	}
	var name string
	if err := json.Unmarshal(rawName, &name); err != nil {
		return fileStats{}, fmt.Errorf("Name: not a string: %s", clip(string(bytes.TrimSpace(rawName)), 40))
	}
	if strings.TrimSpace(name) == "" {
		return fileStats{}, errors.New("Name: empty (the service prefix of a service reference document)")
	}
	rawActions, ok := doc["Actions"]
	if !ok {
		return fileStats{}, errors.New("Actions: missing")
	}
	if a := bytes.TrimSpace(rawActions); len(a) == 0 || a[0] != '[' {
		return fileStats{}, fmt.Errorf("Actions: not an array: %s", clip(string(a), 40))
	}
	// Decoded from the whole body so that a type error names its line.
	var parsed struct{ Actions []catalogAction }
	if err := json.Unmarshal(body, &parsed); err != nil {
		return fileStats{}, jsonDecodeError(body, err)
	}

	type row struct {
		Action    string   `json:"action"`
		Access    *string  `json:"access"`
		Resources []string `json:"resources"`
	}
	rows := make([]row, 0, len(parsed.Actions))
	seen := make(map[string]bool, len(parsed.Actions))
	for i, a := range parsed.Actions {
		if a.Name == nil || strings.TrimSpace(*a.Name) == "" {
			return fileStats{}, fmt.Errorf("Actions[%d].Name: missing", i)
		}
		key := strings.ToLower(*a.Name)
		if seen[key] {
			continue
		}
		seen[key] = true
		r := row{Action: name + ":" + *a.Name, Resources: []string{}}
		if a.Annotations != nil && a.Annotations.Properties != nil {
			level := a.Annotations.Properties.accessLevel()
			r.Access = &level
		}
		for _, res := range a.Resources {
			if res.Name != nil && *res.Name != "" {
				r.Resources = append(r.Resources, *res.Name)
			}
		}
		rows = append(rows, r)
	}
	st := fileStats{Records: int64(len(rows))}
	if len(rows) == 0 {
		return st, nil
	}
	// One statement for the whole document; the lists of resource types
	// travel as JSON because duckdb-go binds only lists of plain values.
	js, err := json.Marshal(rows)
	if err != nil {
		return fileStats{}, fmt.Errorf("insert action catalog: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`insert into action_catalog (service, action, access_level, resource_types, file_id)
		 select ?, r->>'action', r->>'access', from_json(r->'resources', '["VARCHAR"]'), ?
		 from (select unnest(?::json[]) as r)`, strings.ToLower(name), fileID, string(js)); err != nil {
		return fileStats{}, fmt.Errorf("insert action catalog: %w", err)
	}
	return st, nil
}

// loadServiceList checks the service list (service-list.json), which names
// the per-service documents and holds no actions: it loads with no records.
func loadServiceList(body []byte) (fileStats, error) {
	var list []struct {
		Service *string
		URL     *string
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return fileStats{}, jsonDecodeError(body, err)
	}
	for i, e := range list {
		if e.Service == nil || *e.Service == "" {
			return fileStats{}, fmt.Errorf("[%d].service: missing", i)
		}
	}
	return fileStats{Note: fmt.Sprintf("service list naming %d services: the actions are in the per-service documents", len(list))}, nil
}
