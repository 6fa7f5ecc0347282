// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// postings returns an answer's postings as "credit amount" lines, each
// checked to come from external or the users' pool.
func postings(t *testing.T, out map[string]any) []string {
	t.Helper()
	var lines []string
	list, _ := out["postings"].([]any)
	for _, p := range list {
		p := p.(map[string]any)
		lines = append(lines, p["credit"].(string)+" "+jsonNumber(p["amount"]))
	}
	return lines
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// booksBalance fails the test unless the co-op's ledger check is clean,
// and returns its balances by owner.
func booksBalance(t *testing.T, e *env, slug string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	c, err := e.app.Coops.CoopBySlug(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.app.Ledger.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("ledger check of %s: %+v, %v", slug, rep, err)
	}
	accts, err := e.app.Ledger.Accounts(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, a := range accts {
		out[a.Owner] = a.Balance
	}
	return out
}

// rows counts what a failed request must not have written.
func rows(t *testing.T, e *env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"transfers", "pool_incomes", "pool_rules", "pool_periods", "pool_suspensions", "audit_events"} {
		var n int
		if err := e.app.DB.Read().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestPoolingEnspiral(t *testing.T) {
	e := newEnv(t)
	toks := e.people("p", "workers", "users")
	f, m1, m2 := toks[0], toks[1], toks[2]
	const base = "/api/v1/coops/p"

	out := e.must(200, "GET", base+"/pooling", m1, nil)
	if out["rule"] != nil || !strings.Contains(out["_raw"].(string), "no pooling rule yet") {
		t.Errorf("pooling before a rule = %s", out["_raw"])
	}
	invoice := map[string]any{"id": "inv-1", "member": "m1", "amount": 1000, "kind": "invoice", "project": "Loomio"}
	e.must(409, "POST", base+"/income", f, invoice)
	e.must(403, "PUT", base+"/pooling", m1, map[string]any{"preset": "enspiral"})

	rule := e.must(200, "PUT", base+"/pooling", f, map[string]any{"preset": "enspiral"})
	if diff := cmp.Diff(map[string]any{"collective_bp": 2000.0, "foundation_bp": 2500.0, "venture_bp": 500.0}, rule["params"]); diff != "" {
		t.Errorf("enspiral defaults (-want +got):\n%s", diff)
	}
	if rule["set_by"] != "founder" || rule["effective_at"] != "2026-11-22T12:00:00Z" {
		t.Errorf("rule = %s", rule["_raw"])
	}
	ov := e.must(200, "GET", base+"/pooling", m2, nil)
	raw := ov["_raw"].(string)
	for _, want := range []string{
		"Of a member's invoice (kind invoice): 80% to the member and 20% to the collective (of that, 25% to the foundation (coop:foundation) and 75% to the pool (coop:pool)).",
		"An invoice of 1,000.00 EUR → the member 800.00, the collective › the foundation 50.00, the collective › the pool 150.00",
		"Of venture revenue (kind venture_revenue): 95% to the member and 5% to the pool (coop:pool).",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("GET pooling lacks %q:\n%s", want, raw)
		}
	}

	// RULES.md 3.2: invoice 1000 → member 800, foundation 50, pool 150.
	got := e.must(201, "POST", base+"/income", f, invoice)
	want := []string{"member:m1 800", "coop:foundation 50", "coop:pool 150"}
	if diff := cmp.Diff(want, postings(t, got)); diff != "" {
		t.Errorf("invoice postings (-want +got):\n%s", diff)
	}
	inc := got["income"].(map[string]any)
	if inc["preset"] != "enspiral" || inc["recorded_by"] != "founder" || inc["project"] != "Loomio" {
		t.Errorf("income = %v", inc)
	}
	for i, p := range got["postings"].([]any) {
		p := p.(map[string]any)
		if p["debit"] != "external" || p["id"] != "inc:inv-1:"+string(rune('1'+i)) {
			t.Errorf("posting %d = %v", i, p)
		}
	}
	// A retry is the original, even after the rule changed; other content
	// under the id is a conflict.
	e.must(200, "PUT", base+"/pooling", f, map[string]any{"preset": "enspiral", "params": map[string]any{"collective_bp": 3000}})
	again := e.must(200, "POST", base+"/income", f, invoice)
	if again["_raw"] != got["_raw"] {
		t.Errorf("replay = %s\nwant %s", again["_raw"], got["_raw"])
	}
	changed := map[string]any{"id": "inv-1", "member": "m1", "amount": 1001, "kind": "invoice", "project": "Loomio"}
	e.must(409, "POST", base+"/income", f, changed)
	// 30% now: 10000 → member 7000, foundation 750, pool 2250.
	got = e.must(201, "POST", base+"/income", f, map[string]any{"id": "inv-2", "member": "m2", "amount": 10000, "kind": "invoice"})
	if diff := cmp.Diff([]string{"member:m2 7000", "coop:foundation 750", "coop:pool 2250"}, postings(t, got)); diff != "" {
		t.Errorf("invoice under 30%% (-want +got):\n%s", diff)
	}
	got = e.must(201, "POST", base+"/income", f, map[string]any{"id": "v-1", "member": "m2", "amount": 1000, "kind": "venture_revenue"})
	if diff := cmp.Diff([]string{"member:m2 950", "coop:pool 50"}, postings(t, got)); diff != "" {
		t.Errorf("venture revenue (-want +got):\n%s", diff)
	}

	// Refusals write nothing.
	before := rows(t, e)
	for _, tc := range []struct {
		token  string
		body   map[string]any
		status int
		field  string
	}{
		{m1, map[string]any{"id": "x-1", "member": "m1", "amount": 100, "kind": "invoice"}, 403, ""},
		{f, map[string]any{"id": "x-2", "member": "stranger", "amount": 100, "kind": "invoice"}, 422, "member"},
		{f, map[string]any{"id": "x-3", "amount": 100, "kind": "invoice"}, 422, "member"},
		{f, map[string]any{"id": "x-4", "member": "m1", "amount": 100, "kind": "sale"}, 422, "kind"},
		{f, map[string]any{"id": "x 5", "member": "m1", "amount": 0, "kind": "invoice"}, 422, "amount"},
		{f, map[string]any{"id": "x-6", "member": "m1", "amount": 100, "kind": "invoice", "unit": "eur"}, 422, "unit"},
	} {
		st, out := e.do("POST", base+"/income", tc.token, tc.body)
		if st != tc.status {
			t.Errorf("income %v = %d, want %d: %s", tc.body, st, tc.status, out["_raw"])
			continue
		}
		if tc.field != "" {
			fields, _ := out["error"].(map[string]any)["fields"].(map[string]any)
			if _, ok := fields[tc.field]; !ok {
				t.Errorf("income %v: fields %v, want %s", tc.body, fields, tc.field)
			}
		}
	}
	for _, body := range []map[string]any{
		{"preset": "bogus"},
		{"preset": "enspiral", "params": map[string]any{"collective_bp": 10001}},
		{"preset": "enspiral", "params": map[string]any{"pool_bp": 10}},
		{"preset": "custom", "params": map[string]any{"tree": map[string]any{"split": []any{
			map[string]any{"bp": 5000, "to": "member"}, map[string]any{"bp": 4000, "to": "coop:pool"}}}}},
		{"preset": "custom", "params": map[string]any{"tree": map[string]any{"to": "member:stranger"}}},
		{"preset": "solidarity_levy", "params": map[string]any{"projects": []any{map[string]any{"member": "stranger", "area_m2": 10, "start": "2026-01"}}}},
	} {
		e.must(422, "PUT", base+"/pooling", f, body)
	}
	if after := rows(t, e); !cmp.Equal(before, after) {
		t.Errorf("refused requests wrote rows: before %v, after %v", before, after)
	}

	// Members see the splits; others do not; another co-op's id is 404.
	list := e.must(200, "GET", base+"/income", m2, nil)
	if n := len(list["incomes"].([]any)); n != 3 {
		t.Errorf("incomes = %d, want 3", n)
	}
	one := e.must(200, "GET", base+"/income/inv-1", m1, nil)
	if diff := cmp.Diff(want, postings(t, one)); diff != "" {
		t.Errorf("GET income (-want +got):\n%s", diff)
	}
	other := e.signup("other")
	e.found(other, "q")
	e.must(403, "GET", base+"/income/inv-1", other, nil)
	e.must(403, "GET", base+"/pooling", other, nil)
	e.must(404, "GET", "/api/v1/coops/q/income/inv-1", other, nil)

	bal := booksBalance(t, e, "p")
	for owner, want := range map[string]int64{"member:m1": 800, "member:m2": 7950, "coop:foundation": 800, "coop:pool": 2450, "external": -12000} {
		if bal[owner] != want {
			t.Errorf("balance of %s = %d, want %d", owner, bal[owner], want)
		}
	}
}

func TestPoolingMarketplace(t *testing.T) {
	e := newEnv(t)
	toks := e.people("m", "users", "users")
	f, m1 := toks[0], toks[1]
	const base = "/api/v1/coops/m"
	e.must(200, "PUT", base+"/pooling", f, map[string]any{"preset": "marketplace", "params": map[string]any{"fee_bp": 500}})
	sales := []struct {
		id, seller, buyer string
		price             int64
		want              []string
	}{
		// fee 50: common 25, users' pool 25.
		{"s-1", "m1", "m2", 1000, []string{"member:m1 950", "coop:common 25", "coop:users_pool 25"}},
		// fee 52.5 → 52 (half to even).
		{"s-2", "m2", "founder", 1050, []string{"member:m2 998", "coop:common 26", "coop:users_pool 26"}},
		// fee 25.5 → 26; the seller's buyer is not recorded.
		{"s-3", "m1", "", 510, []string{"member:m1 484", "coop:common 13", "coop:users_pool 13"}},
	}
	for _, s := range sales {
		body := map[string]any{"id": s.id, "member": s.seller, "amount": s.price, "kind": "sale"}
		if s.buyer != "" {
			body["buyer"] = s.buyer
		}
		got := e.must(201, "POST", base+"/income", f, body)
		if diff := cmp.Diff(s.want, postings(t, got)); diff != "" {
			t.Errorf("sale %s (-want +got):\n%s", s.id, diff)
		}
	}
	e.must(422, "POST", base+"/income", f, map[string]any{"id": "s-4", "member": "m1", "buyer": "m1", "amount": 10, "kind": "sale"})

	// November has not ended: nothing is shared yet.
	out := e.must(200, "POST", base+"/pooling/run", f, map[string]any{"period": "2026-11", "job": "marketplace"})
	run := out["runs"].([]any)[0].(map[string]any)
	if run["status"] != "skipped" || !strings.Contains(run["reason"].(string), "ends on 1 Dec 2026") {
		t.Errorf("run in November = %s", out["_raw"])
	}
	e.must(403, "POST", base+"/pooling/run", m1, map[string]any{"period": "2026-11"})
	for _, bad := range []map[string]any{{"period": "2026-13"}, {"period": "Nov"}, {"period": "2027-01"}, {"period": "2026-11", "job": "rent"}} {
		e.must(422, "POST", base+"/pooling/run", f, bad)
	}

	e.clock.advance(9 * 24 * time.Hour) // 1 December
	out = e.must(201, "POST", base+"/pooling/run", f, map[string]any{"period": "2026-11"})
	runs := out["runs"].([]any)
	mkt, levy := runs[0].(map[string]any), runs[1].(map[string]any)
	if mkt["status"] != "created" || levy["status"] != "skipped" {
		t.Fatalf("runs = %s", out["_raw"])
	}
	// The users' pool holds 25 + 26 + 13 = 64. Traded: founder 1050,
	// m1 1000 + 510 = 1510, m2 1000 + 1050 = 2050; of 4610. Exact shares
	// 14.577, 20.963, 28.459 → 14, 20, 28 and the 2 left to m1 and the founder.
	if diff := cmp.Diff([]string{"member:founder 15", "member:m1 21", "member:m2 28"}, postings(t, mkt)); diff != "" {
		t.Errorf("users' pool shares (-want +got):\n%s", diff)
	}
	if got := jsonNumber(mkt["totals"]); got != `{"EUR":64}` {
		t.Errorf("totals = %s", got)
	}
	again := e.must(200, "POST", base+"/pooling/run", f, map[string]any{"period": "2026-11", "job": "marketplace"})
	if run := again["runs"].([]any)[0].(map[string]any); run["status"] != "done" || jsonNumber(run["postings"]) != jsonNumber(mkt["postings"]) {
		t.Errorf("second run = %s", again["_raw"])
	}
	if n, err := e.app.Pool.RunDue(context.Background()); err != nil || n != 0 {
		t.Errorf("RunDue after the run = %d, %v; want 0", n, err)
	}
	periods := e.must(200, "GET", base+"/pooling/periods", m1, nil)
	if n := len(periods["periods"].([]any)); n != 1 {
		t.Errorf("periods = %s", periods["_raw"])
	}
	bal := booksBalance(t, e, "m")
	for owner, want := range map[string]int64{"coop:users_pool": 0, "coop:common": 64, "member:m1": 950 + 484 + 21,
		"member:m2": 998 + 28, "member:founder": 15, "external": -2560} {
		if bal[owner] != want {
			t.Errorf("balance of %s = %d, want %d", owner, bal[owner], want)
		}
	}
}

func TestPoolingLevy(t *testing.T) {
	e := newEnv(t)
	toks := e.people("h", "workers", "workers")
	f, m1, m2 := toks[0], toks[1], toks[2]
	const base = "/api/v1/coops/h"
	e.must(200, "PUT", base+"/pooling", f, map[string]any{"preset": "solidarity_levy", "params": map[string]any{
		"projects": []any{
			map[string]any{"member": "m1", "name": "Rosa", "area_m2": 450, "base_rent": 650, "start": "2026-01"},
			map[string]any{"member": "m2", "area_m2": "100.5", "base_rent": 500, "start": "2027-01"}}}})
	ov := e.must(200, "GET", base+"/pooling", m2, nil)
	for _, want := range []string{
		"The rate starts at 10 minor units per m² a month (0.10 EUR) and rises each year of a project by 0.5% of the project's base rent per m² of the year before.",
		"Rosa (m1) in year 1 (from 2026-01): 450 m² × 10 minor units = 45.00 EUR a month",
		"Rosa (m1) in year 2 (from 2027-01): 450 m² × 13.25 minor units = 59.62 EUR a month",
	} {
		if !strings.Contains(ov["_raw"].(string), want) {
			t.Errorf("GET pooling lacks %q:\n%s", want, ov["_raw"])
		}
	}
	e.must(422, "POST", base+"/income", f, map[string]any{"id": "r-1", "member": "m1", "amount": 100, "kind": "rent"})

	// The scheduler charges November (the rule was set in it); October had
	// no levy rule.
	if n, err := e.app.Pool.RunDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v; want 1", n, err)
	}
	if n, err := e.app.Pool.RunDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("RunDue again = %d, %v; want 0", n, err)
	}
	out := e.must(200, "POST", base+"/pooling/run", f, map[string]any{"period": "2026-11", "job": "levy"})
	nov := out["runs"].([]any)[0].(map[string]any)
	if nov["status"] != "done" || nov["ran_by"] != "system" {
		t.Errorf("November's levy = %s", out["_raw"])
	}
	if diff := cmp.Diff([]string{"coop:pool 4500"}, postings(t, nov)); diff != "" {
		t.Errorf("November's levy (-want +got):\n%s", diff)
	}
	if line := nov["lines"].([]any)[1].(map[string]any); line["note"] != "the levy starts in 2027-01" || line["amount"] != 0.0 {
		t.Errorf("m2's November line = %v", line)
	}

	// A passed proposal suspends m1's levy from December; another resumes
	// it from January.
	decide := func(title string, yes bool) int64 {
		id := e.propose(f, "h", map[string]any{"title": title, "method": "yesno"})
		choice := "no"
		if yes {
			choice = "yes"
		}
		for _, tok := range toks {
			e.vote(tok, id, map[string]any{"choice": choice})
		}
		e.closeProposal(f, id)
		return id
	}
	suspend := decide("Suspend Rosa's levy for December", true)
	rejected := decide("Suspend it for ever", false)
	other := e.signup("other")
	e.found(other, "q")
	elsewhere := e.propose(other, "q", map[string]any{"title": "Elsewhere", "method": "yesno"})
	e.must(403, "POST", base+"/pooling/suspensions", m2, map[string]any{"project": "m1", "from": "2026-12", "proposal": suspend})
	e.must(404, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "m1", "from": "2026-12", "proposal": elsewhere})
	e.must(422, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "m1", "from": "2026-12", "proposal": rejected})
	e.must(422, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "founder", "from": "2026-12", "proposal": suspend})
	e.must(422, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "m1", "from": "December", "proposal": suspend})
	s := e.must(201, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "m1", "from": "2026-12", "proposal": suspend, "note": "roof repairs"})
	if s["action"] != "suspend" || s["by"] != "founder" {
		t.Errorf("suspension = %s", s["_raw"])
	}
	resume := decide("Resume Rosa's levy", true)
	e.must(201, "POST", base+"/pooling/suspensions", f, map[string]any{"project": "m1", "from": "2027-01", "proposal": resume, "resume": true})

	e.clock.advance(10 * 24 * time.Hour) // 2 December
	out = e.must(201, "POST", base+"/pooling/run", f, map[string]any{"period": "2026-12", "job": "levy"})
	dec := out["runs"].([]any)[0].(map[string]any)
	if len(postings(t, dec)) != 0 || !strings.Contains(jsonNumber(dec["lines"]), "suspended from 2026-12 by proposal") {
		t.Errorf("December's levy = %s", out["_raw"])
	}
	e.clock.advance(31 * 24 * time.Hour) // 2 January 2027: year 2 of m1, year 1 of m2
	if n, err := e.app.Pool.RunDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunDue in January = %d, %v; want 1", n, err)
	}
	out = e.must(200, "POST", base+"/pooling/run", f, map[string]any{"period": "2027-01", "job": "levy"})
	// m1: 450 × 13.25 = 5962.5 → 5962; m2: 100.5 × 10 = 1005.
	if diff := cmp.Diff([]string{"coop:pool 5962", "coop:pool 1005"}, postings(t, out["runs"].([]any)[0].(map[string]any))); diff != "" {
		t.Errorf("January's levy (-want +got):\n%s", diff)
	}
	ov = e.must(200, "GET", base+"/pooling", m1, nil)
	if n := len(ov["suspensions"].([]any)); n != 2 {
		t.Errorf("suspensions = %d, want 2", n)
	}
	bal := booksBalance(t, e, "h")
	if bal["coop:pool"] != 4500+5962+1005 {
		t.Errorf("pool = %d, want %d", bal["coop:pool"], 4500+5962+1005)
	}
}
