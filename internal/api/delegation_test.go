// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"opencoop/internal/record"
)

// delegateTo sets token's delegation; to "" delegates to nobody.
func (e *env) delegateTo(token, slug, to string, scope map[string]any) {
	e.t.Helper()
	body := map[string]any{"to": nil}
	if to != "" {
		body["to"] = to
	}
	for k, v := range scope {
		body[k] = v
	}
	e.must(200, "PUT", "/api/v1/coops/"+slug+"/delegations", token, body)
}

var coopScope = map[string]any{"scope": "coop"}

// trace returns where token's vote on id goes.
func (e *env) trace(token string, id int64) map[string]any {
	e.t.Helper()
	return e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/trace", id), token, nil)
}

// recountRecord fetches id's decision record, recounts it and wants the
// stored result back exactly.
func (e *env) recountRecord(token string, id int64) *record.Record {
	e.t.Helper()
	body := e.raw(fmt.Sprintf("/api/v1/proposals/%d/record", id), token)
	rec, err := record.Read(strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("record of %d: %v\n%s", id, err, body)
	}
	r, err := record.Count(rec)
	if err != nil {
		e.t.Fatalf("recount of %d: %v", id, err)
	}
	got, _ := json.Marshal(r)
	want, _ := json.Marshal(rec.Result)
	if string(got) != string(want) {
		e.t.Errorf("record of %d recounts to\n%s\nstored\n%s", id, got, want)
	}
	return rec
}

// TestDelegationChains is RULES.md 2.4 over HTTP: m3 → m2 → m1 → founder
// carries the founder's yes to three more members; m4 delegates to m5,
// who delegates back (a cycle: no vote); m6 is blocked on this proposal.
func TestDelegationChains(t *testing.T) {
	e := newEnv(t)
	toks := e.people("d", "workers", "workers", "workers", "workers", "workers", "workers")
	e.delegateTo(toks[1], "d", "founder", coopScope)
	e.delegateTo(toks[2], "d", "m1", coopScope)
	e.delegateTo(toks[3], "d", "m2", coopScope)
	e.delegateTo(toks[4], "d", "m5", coopScope)
	e.delegateTo(toks[5], "d", "m4", coopScope)
	e.delegateTo(toks[6], "d", "founder", coopScope)
	id := e.propose(toks[0], "d", map[string]any{"title": "Chains", "method": "yesno"})
	e.delegateTo(toks[6], "d", "", map[string]any{"scope": "proposal", "proposal": id})
	e.vote(toks[0], id, yes("yes"))

	tr := e.trace(toks[3], id)
	if tr["final"] != "founder" || fmt.Sprint(tr["via"]) != "[m2 m1]" || tr["ballot"].(map[string]any)["choice"] != "yes" {
		t.Errorf("m3's trace before close = %s, want via m2, m1 to founder's yes", tr["_raw"])
	}
	if tr := e.trace(toks[0], id); tr["direct"] != true || tr["carries"] != 3.0 {
		t.Errorf("founder's trace = %s, want direct, carrying 3", tr["_raw"])
	}
	if tr := e.trace(toks[4], id); tr["reason"] != "cycle" {
		t.Errorf("m4's trace = %s, want a cycle", tr["_raw"])
	}
	if tr := e.trace(toks[6], id); tr["reason"] != "blocked" {
		t.Errorf("m6's trace = %s, want blocked", tr["_raw"])
	}

	res := e.closeProposal(toks[0], id)
	if d := res["delegated"].(map[string]any)["yes"]; d != 3.0 {
		t.Errorf("delegated yes = %v, want 3 (%s)", d, res["_raw"])
	}
	if d := res["direct"].(map[string]any)["yes"]; d != 1.0 {
		t.Errorf("direct yes = %v, want 1", d)
	}
	if p := res["participation"].(map[string]any); p["voters"] != 4.0 {
		t.Errorf("participation = %v, want 4 voters (the founder and three delegators)", p)
	}
	// Revoking after close changes nothing in the record.
	e.must(204, "DELETE", "/api/v1/coops/d/delegations", toks[1], coopScope)
	rec := e.recountRecord(toks[2], id)
	if len(rec.Delegations) != 7 {
		t.Errorf("record keeps %d delegations, want the 7 in force at close (6 co-op, 1 proposal)", len(rec.Delegations))
	}
	if tr := e.trace(toks[3], id); tr["final"] != "founder" {
		t.Errorf("after close and a revocation, m3's trace = %s, want still the founder", tr["_raw"])
	}
}

