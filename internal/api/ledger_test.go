// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// books is the state of a co-op's books as the API shows it: every
// account and every journal entry, to compare before and after.
func (e *env) books(token, slug string) string {
	e.t.Helper()
	accts := e.must(200, "GET", "/api/v1/coops/"+slug+"/accounts", token, nil)["_raw"].(string)
	journal := e.must(200, "GET", "/api/v1/coops/"+slug+"/transfers?limit=1000", token, nil)["_raw"].(string)
	return accts + journal
}

// balance returns owner's balance and available amount in unit.
func (e *env) balance(token, slug, owner, unit string) (int64, int64) {
	e.t.Helper()
	out := e.must(200, "GET", "/api/v1/coops/"+slug+"/accounts?owner="+owner, token, nil)
	for _, a := range out["accounts"].([]any) {
		a := a.(map[string]any)
		if a["unit"] == unit {
			return int64(a["balance"].(float64)), int64(a["available"].(float64))
		}
	}
	return 0, 0
}

func (e *env) checkBooks(token, slug string) {
	e.t.Helper()
	out := e.must(200, "GET", "/api/v1/coops/"+slug+"/ledger/check", token, nil)
	if out["ok"] != true {
		e.t.Fatalf("ledger check: %s", out["_raw"])
	}
}

