// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"opencoop/internal/tally"
)

// TestExportRecountsExactly closes proposals of several methods, class
// weighted and secret among them, exports their ballots, recounts each
// export with `opencoop tally` and wants the stored winners and weighted
// totals back, digit for digit.
func TestExportRecountsExactly(t *testing.T) {
	e := newEnv(t)
	toks := e.people("r", "workers", "users", "users", "users", "users")
	abcd := []map[string]any{{"key": "a", "label": "Alpha"}, {"key": "b", "label": "Beta"}, {"key": "c", "label": "Gamma"}, {"key": "d", "label": "Delta"}}
	rank := func(keys ...any) map[string]any { return map[string]any{"ranking": keys} }
	cases := []struct {
		p       map[string]any
		ballots []map[string]any
		formats []string
		// pairwise: every format must give the stored pairwise table back
		// (equal weighting, so ballot files lose nothing).
		pairwise bool
	}{
		{map[string]any{"method": "schulze", "weighting": "classes"},
			[]map[string]any{rank("a", "b"), rank("b", []string{"c", "d"}), rank("c", "a"), rank("d"), rank("b", "a"), rank("a", "c", "d")}, []string{"json", "blt", "preflib"}, false},
		// Left-out options rank level with the default option d when a
		// ballot ranks d, which ballot files must spell out.
		{map[string]any{"method": "schulze", "default_option": "d"},
			[]map[string]any{rank("a", "d"), rank("b", "d"), rank("d", "a"), rank("c", "d", "b"), rank("a", "d"), rank("b")}, []string{"json", "blt", "preflib"}, true},
		{map[string]any{"method": "stv", "seats": 2, "secret": true},
			[]map[string]any{rank("a", "b"), rank("a", "c"), rank("a", "b"), rank("d", "c"), rank("c", "d"), rank("b")}, []string{"json", "blt"}, false},
		{map[string]any{"method": "score", "weighting": "classes"},
			[]map[string]any{{"scores": map[string]int{"a": 5, "b": 1}}, {"scores": map[string]int{"c": 3}}, {"scores": map[string]int{"b": 4, "d": 2}}}, []string{"json"}, false},
		{map[string]any{"method": "approval", "weighting": "classes", "empty_class": "abstain"},
			[]map[string]any{{"choices": []string{"a", "b"}}, {"choices": []string{"c"}}}, []string{"json"}, false},
	}
	for _, tc := range cases {
		method := tc.p["method"].(string)
		t.Run(method, func(t *testing.T) {
			tc.p["title"], tc.p["options"] = "Recount "+method, abcd
			id := e.propose(toks[0], "r", tc.p)
			for i, b := range tc.ballots {
				e.vote(toks[i], id, b)
			}
			stored := e.closeProposal(toks[0], id)
			for _, format := range tc.formats {
				body := e.raw(fmt.Sprintf("/api/v1/proposals/%d/export?format=%s", id, format), toks[1])
				if tc.p["secret"] == true && strings.Contains(body, "voter") {
					t.Errorf("%s export of a secret ballot names voters", format)
				}
				path := filepath.Join(t.TempDir(), "export."+map[string]string{"json": "json", "blt": "blt", "preflib": "toi"}[format])
				os.WriteFile(path, []byte(body), 0o600)
				args := []string{"--method", method, "--seed", stored["seed"].(string)}
				if method == "stv" {
					args = append(args, "--seats", "2")
				}
				if d, ok := tc.p["default_option"].(string); ok {
					args = append(args, "--default-option", d)
				}
				var out, errb bytes.Buffer
				if code := tally.Run(context.Background(), append(args, path), &out, &errb); code != 0 {
					t.Fatalf("tally %s export: exit %d: %s\n%s", format, code, errb.String(), body)
				}
				var recount map[string]any
				json.Unmarshal(out.Bytes(), &recount)
				// Exports name candidates by option key, so the lot redraws alike.
				want := stored["winners"]
				if got := fmt.Sprint(recount["winners"]); got != fmt.Sprint(want) {
					t.Errorf("%s export recounts to winners %s, stored %v", format, got, want)
				}
				if format == "json" {
					if g, w := canon(recount["weighted"]), canon(stored["weighted"]); g != w {
						t.Errorf("json export recounts to weighted %s, stored %s", g, w)
					}
				}
				if tc.pairwise {
					if g, w := canon(recount["pairwise"]), canon(stored["pairwise"]); g != w {
						t.Errorf("%s export recounts to pairwise %s, stored %s", format, g, w)
					}
				}
				if method == "schulze" && format == "json" && canon(recount["pairwise"]) == "null" {
					t.Errorf("schulze recount lacks the pairwise table")
				}
			}
		})
	}
	// Open proposals have no export yet; other methods only JSON.
	id := e.propose(toks[0], "r", map[string]any{"title": "Still open", "method": "yesno"})
	if st, _ := e.do("GET", fmt.Sprintf("/api/v1/proposals/%d/export", id), toks[0], nil); st != 409 {
		t.Errorf("export of an open proposal: %d, want 409", st)
	}
	e.closeProposal(toks[0], id)
	if st, _ := e.do("GET", fmt.Sprintf("/api/v1/proposals/%d/export?format=blt", id), toks[0], nil); st != 422 {
		t.Errorf("BLT export of a yes/no proposal: %d, want 422", st)
	}
}

// raw fetches path and returns the body as text.
func (e *env) raw(path, token string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// canon re-encodes a decoded JSON value with sorted keys.
func canon(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