// TestDelegationScopes: a topic delegation overrides a co-op one, for
// proposals of that topic only; a trustee who votes carries her
// delegators; a delegator who votes after her trustee keeps her own vote.
func TestDelegationScopes(t *testing.T) {
	e := newEnv(t)
	toks := e.people("s", "workers", "workers", "workers")
	e.delegateTo(toks[1], "s", "founder", coopScope)
	e.delegateTo(toks[1], "s", "m2", map[string]any{"scope": "topic", "topic": "budget"})
	e.delegateTo(toks[3], "s", "m2", coopScope)
	budget := e.propose(toks[0], "s", map[string]any{"title": "Budget", "method": "yesno", "topic": "budget"})
	other := e.propose(toks[0], "s", map[string]any{"title": "Other", "method": "yesno", "topic": "events"})
	for _, id := range []int64{budget, other} {
		e.vote(toks[0], id, yes("yes"))
		e.vote(toks[2], id, yes("no"))
	}
	// m3 votes directly after her trustee m2: her own ballot counts.
	e.vote(toks[3], budget, yes("yes"))

	b := e.closeProposal(toks[0], budget)
	// budget: founder yes, m1 → m2 no, m2 no, m3 yes (direct) → 2 yes, 2 no.
	if w := b["weighted"].(map[string]any); w["yes"] != 2.0 || w["no"] != 2.0 {
		t.Errorf("budget: weighted %v, want yes 2, no 2", w)
	}
	o := e.closeProposal(toks[0], other)
	// other: founder yes + m1 (co-op scope), m2 no + m3 → 2 yes, 2 no, but
	// split differently: m1's vote follows the founder.
	if d := o["delegated"].(map[string]any); d["yes"] != 1.0 || d["no"] != 1.0 {
		t.Errorf("other: delegated %v, want yes 1 (m1), no 1 (m3)", d)
	}
	if tr := e.trace(toks[1], budget); tr["final"] != "m2" || tr["scope"] != "topic" {
		t.Errorf("m1 on budget: %s, want the topic delegation to m2", tr["_raw"])
	}
	e.recountRecord(toks[0], budget)
	e.recountRecord(toks[0], other)
	topics := e.must(200, "GET", "/api/v1/coops/s/topics", toks[1], nil)
	if fmt.Sprint(topics["topics"]) != "[budget events]" {
		t.Errorf("topics = %v, want budget and events, created on first use", topics["topics"])
	}
	list := e.must(200, "GET", "/api/v1/coops/s/delegations", toks[2], nil)
	if n := len(list["to_me"].([]any)); n != 2 {
		t.Errorf("m2 sees %d delegations to her, want 2", n)
	}
}

// TestDelegationAcrossClasses: a worker's delegated vote still counts in
// the workers' class (class weights unchanged), and within_class_only
// refuses such a delegation.
func TestDelegationAcrossClasses(t *testing.T) {
	e := newEnv(t)
	// founder and m1 workers (60%), m2 and m3 users (40%).
	toks := e.people("x", "workers", "users", "users")
	e.delegateTo(toks[1], "x", "m2", coopScope)
	id := e.propose(toks[0], "x", map[string]any{"title": "Across", "method": "yesno", "weighting": "classes"})
	e.vote(toks[0], id, yes("no"))
	e.vote(toks[2], id, yes("yes"))
	e.vote(toks[3], id, yes("no"))
	res := e.closeProposal(toks[0], id)
	// workers: founder no, m1 (via m2) yes → 1/2 of 60; users: 1/2 of 40.
	// Had the delegation moved control, users would hold 2 of 3 ballots.
	classes := res["classes"].(map[string]any)
	if w := classes["workers"].(map[string]any)["counts"].(map[string]any); w["yes"] != 1.0 || w["no"] != 1.0 {
		t.Errorf("workers counted %v, want yes 1 (m1, delegated), no 1", w)
	}
	if u := classes["users"].(map[string]any)["counts"].(map[string]any); u["yes"] != 1.0 || u["no"] != 1.0 {
		t.Errorf("users counted %v, want yes 1, no 1", u)
	}
	if res["support"] != 0.5 {
		t.Errorf("support = %v, want 0.5 (30 + 20 of 100)", res["support"])
	}
	e.recountRecord(toks[0], id)

	e.must(200, "PATCH", "/api/v1/coops/x", toks[0], map[string]any{"delegation": map[string]any{"enabled": true, "within_class_only": true}})
	st, out := e.do("PUT", "/api/v1/coops/x/delegations", toks[1], map[string]any{"to": "m3", "scope": "coop"})
	if st != 422 || !strings.Contains(out["_raw"].(string), "within a class") {
		t.Errorf("cross-class delegation under within_class_only: %d %s, want 422", st, out["_raw"])
	}
	e.delegateTo(toks[3], "x", "m2", coopScope)
	// The cross-class delegation made before the rule gives no vote now.
	id2 := e.propose(toks[0], "x", map[string]any{"title": "Within", "method": "yesno"})
	e.vote(toks[2], id2, yes("yes"))
	if tr := e.trace(toks[1], id2); tr["reason"] != "outside" {
		t.Errorf("m1's old cross-class delegation: %s, want no vote (outside her class)", tr["_raw"])
	}
	if tr := e.trace(toks[3], id2); tr["final"] != "m2" {
		t.Errorf("m3 → m2 within users: %s", tr["_raw"])
	}
	e.closeProposal(toks[0], id2)
	if rec := e.recountRecord(toks[0], id2); !rec.WithinClassOnly {
		t.Errorf("the record lost within_class_only")
	}
}