func tr(id, debit, credit string, amount any, extra ...any) map[string]any {
	m := map[string]any{"id": id, "debit": debit, "credit": credit, "amount": amount, "kind": "payment"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func TestTransfersOverHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.people("mill", "workers", "users") // founder (treasurer), m1, m2
	ada, m1, m2 := toks[0], toks[1], toks[2]
	const base = "/api/v1/coops/mill/transfers"

	in := tr("in-1", "external", "member:m1", 5000, "kind", "income", "ref", "invoice 17")
	out := e.must(201, "POST", base, ada, in)
	if out["amount"] != 5000.0 || out["unit"] != "EUR" || out["action"] != "transfer" || out["ref"] != "invoice 17" {
		t.Errorf("created transfer = %s", out["_raw"])
	}
	// A replay answers 200 with the original; other content under the id is 409.
	if again := e.must(200, "POST", base, ada, in); again["_raw"] != out["_raw"] {
		t.Errorf("replay = %s, want the original %s", again["_raw"], out["_raw"])
	}
	e.must(409, "POST", base, ada, tr("in-1", "external", "member:m1", 5001, "kind", "income", "ref", "invoice 17"))
	if got := e.must(200, "GET", base+"/in-1", m2, nil); got["amount"] != 5000.0 {
		t.Errorf("GET transfer = %s", got["_raw"])
	}
	e.must(404, "GET", base+"/nope", m2, nil)

	// m1 reserves 3000 for m2, posts 2500 of it: 500 comes back.
	p := e.must(201, "POST", base, m1, tr("r1", "member:m1", "member:m2", 3000, "pending", true))
	if p["state"] != "pending" || p["action"] != "pending" {
		t.Errorf("pending transfer = %s", p["_raw"])
	}
	if bal, avail := e.balance(m1, "mill", "member:m1", "EUR"); bal != 5000 || avail != 2000 {
		t.Errorf("m1 after reserving: balance %d available %d, want 5000 and 2000", bal, avail)
	}
	e.must(409, "POST", base, m1, tr("x1", "member:m1", "member:m2", 2001)) // over what is available
	e.must(403, "POST", base+"/r1/post", m2, map[string]any{"amount": 10})  // not hers to post
	e.must(422, "POST", base+"/r1/post", m1, map[string]any{"amount": 3001})
	e.must(400, "POST", base+"/r1/post", m1, map[string]any{"amount": 2.5})
	post := e.must(201, "POST", base+"/r1/post", m1, map[string]any{"amount": 2500})
	if post["id"] != "r1:post" || post["pending_id"] != "r1" || post["amount"] != 2500.0 {
		t.Errorf("post = %s", post["_raw"])
	}
	e.must(200, "POST", base+"/r1/post", m1, map[string]any{"amount": 2500}) // replay
	e.must(409, "POST", base+"/r1/void", m1, nil)                            // resolved once
	if got := e.must(200, "GET", base+"/r1", m1, nil); got["state"] != "posted" {
		t.Errorf("r1 after posting: state %v", got["state"])
	}
	if bal, avail := e.balance(m1, "mill", "member:m1", "EUR"); bal != 2500 || avail != 2500 {
		t.Errorf("m1 after posting 2500: balance %d available %d", bal, avail)
	}
	// Void, with no body at all.
	e.must(201, "POST", base, m1, tr("r2", "member:m1", "coop:pool", 100, "pending", true, "timeout", 60))
	e.must(201, "POST", base+"/r2/void", m1, nil)
	e.must(422, "POST", base+"/in-1/void", ada, nil) // not pending

	// Reversals: treasurers only, once.
	e.must(403, "POST", base+"/r1:post/reverse", m2, map[string]any{"id": "fix-1"})
	rev := e.must(201, "POST", base+"/r1:post/reverse", ada, map[string]any{"id": "fix-1", "kind": "correction"})
	if rev["reverses"] != "r1:post" || rev["debit"] != "member:m2" || rev["credit"] != "member:m1" || rev["kind"] != "correction" {
		t.Errorf("reversal = %s", rev["_raw"])
	}
	e.must(200, "POST", base+"/r1:post/reverse", ada, map[string]any{"id": "fix-1", "kind": "correction"})
	e.must(409, "POST", base+"/r1:post/reverse", ada, map[string]any{"id": "fix-2"})
	e.must(422, "POST", base+"/r1/reverse", ada, map[string]any{"id": "fix-3"}) // a pending one is voided, not reversed
	if bal, _ := e.balance(m1, "mill", "member:m1", "EUR"); bal != 5000 {
		t.Errorf("m1 after the reversal: %d, want 5000", bal)
	}

	// Permissions: a member moves only her own money.
	e.must(403, "POST", base, m2, tr("g1", "member:m1", "member:m2", 1))
	e.must(403, "POST", base, m2, tr("g2", "coop:pool", "member:m2", 1))
	e.must(403, "POST", base, m2, tr("g3", "external", "member:m2", 1))
	e.must(403, "POST", base, ada, tr("g4", "member:m1", "member:founder", 1)) // treasurers too
	e.must(403, "POST", base, ada, tr("g5", "coop:pool", "bucket:1", 1))       // buckets move by their rules
	e.must(403, "POST", base, m1, tr("g6", "member:m1", "offer:1", 1))

	// The journal: newest first, filtered, paged, and as CSV.
	list := e.must(200, "GET", base+"?owner=member:m2&limit=2", m2, nil)
	entries := list["transfers"].([]any)
	if len(entries) != 2 || entries[0].(map[string]any)["id"] != "fix-1" || list["next_before"] == nil {
		t.Errorf("m2's first page = %s", list["_raw"])
	}
	older := e.must(200, "GET", fmt.Sprintf("%s?owner=member:m2&limit=2&before=%.0f", base, list["next_before"]), m2, nil)
	if n := len(older["transfers"].([]any)); n != 1 {
		t.Errorf("m2's second page has %d entries, want 1 (r1): %s", n, older["_raw"])
	}
	if got := e.must(200, "GET", base+"?kind=income", m2, nil)["transfers"].([]any); len(got) != 1 {
		t.Errorf("kind=income: %d entries", len(got))
	}
	if got := e.must(200, "GET", base+"?from=2026-11-23", m2, nil)["transfers"].([]any); len(got) != 0 {
		t.Errorf("from tomorrow: %d entries", len(got))
	}
	if got := e.must(200, "GET", base+"?to=2026-11-22", m2, nil)["transfers"].([]any); len(got) != 6 {
		t.Errorf("to today: %d entries, want 6", len(got))
	}
	e.must(400, "GET", base+"?from=yesterday", m2, nil)
	e.must(400, "GET", base+"?limit=0", m2, nil)
	e.must(400, "GET", base+"?owner=nobody", m2, nil)
	e.must(400, "GET", base+"?format=xml", m2, nil)
	req, _ := http.NewRequest("GET", e.srv.URL+base+"?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+m2)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %v %v", resp.StatusCode, resp.Header, err)
	}
	if len(rows) != 7 || rows[0][5] != "amount" || rows[6][1] != "in-1" || rows[6][5] != "5000" || rows[6][8] != "invoice 17" {
		t.Errorf("CSV rows = %q", rows)
	}
	e.checkBooks(m2, "mill")
}

