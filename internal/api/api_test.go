// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"opencoop/internal/server"
	"opencoop/internal/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a running instance on a fresh store, reached over real HTTP.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	app   *server.App
	clock *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db := storetest.Open(t)
	c := &clock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	app := server.NewApp(db, c.now, bytes.Repeat([]byte{7}, 32), slog.New(slog.DiscardHandler), "http://opencoop.test")
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, app: app, clock: c}
}

// do sends a request with an optional bearer token and JSON body (a string
// is sent as is) and returns the status and decoded body.
func (e *env) do(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: not JSON (%d): %s", method, path, resp.StatusCode, raw)
		}
	}
	out["_raw"] = string(raw)
	return resp.StatusCode, out
}

// must is do that fails the test unless the status is want.
func (e *env) must(want int, method, path, token string, body any) map[string]any {
	e.t.Helper()
	st, out := e.do(method, path, token, body)
	if st != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, st, want, out["_raw"])
	}
	return out
}

func (e *env) signup(handle string) string {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/accounts", "", map[string]any{"handle": handle, "name": strings.ToUpper(handle[:1]) + handle[1:],
		"email": handle + "@example.org", "password": "correct horse " + handle})
	out := e.must(201, "POST", "/api/v1/tokens", "", map[string]any{"handle": handle, "password": "correct horse " + handle})
	return out["token"].(string)
}

// found creates co-op slug with two voting classes, workers 60 and users 40,
// founded by the holder of token in class workers.
func (e *env) found(token, slug string) {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/coops", token, map[string]any{"slug": slug, "name": "Co-op " + slug, "purpose": "Serve its members.",
		"preset": "somerset", "founder_class": "workers",
		"classes": []map[string]any{{"key": "workers", "name": "Workers", "weight": 60}, {"key": "users", "name": "Users", "weight": 40}}})
}

func (e *env) invite(token, slug, class string) string {
	e.t.Helper()
	out := e.must(201, "POST", "/api/v1/coops/"+slug+"/invitations", token, map[string]any{"class": class})
	return out["code"].(string)
}

func (e *env) join(token, slug, code string) {
	e.t.Helper()
	e.must(201, "POST", "/api/v1/coops/"+slug+"/members", token, map[string]any{"code": code})
}

func (e *env) propose(token, slug string, p map[string]any) int64 {
	e.t.Helper()
	if _, ok := p["closes_at"]; !ok {
		p["closes_at"] = e.clock.now().Add(24 * time.Hour).Format(time.RFC3339)
	}
	out := e.must(201, "POST", "/api/v1/coops/"+slug+"/proposals", token, p)
	return int64(out["id"].(float64))
}

func (e *env) vote(token string, id int64, ballot map[string]any) {
	e.t.Helper()
	e.must(200, "PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), token, ballot)
}

func (e *env) closeProposal(token string, id int64) map[string]any {
	e.t.Helper()
	return e.must(200, "POST", fmt.Sprintf("/api/v1/proposals/%d/close", id), token, nil)
}

// people signs up n people and makes the first found slug; the others join
// in the classes given.
func (e *env) people(slug string, classes ...string) []string {
	toks := []string{e.signup("founder")}
	e.found(toks[0], slug)
	for i, cl := range classes {
		tok := e.signup(fmt.Sprintf("m%d", i+1))
		e.join(tok, slug, e.invite(toks[0], slug, cl))
		toks = append(toks, tok)
	}
	return toks
}

func yes(s string) map[string]any { return map[string]any{"choice": s} }

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %v, %v", resp, err)
	}
}