// TestDelegationRules: the trustee cap, delegation off, secret ballots,
// and bad input.
func TestDelegationRules(t *testing.T) {
	e := newEnv(t)
	toks := e.people("r", "workers", "workers", "users")
	qToken := e.signup("qfounder")
	e.found(qToken, "q")
	// Only secretaries change settings.
	if st, _ := e.do("PATCH", "/api/v1/coops/r", toks[1], map[string]any{"delegation": map[string]any{"enabled": true, "cap": 1}}); st != 403 {
		t.Errorf("a member changing settings: %d, want 403", st)
	}
	e.must(200, "PATCH", "/api/v1/coops/r", toks[0], map[string]any{"delegation": map[string]any{"enabled": true, "cap": 1}})
	e.delegateTo(toks[1], "r", "founder", coopScope)
	// m1 may change her own delegation's scope target without counting twice.
	e.delegateTo(toks[1], "r", "founder", map[string]any{"scope": "topic", "topic": "t"})
	st, out := e.do("PUT", "/api/v1/coops/r/delegations", toks[2], map[string]any{"to": "founder", "scope": "coop"})
	if st != 409 || !strings.Contains(out["_raw"].(string), "founder carries 1") {
		t.Errorf("a second delegator over the cap: %d %s, want 409", st, out["_raw"])
	}
	secret := e.propose(toks[0], "r", map[string]any{"title": "Secret", "method": "yesno", "secret": true})
	bad := []struct {
		body any
		want int
	}{
		{`{"to": "founder", "scope": "coop"`, 400},
		{map[string]any{"to": 5, "scope": "coop"}, 400},
		{map[string]any{"to": "founder", "scope": "everything"}, 422},
		{map[string]any{"to": "m2", "scope": "topic"}, 422},
		{map[string]any{"to": "m2", "scope": "topic", "topic": "Not A Slug"}, 422},
		{map[string]any{"to": "m1", "scope": "coop"}, 422}, // herself
		{map[string]any{"to": "nobody-here", "scope": "coop"}, 422},
		{map[string]any{"to": "m2", "scope": "proposal", "proposal": secret}, 422},
		{map[string]any{"to": "m2", "scope": "proposal", "proposal": 999999}, 404},
		{map[string]any{"to": "m2", "scope": "coop", "extra": true}, 400},
	}
	for _, b := range bad {
		before := e.must(200, "GET", "/api/v1/coops/r/delegations", toks[1], nil)["_raw"]
		if st, out := e.do("PUT", "/api/v1/coops/r/delegations", toks[1], b.body); st != b.want {
			t.Errorf("PUT %v: %d %s, want %d", b.body, st, out["_raw"], b.want)
		}
		if after := e.must(200, "GET", "/api/v1/coops/r/delegations", toks[1], nil)["_raw"]; after != before {
			t.Errorf("a refused delegation changed the list:\n%s\n%s", before, after)
		}
	}
	if st, _ := e.do("DELETE", "/api/v1/coops/r/delegations", toks[2], coopScope); st != 404 {
		t.Errorf("revoking a delegation she does not have: %d, want 404", st)
	}
	// Another co-op's member cannot delegate here, nor see the list.
	other := e.signup("outsider")
	if st, _ := e.do("PUT", "/api/v1/coops/r/delegations", other, map[string]any{"to": "founder", "scope": "coop"}); st != 403 {
		t.Errorf("an outsider delegating: %d, want 403", st)
	}
	// Another co-op's proposal id is not found here.
	qid := e.propose(qToken, "q", map[string]any{"title": "Elsewhere", "method": "yesno"})
	if st, _ := e.do("PUT", "/api/v1/coops/r/delegations", toks[1], map[string]any{"to": "m2", "scope": "proposal", "proposal": qid}); st != 404 {
		t.Errorf("delegating on another co-op's proposal: %d, want 404", st)
	}
	e.must(200, "PATCH", "/api/v1/coops/r", toks[0], map[string]any{"delegation": map[string]any{"enabled": false}})
	if st, _ := e.do("PUT", "/api/v1/coops/r/delegations", toks[3], map[string]any{"to": "m1", "scope": "coop"}); st != 403 {
		t.Errorf("delegating with delegation off: %d, want 403", st)
	}
	// With delegation off, standing delegations give no vote.
	id := e.propose(toks[0], "r", map[string]any{"title": "Off", "method": "yesno"})
	e.vote(toks[0], id, yes("yes"))
	res := e.closeProposal(toks[0], id)
	if p := res["participation"].(map[string]any); p["voters"] != 1.0 {
		t.Errorf("with delegation off, %v voters, want 1", p["voters"])
	}
	e.recountRecord(toks[0], id)
}