// TestBadTransfersWriteNothing sends every kind of bad request and checks
// each gets a clear 4xx while the books stay exactly as they were.
func TestBadTransfersWriteNothing(t *testing.T) {
	e := newEnv(t)
	toks := e.people("mill", "workers") // founder (treasurer), m1
	ada, m1 := toks[0], toks[1]
	other := e.signup("olga")
	e.found(other, "farm")
	e.must(201, "POST", "/api/v1/coops/farm/transfers", other, tr("f1", "external", "member:olga", 100))
	e.must(201, "POST", "/api/v1/coops/mill/transfers", ada, tr("in", "external", "member:m1", 1000))
	stranger := e.signup("stranger")
	before := e.books(ada, "mill")
	good := tr("ok-1", "external", "member:m1", 10)
	for _, tc := range []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		says   string
	}{
		{"zero", ada, "", tr("a", "external", "member:m1", 0), 422, "amount"},
		{"negative", ada, "", tr("a", "external", "member:m1", -5), 422, "amount"},
		{"too large", ada, "", tr("a", "external", "member:m1", int64(1)<<60), 422, "amount"},
		{"int64 overflow", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":9223372036854775808,"kind":"x"}`, 422, "whole number"},
		{"1e30", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":1e30,"kind":"x"}`, 400, "whole number"},
		{"fraction", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":1.5,"kind":"x"}`, 400, "no fractions"},
		{"string", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":"10","kind":"x"}`, 400, "whole number"},
		{"bool", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":true,"kind":"x"}`, 400, "whole number"},
		{"malformed", ada, "", `{"id":"a",`, 400, "JSON"},
		{"unknown field", ada, "", `{"id":"a","debit":"external","credit":"member:m1","amount":1,"kind":"x","memo":"hi"}`, 400, "memo"},
		{"unknown unit", ada, "", tr("a", "external", "member:m1", 5, "unit", "eur"), 422, "unit"},
		{"no id", ada, "", tr("", "external", "member:m1", 5), 422, "id"},
		{"reserved id", ada, "", tr("x:post", "external", "member:m1", 5), 422, ":post"},
		{"same account", ada, "", tr("a", "external", "external", 5), 422, "different"},
		{"bad kind", ada, "", tr("a", "external", "member:m1", 5, "kind", "Pay!"), 422, "kind"},
		{"bad timeout", ada, "", tr("a", "external", "member:m1", 5, "timeout", 10), 422, "timeout"},
		{"other co-op's member", ada, "", tr("a", "external", "member:olga", 5), 422, "not a member"},
		{"no such member", ada, "", tr("a", "external", "member:nobody", 5), 422, "not a member"},
		{"overdraft", m1, "", tr("a", "member:m1", "coop:pool", 1001), 409, "not enough"},
		{"member moves the pool", m1, "", tr("a", "coop:pool", "member:m1", 5), 403, "treasurer"},
		{"stranger", stranger, "", tr("a", "member:stranger", "member:m1", 5), 403, "members"},
		{"other co-op's treasurer", other, "", tr("a", "external", "member:olga", 5), 403, "members"},
		{"no token", "", "", tr("a", "external", "member:m1", 5), 401, "token"},
		{"replay with other content", ada, "", tr("in", "external", "member:m1", 999), 409, "different"},
		{"batch with a bad one", ada, "/batch", map[string]any{"transfers": []any{good, tr("b", "external", "member:m1", 0)}}, 422, "transfers[1].amount"},
		{"batch with a fraction", ada, "/batch", `{"transfers":[{"id":"ok-1","debit":"external","credit":"member:m1","amount":10,"kind":"x"},
			{"id":"b","debit":"external","credit":"member:m1","amount":1.5,"kind":"x"}]}`, 400, "transfers[1].amount"},
		{"batch overdrawing", m1, "/batch", map[string]any{"transfers": []any{tr("a", "member:m1", "coop:pool", 600), tr("b", "member:m1", "coop:pool", 401)}}, 409, "not enough"},
		{"batch with twice one id", ada, "/batch", map[string]any{"transfers": []any{good, good}}, 422, "id"},
		{"batch mixing new and old", ada, "/batch", map[string]any{"transfers": []any{good, tr("in", "external", "member:m1", 1000)}}, 409, "whole or not at all"},
		{"empty batch", ada, "/batch", map[string]any{"transfers": []any{}}, 422, "transfers"},
		{"batch of a member's and another's", m1, "/batch", map[string]any{"transfers": []any{tr("m", "member:m1", "coop:pool", 1), tr("n", "coop:pool", "member:m1", 1)}}, 403, "treasurer"},
		{"post unknown", ada, "/nope/post", nil, 404, "nope"},
		{"reverse without id", ada, "/in/reverse", map[string]any{}, 422, "id"},
		{"reverse with a bad kind", ada, "/in/reverse", map[string]any{"id": "r", "kind": "Bad Kind"}, 422, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := e.do("POST", "/api/v1/coops/mill/transfers"+tc.path, tc.token, tc.body)
			if st != tc.status || !strings.Contains(out["_raw"].(string), tc.says) {
				t.Errorf("%s = %d %s; want %d saying %q", tc.name, st, out["_raw"], tc.status, tc.says)
			}
		})
	}
	if after := e.books(ada, "mill"); after != before {
		t.Errorf("refused requests changed the books:\nbefore %s\nafter  %s", before, after)
	}
	if got := e.must(200, "GET", "/api/v1/coops/farm/accounts", other, nil)["accounts"].([]any); len(got) != 2 {
		t.Errorf("the other co-op's books changed: %v", got)
	}
	e.checkBooks(ada, "mill")
	// Reading the books is for members.
	for _, path := range []string{"/transfers", "/transfers/in", "/accounts", "/ledger/check"} {
		e.must(403, "GET", "/api/v1/coops/mill"+path, stranger, nil)
		e.must(403, "GET", "/api/v1/coops/mill"+path, other, nil)
	}
}

func TestTransferBatchOverHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.people("mill", "workers", "users")
	ada := toks[0]
	// Pay m1 and have the pool pass part on to m2 in one batch: the pool
	// starts empty, so only the batch's net effect keeps it whole.
	batch := map[string]any{"transfers": []any{
		tr("b1", "coop:pool", "member:m2", 300),
		tr("b2", "external", "coop:pool", 1000, "kind", "income"),
		tr("b3", "coop:pool", "member:m1", 700, "unit", "EUR"),
		tr("b4", "external", "coop:pool", 8, "unit", "HOURS"),
	}}
	out := e.must(201, "POST", "/api/v1/coops/mill/transfers/batch", ada, batch)
	ts := out["transfers"].([]any)
	if len(ts) != 4 || ts[0].(map[string]any)["batch"] != "b1" {
		t.Errorf("batch = %s", out["_raw"])
	}
	if again := e.must(200, "POST", "/api/v1/coops/mill/transfers/batch", ada, batch); again["_raw"] != out["_raw"] {
		t.Errorf("replayed batch = %s, want %s", again["_raw"], out["_raw"])
	}
	if bal, _ := e.balance(ada, "mill", "coop:pool", "EUR"); bal != 0 {
		t.Errorf("pool after the batch: %d, want 0", bal)
	}
	if bal, _ := e.balance(ada, "mill", "coop:pool", "HOURS"); bal != 8 {
		t.Errorf("pool hours: %d, want 8", bal)
	}
	check := e.must(200, "GET", "/api/v1/coops/mill/ledger/check", ada, nil)
	units := check["units"].(map[string]any)
	if check["ok"] != true || units["EUR"].(map[string]any)["sum"] != 0.0 || units["HOURS"].(map[string]any)["transfers"] != 1.0 {
		t.Errorf("check = %s", check["_raw"])
	}
}

// TestConcurrentSpendingHTTP: 40 clients spend one member's 1,000 at
// once over HTTP, 100 each; exactly ten succeed, the rest get 409, and
// the balance ends at 0, never below.
func TestConcurrentSpendingHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.people("mill", "workers")
	e.must(201, "POST", "/api/v1/coops/mill/transfers", toks[0], tr("in", "external", "member:m1", 1000))
	const clients = 40
	var wg sync.WaitGroup
	statuses := make(chan int, clients)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	for i := range clients {
		wg.Go(func() {
			body := fmt.Sprintf(`{"id":"s%d","debit":"member:m1","credit":"coop:pool","amount":100,"kind":"gift"}`, i)
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/coops/mill/transfers", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+toks[1])
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 10 || count[409] != clients-10 {
		t.Errorf("statuses %v; want 10 × 201 and %d × 409", count, clients-10)
	}
	if bal, avail := e.balance(toks[1], "mill", "member:m1", "EUR"); bal != 0 || avail != 0 {
		t.Errorf("m1 ends with %d (available %d), want 0", bal, avail)
	}
	e.checkBooks(toks[0], "mill")
}