// TestClassWeighting is RULES.md 2.3 end to end: workers (60%) are 1 yes
// and 1 no, users (40%) are 3 no. Counted equally that is 1 yes to 4 no and
// fails; ... so we make the weighted and equal counts disagree the other
// way: workers 2 yes, users 1 yes and 4 no.
func TestClassWeighting(t *testing.T) {
	e := newEnv(t)
	// founder is a worker; m1 a worker; m2..m6 users.
	toks := e.people("w", "workers", "users", "users", "users", "users", "users")
	for _, weighting := range []string{"equal", "classes"} {
		id := e.propose(toks[0], "w", map[string]any{"title": "Weighting " + weighting, "method": "yesno", "weighting": weighting})
		e.vote(toks[0], id, yes("yes"))
		e.vote(toks[1], id, yes("yes"))
		e.vote(toks[2], id, yes("yes"))
		for _, tok := range toks[3:] {
			e.vote(tok, id, yes("no"))
		}
		res := e.closeProposal(toks[0], id)
		// equal: 3 yes, 4 no → rejected. classes: 60·2/2 + 40·1/5 = 68% yes → passed.
		want := map[string]string{"equal": "rejected", "classes": "passed"}[weighting]
		if res["outcome"] != want {
			t.Errorf("%s weighting: outcome %v, want %s (%s)", weighting, res["outcome"], want, res["_raw"])
		}
		if weighting == "classes" {
			if got := res["support"]; got != 0.68 {
				t.Errorf("classes support = %v, want 0.68", got)
			}
			users := res["classes"].(map[string]any)["users"].(map[string]any)["counts"].(map[string]any)
			if users["yes"] != 1.0 || users["no"] != 4.0 {
				t.Errorf("users' own counts = %v, want yes 1, no 4", users)
			}
		}
	}
}

func TestQuorumNotMet(t *testing.T) {
	e := newEnv(t)
	toks := e.people("q", "workers", "users", "users")
	id := e.propose(toks[0], "q", map[string]any{"title": "Needs half", "method": "yesno", "quorum_percent": 51})
	e.vote(toks[0], id, yes("yes"))
	e.vote(toks[1], id, yes("abstain"))
	res := e.closeProposal(toks[0], id)
	if res["outcome"] != "not_quorate" {
		t.Errorf("2 of 4 voted with a 51%% quorum: outcome %v, want not_quorate", res["outcome"])
	}
	id = e.propose(toks[0], "q", map[string]any{"title": "Needs half", "method": "yesno", "quorum_percent": 50})
	e.vote(toks[0], id, yes("yes"))
	e.vote(toks[1], id, yes("abstain"))
	if res := e.closeProposal(toks[0], id); res["outcome"] != "passed" {
		t.Errorf("2 of 4 voted (one abstaining) with a 50%% quorum: outcome %v, want passed", res["outcome"])
	}
}

func TestConsentBlock(t *testing.T) {
	e := newEnv(t)
	toks := e.people("c", "workers", "users", "users")
	for _, allowed := range []int{0, 1} {
		id := e.propose(toks[0], "c", map[string]any{"title": "Rota", "method": "consent", "allowed_blocks": allowed})
		e.vote(toks[0], id, yes("agree"))
		e.vote(toks[1], id, yes("agree"))
		e.vote(toks[2], id, yes("agree"))
		e.vote(toks[3], id, yes("block"))
		res := e.closeProposal(toks[0], id)
		want := map[int]string{0: "rejected", 1: "passed"}[allowed]
		if res["outcome"] != want {
			t.Errorf("one block, %d allowed: outcome %v, want %s", allowed, res["outcome"], want)
		}
	}
}

func TestElectorateFrozenAtOpen(t *testing.T) {
	e := newEnv(t)
	toks := e.people("f", "users")
	id := e.propose(toks[0], "f", map[string]any{"title": "Before the newcomer", "method": "yesno"})
	late := e.signup("late")
	e.join(late, "f", e.invite(toks[0], "f", "users"))
	st, out := e.do("PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), late, yes("yes"))
	if st != 403 {
		t.Errorf("member who joined after open votes: %d, want 403: %s", st, out["_raw"])
	}
	// m1 leaves after open: she stays in the electorate of this proposal.
	e.must(204, "DELETE", "/api/v1/coops/f/members/me", toks[1], nil)
	res := e.closeProposal(toks[0], id)
	if got := res["participation"].(map[string]any)["members"]; got != 2.0 {
		t.Errorf("electorate after a join and a leave = %v, want the 2 frozen at open", got)
	}
}

func TestBallotChange(t *testing.T) {
	e := newEnv(t)
	toks := e.people("b", "users")
	id := e.propose(toks[0], "b", map[string]any{"title": "Change", "method": "yesno"})
	e.vote(toks[1], id, yes("no"))
	e.vote(toks[1], id, yes("yes"))
	mine := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), toks[1], nil)
	if b := mine["ballot"].(map[string]any); b["choice"] != "yes" {
		t.Errorf("ballot after change = %v, want yes", b)
	}
	res := e.closeProposal(toks[0], id)
	counts := res["classes"].(map[string]any)["users"].(map[string]any)["counts"].(map[string]any)
	if counts["yes"] != 1.0 || counts["no"] != 0.0 {
		t.Errorf("counts after a changed ballot = %v, want yes 1 no 0", counts)
	}
}

