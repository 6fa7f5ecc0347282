// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"opencoop/internal/api"
	"opencoop/internal/audit"
)

// TestOpenAPICoversRoutes fails when a registered route is missing from the
// OpenAPI document, or the document names a route nobody serves.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("OpenAPI document is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, r := range api.Routes() {
		registered[r] = true
		method, path, _ := strings.Cut(r, " ")
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !registered[strings.ToUpper(method)+" "+path] {
				t.Errorf("OpenAPI documents %s %s, which is not registered", strings.ToUpper(method), path)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	out := e.must(200, "GET", "/api/v1/openapi.json", "", nil)
	if out["openapi"] != "3.1.0" {
		t.Errorf("served document: openapi = %v", out["openapi"])
	}
}

func auditVerify(e *env) (*audit.Problem, error) {
	rep, err := audit.Verify(context.Background(), e.app.DB)
	return rep.Problem, err
}