func TestClosedProposalRefusesBallots(t *testing.T) {
	e := newEnv(t)
	toks := e.people("x", "users")
	id := e.propose(toks[0], "x", map[string]any{"title": "Shut", "method": "yesno"})
	e.closeProposal(toks[0], id)
	st, out := e.do("PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), toks[1], yes("yes"))
	if st != 409 {
		t.Errorf("ballot on a closed proposal: %d, want 409: %s", st, out["_raw"])
	}
	// Past its closing time, before the scheduler ran: also refused.
	id = e.propose(toks[0], "x", map[string]any{"title": "Timed", "method": "yesno"})
	e.clock.advance(25 * time.Hour)
	if st, _ := e.do("PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), toks[1], yes("yes")); st != 409 {
		t.Errorf("ballot after closes_at: %d, want 409", st)
	}
	n, err := e.app.Govern.CloseDue(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("CloseDue = %d, %v; want 1 closed", n, err)
	}
	res := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/result", id), toks[0], nil)
	if res["state"] != "closed" {
		t.Errorf("scheduled close: state %v", res["state"])
	}
}

// TestSecretBallotNeverLeaks looks for what a secret voter chose in every
// place a member or operator can read: pages of the API, the audit log and
// every table of the database.
func TestSecretBallotNeverLeaks(t *testing.T) {
	e := newEnv(t)
	toks := e.people("s", "users", "users")
	id := e.propose(toks[0], "s", map[string]any{"title": "Secret", "method": "choice", "secret": true,
		"options": []map[string]any{{"key": "zebra", "label": "Z"}, {"key": "yak", "label": "Y"}}})
	e.vote(toks[1], id, yes("zebra"))
	e.vote(toks[2], id, yes("yak"))
	e.vote(toks[2], id, yes("zebra")) // a change must not leak either
	if out := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/ballots", id), toks[0], nil); len(out["ballots"].([]any)) != 0 {
		t.Errorf("who voted is shown before close: %s", out["_raw"])
	}
	res := e.closeProposal(toks[0], id)
	if res["winners"].([]any)[0] != "zebra" {
		t.Errorf("secret count: winners %v, want zebra", res["winners"])
	}
	voters := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/ballots", id), toks[0], nil)
	if n := len(voters["ballots"].([]any)); n != 2 {
		t.Errorf("after close %d voters shown, want 2", n)
	}
	places := []string{voters["_raw"].(string),
		e.must(200, "GET", "/api/v1/coops/s/audit?limit=1000", toks[0], nil)["_raw"].(string)}
	for _, path := range []string{"/api/v1/proposals/%d", "/api/v1/proposals/%d/result"} {
		places = append(places, e.must(200, "GET", fmt.Sprintf(path, id), toks[1], nil)["_raw"].(string))
	}
	if st, _ := e.do("GET", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), toks[1], nil); st != 404 {
		t.Errorf("own secret ballot read back after close: %d, want 404", st)
	}
	for i, p := range places {
		for _, h := range []string{"m1", "m2"} {
			// A voter's handle may appear (who voted), but never next to a choice.
			if idx := strings.Index(p, `"`+h+`"`); idx >= 0 && strings.Contains(p[max(0, idx-200):min(len(p), idx+200)], "zebra") {
				t.Errorf("place %d links %s to a choice: %s", i, h, p)
			}
		}
		if strings.Contains(p, `"ballot":{"choice"`) {
			t.Errorf("place %d shows a secret ballot: %s", i, p)
		}
	}
	// In the database: no row holds both a member and a secret choice, and
	// no voter tag survives the close.
	db := e.app.DB.Read()
	var withContent, tags int
	db.QueryRow(`SELECT COUNT(*) FROM ballots WHERE proposal_id = $1 AND content IS NOT NULL`, id).Scan(&withContent)
	db.QueryRow(`SELECT COUNT(*) FROM secret_ballots WHERE proposal_id = $1 AND voter_tag IS NOT NULL`, id).Scan(&tags)
	if withContent != 0 || tags != 0 {
		t.Errorf("after close: %d voter rows with content, %d voter tags; want 0 and 0", withContent, tags)
	}
	var payloads string
	rows, _ := db.Query(`SELECT actor, payload FROM audit_events WHERE action = 'ballot.cast'`)
	for rows.Next() {
		var a, p string
		rows.Scan(&a, &p)
		payloads += a + p
	}
	rows.Close()
	if strings.Contains(payloads, "zebra") || strings.Contains(payloads, "yak") || strings.Contains(payloads, "account:") {
		t.Errorf("audit events of secret ballots name a voter or a choice: %s", payloads)
	}
}

func TestOutsidersRefused(t *testing.T) {
	e := newEnv(t)
	toks := e.people("a", "users")
	id := e.propose(toks[0], "a", map[string]any{"title": "Ours", "method": "yesno"})
	other := e.signup("other")
	e.found(other, "b") // a member of another co-op
	stranger := e.signup("stranger")
	for _, tok := range []string{other, stranger} {
		for _, req := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/api/v1/proposals/%d", id)},
			{"GET", fmt.Sprintf("/api/v1/proposals/%d/result", id)},
			{"PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id)},
			{"POST", fmt.Sprintf("/api/v1/proposals/%d/close", id)},
			{"GET", "/api/v1/coops/a/members"},
			{"GET", "/api/v1/coops/a/audit"},
			{"POST", "/api/v1/coops/a/proposals"},
			{"POST", "/api/v1/coops/a/invitations"},
		} {
			var body any
			switch req.method {
			case "PUT":
				body = yes("yes")
			case "POST":
				switch {
				case strings.HasSuffix(req.path, "proposals"):
					body = map[string]any{"title": "x", "method": "yesno", "closes_at": e.clock.now().Add(time.Hour).Format(time.RFC3339)}
				case strings.HasSuffix(req.path, "invitations"):
					body = map[string]any{"class": "users"}
				}
			}
			if st, out := e.do(req.method, req.path, tok, body); st != 403 {
				t.Errorf("outsider %s %s = %d, want 403: %s", req.method, req.path, st, out["_raw"])
			}
		}
	}
	// A member who is not a secretary may not invite; a non-author may not close.
	if st, _ := e.do("POST", "/api/v1/coops/a/invitations", toks[1], map[string]any{"class": "users"}); st != 403 {
		t.Errorf("plain member invites: %d, want 403", st)
	}
	if st, _ := e.do("POST", fmt.Sprintf("/api/v1/proposals/%d/close", id), toks[1], nil); st != 403 {
		t.Errorf("plain member closes another's proposal: %d, want 403", st)
	}
	// Another co-op's invitation code does not admit to this one.
	code := e.invite(other, "b", "users")
	if st, _ := e.do("POST", "/api/v1/coops/a/members", stranger, map[string]any{"code": code}); st != 422 {
		t.Errorf("joining a with b's code: %d, want 422", st)
	}
	if st, _ := e.do("GET", "/api/v1/coops/a/members", "", nil); st != 401 {
		t.Errorf("no token: %d, want 401", st)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	toks := e.people("v", "users")
	id := e.propose(toks[0], "v", map[string]any{"title": "Valid", "method": "score",
		"options": []map[string]any{{"key": "a", "label": "A"}, {"key": "b", "label": "B"}}})
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"malformed JSON", "POST", "/api/v1/coops", `{"slug": `, 400, ""},
		{"wrong type", "POST", "/api/v1/coops", `{"slug": 5}`, 400, ""},
		{"unknown field", "POST", "/api/v1/coops", `{"slog": "x"}`, 400, ""},
		{"two values", "POST", "/api/v1/coops", `{} {}`, 400, ""},
		{"huge body", "POST", "/api/v1/coops", `{"name":"` + big + `"}`, 400, ""},
		{"no purpose", "POST", "/api/v1/coops", map[string]any{"slug": "np", "name": "N", "preset": "open"}, 422, "purpose"},
		{"weights not 100", "POST", "/api/v1/coops", map[string]any{"slug": "w", "name": "W", "purpose": "p", "preset": "somerset",
			"classes": []map[string]any{{"key": "a", "weight": 50}, {"key": "b", "weight": 30}}}, 422, "classes"},
		{"bad slug", "POST", "/api/v1/coops", map[string]any{"slug": "Bad Slug!", "name": "W", "purpose": "p", "preset": "open"}, 422, "slug"},
		{"taken slug", "POST", "/api/v1/coops", map[string]any{"slug": "v", "name": "W", "purpose": "p", "preset": "open"}, 409, ""},
		{"unknown preset", "POST", "/api/v1/coops", map[string]any{"slug": "u", "name": "W", "purpose": "p", "preset": "anarchy"}, 422, "preset"},
		{"unknown method", "POST", "/api/v1/coops/v/proposals", map[string]any{"title": "t", "method": "dice", "closes_at": "2030-01-01T00:00:00Z"}, 422, "method"},
		{"closes in the past", "POST", "/api/v1/coops/v/proposals", map[string]any{"title": "t", "method": "yesno", "closes_at": "2020-01-01T00:00:00Z"}, 422, "closes_at"},
		{"bad time", "POST", "/api/v1/coops/v/proposals", `{"title":"t","method":"yesno","closes_at":"tomorrow"}`, 400, ""},
		{"huge quorum", "POST", "/api/v1/coops/v/proposals", map[string]any{"title": "t", "method": "yesno", "quorum_percent": 1e18, "closes_at": "2026-12-01T00:00:00Z"}, 422, "quorum_percent"},
		{"score too high", "PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), map[string]any{"scores": map[string]int{"a": 6}}, 422, "scores"},
		{"unknown option", "PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), map[string]any{"scores": map[string]int{"zz": 1}}, 422, "scores"},
		{"wrong ballot kind", "PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), yes("a"), 422, "scores"},
		{"score overflow", "PUT", fmt.Sprintf("/api/v1/proposals/%d/ballot", id), `{"scores":{"a":99999999999999999999}}`, 400, ""},
		{"no such proposal", "GET", "/api/v1/proposals/999999", nil, 404, ""},
		{"not a number", "GET", "/api/v1/proposals/abc", nil, 404, ""},
		{"no such coop", "GET", "/api/v1/coops/nowhere", nil, 404, ""},
		{"no such route", "GET", "/api/v1/nothing", nil, 404, ""},
	}
	before := e.must(200, "GET", "/api/v1/coops/v/audit?limit=1000", toks[0], nil)["events"].([]any)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, out := e.do(tc.method, tc.path, toks[0], tc.body)
			if st != tc.status {
				t.Fatalf("%s %s = %d, want %d: %.300s", tc.method, tc.path, st, tc.status, out["_raw"])
			}
			er, ok := out["error"].(map[string]any)
			if !ok || er["code"] == "" || er["message"] == "" {
				t.Fatalf("error body = %.300s, want {error:{code,message}}", out["_raw"])
			}
			if tc.field != "" {
				if f, _ := er["fields"].(map[string]any); f[tc.field] == nil {
					t.Errorf("fields = %v, want one for %s", er["fields"], tc.field)
				}
			}
		})
	}
	after := e.must(200, "GET", "/api/v1/coops/v/audit?limit=1000", toks[0], nil)["events"].([]any)
	if len(after) != len(before) {
		t.Errorf("rejected requests wrote %d audit events", len(after)-len(before))
	}
}

func TestAuditTamperDetected(t *testing.T) {
	e := newEnv(t)
	toks := e.people("t", "users")
	id := e.propose(toks[0], "t", map[string]any{"title": "Audited", "method": "yesno"})
	e.vote(toks[1], id, yes("no"))
	e.closeProposal(toks[0], id)
	evs := e.must(200, "GET", "/api/v1/coops/t/audit", toks[0], nil)["events"].([]any)
	if len(evs) < 6 {
		t.Fatalf("audit log has %d events, want at least 6", len(evs))
	}
	seqs := map[string]bool{}
	for _, ev := range evs {
		seqs[ev.(map[string]any)["action"].(string)] = true
	}
	for _, a := range []string{"coop.founded", "member.joined", "invitation.created", "proposal.created", "proposal.opened", "ballot.cast", "proposal.closed"} {
		if !seqs[a] {
			t.Errorf("audit log lacks %s", a)
		}
	}
	if err := verifyErr(e); err != nil {
		t.Fatalf("untouched log: %v", err)
	}
	// Change what m1 voted, as someone with database access might.
	db := e.app.DB.Read()
	if _, err := db.Exec(`UPDATE audit_events SET payload = '{"ballot":{"choice":"yes"}}' WHERE action = 'ballot.cast'`); err != nil {
		t.Fatal(err)
	}
	err := verifyErr(e)
	if err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("after tampering: %v, want an altered event", err)
	}
}

func verifyErr(e *env) error {
	rep, err := auditVerify(e)
	if err != nil {
		return err
	}
	if rep != nil {
		return rep
	}
	return nil
}
