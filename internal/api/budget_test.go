// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// budgetCoop founds mill (workers 60, users 40) with the founder (a
// treasurer and secretary) and four members, puts pool into coop:pool and
// returns the tokens, founder first.
func (e *env) budgetCoop(pool int64) []string {
	e.t.Helper()
	toks := e.people("mill", "workers", "users", "users", "users")
	e.must(201, "POST", "/api/v1/coops/mill/transfers", toks[0], tr("income-1", "external", "coop:pool", pool))
	return toks
}

// roundBody is a round whose windows are open now.
func (e *env) roundBody(extra ...any) map[string]any {
	now := e.clock.now()
	m := map[string]any{"title": "Winter", "buckets_from": now.Add(-time.Hour).Format(time.RFC3339),
		"buckets_to": now.Add(48 * time.Hour).Format(time.RFC3339), "funding_from": now.Add(-time.Hour).Format(time.RFC3339),
		"funding_to": now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func num(v any) int64 { return int64(v.(float64)) }

const rounds = "/api/v1/coops/mill/rounds"

func bucketPath(id int64, rest string) string {
	return fmt.Sprintf("/api/v1/coops/mill/buckets/%d%s", id, rest)
}

func TestBudgetRoundOverHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.budgetCoop(1003)
	ada, m1, m2, m3 := toks[0], toks[1], toks[2], toks[3]
	p := e.propose(ada, "mill", map[string]any{"title": "Pay the rent", "method": "yesno"})
	for _, tok := range toks {
		e.vote(tok, p, yes("yes"))
	}
	e.closeProposal(ada, p)
	r := e.must(201, "POST", rounds, ada, e.roundBody("member_cap", 150, "underfunded", "refund", "unspent", "return_to_pool",
		"expenses", []map[string]any{{"title": "Rent", "amount": 3, "proposal_id": p}}))
	if num(r["contributions"]) != 1003 || num(r["core_expenses"]) != 3 || num(r["discretionary"]) != 1000 || num(r["members"]) != 5 {
		t.Fatalf("round: %s", r["_raw"])
	}
	id := num(r["id"])
	rp := fmt.Sprintf("%s/%d", rounds, id)
	al := e.must(200, "GET", rp+"/allowances/me", m1, nil)
	if num(al["granted"]) != 200 || num(al["balance"]) != 200 || al["account"] == "member:m1" {
		t.Errorf("m1's allowance: %s", al["_raw"])
	}
	if _, avail := e.balance(ada, "mill", al["account"].(string), "EUR"); avail != 200 {
		t.Errorf("the ledger holds %d in m1's allowance, want 200", avail)
	}
	e.must(403, "GET", rp+"/allowances/m2", m1, nil)
	e.must(200, "GET", rp+"/allowances/m2", ada, nil)

	b := e.must(201, "POST", rp+"/buckets", m1, map[string]any{"title": "Oven", "description": "Bake.", "cocreators": []string{"m2"},
		"items": []map[string]any{{"title": "bricks", "min": 100, "max": 200}, {"title": "door", "min": 50, "max": 100}}})
	bid := num(b["id"])
	if b["state"] != "draft" || num(b["min"]) != 150 || num(b["max"]) != 300 || b["account"] != fmt.Sprintf("bucket:%d", bid) {
		t.Fatalf("bucket: %s", b["_raw"])
	}
	e.must(409, "POST", bucketPath(bid, "/contributions"), m3, map[string]any{"amount": 10})
	e.must(404, "POST", bucketPath(bid, "/publish"), m3, nil) // a draft is its creators'
	e.must(200, "POST", bucketPath(bid, "/publish"), m2, nil)
	e.must(403, "POST", bucketPath(bid, "/open"), m3, nil)
	e.must(200, "POST", bucketPath(bid, "/open"), m1, nil)
	k := e.must(201, "POST", bucketPath(bid, "/contributions"), m2, map[string]any{"amount": 120, "id": "x1"})
	if num(k["amount"]) != 120 || k["member"] != "m2" {
		t.Errorf("contribution: %s", k["_raw"])
	}
	e.must(200, "POST", bucketPath(bid, "/contributions"), m2, map[string]any{"amount": 120, "id": "x1"}) // a replay
	e.must(422, "POST", bucketPath(bid, "/contributions"), m2, map[string]any{"amount": 31})              // the cap
	e.must(201, "POST", bucketPath(bid, "/contributions"), m3, map[string]any{"amount": 150})
	e.must(409, "POST", bucketPath(bid, "/contributions"), ada, map[string]any{"amount": 31}) // beyond the maximum
	b = e.must(200, "GET", bucketPath(bid, ""), m3, nil)
	progress := b["progress"].(map[string]any)
	if num(b["raised"]) != 270 || len(b["contributors"].([]any)) != 2 || num(progress["min_bp"]) != 10000 || num(progress["max_bp"]) != 9000 {
		t.Errorf("bucket after two gifts: %s", b["_raw"])
	}
	if _, avail := e.balance(ada, "mill", b["account"].(string), "EUR"); avail != 270 {
		t.Errorf("the ledger holds %d in the bucket, want 270", avail)
	}
	w := e.must(200, "DELETE", bucketPath(bid, "/contributions"), m3, nil)
	if num(w["returned"]) != 150 || num(w["bucket"].(map[string]any)["raised"]) != 120 {
		t.Errorf("withdraw: %s", w["_raw"])
	}
	e.must(409, "DELETE", bucketPath(bid, "/contributions"), m3, nil)
	e.must(201, "POST", bucketPath(bid, "/contributions"), ada, map[string]any{"amount": 30})
	b = e.must(200, "POST", bucketPath(bid, "/accept"), m1, nil)
	if b["state"] != "funded" {
		t.Errorf("accepted at 150 of minimum 150: %s", b["_raw"])
	}
	list := e.must(200, "GET", rp+"/buckets", m3, nil)
	if len(list["buckets"].([]any)) != 1 {
		t.Errorf("buckets: %s", list["_raw"])
	}

	closed := e.must(200, "POST", rp+"/close", ada, nil)
	c := closed["close"].(map[string]any)
	if closed["state"] != "closed" || num(c["returned"]) != 1000-150 || num(c["refunded"]) != 0 {
		t.Errorf("closed: %s", closed["_raw"])
	}
	again := e.must(200, "POST", rp+"/close", ada, nil)
	if again["_raw"] != closed["_raw"] {
		t.Errorf("closing twice changed the round:\n%s\n%s", closed["_raw"], again["_raw"])
	}
	if _, avail := e.balance(ada, "mill", "coop:pool", "EUR"); avail != 3+850 {
		t.Errorf("coop:pool = %d, want 853", avail)
	}
	b = e.must(200, "POST", bucketPath(bid, "/complete"), ada, map[string]any{"pay_to": "m1"})
	if b["state"] != "completed" || b["paid_to"] != "member:m1" || num(b["raised"]) != 0 {
		t.Errorf("complete: %s", b["_raw"])
	}
	e.checkBooks(ada, "mill")
	if p, err := auditVerify(e); err != nil || p != nil {
		t.Errorf("audit verify: %v %v", p, err)
	}
	got := e.must(200, "GET", rounds, m3, nil)
	if len(got["rounds"].([]any)) != 1 {
		t.Errorf("rounds: %s", got["_raw"])
	}
}

func TestBudgetBadInput(t *testing.T) {
	e := newEnv(t)
	toks := e.budgetCoop(1000)
	ada, m1 := toks[0], toks[1]
	before := e.books(ada, "mill")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed", `{"title":`, 400, ""},
		{"unknown field", `{"title": "x", "budget": 5}`, 400, ""},
		{"wrong type", `{"title": "x", "member_cap": "lots"}`, 400, ""},
		{"fractional cap", `{"title": "x", "member_cap": 1.5}`, 400, ""},
		{"no windows", map[string]any{"title": "x"}, 422, "funding_to"},
		{"bad policy", e.roundBody("underfunded", "burn"), 422, "underfunded"},
		{"bad rule", e.roundBody("allowance", "lottery"), 422, "allowance"},
		{"bad expense", e.roundBody("expenses", []map[string]any{{"title": "Rent", "amount": 5, "proposal_id": 999}}), 422, "expenses[0].proposal_id"},
		{"too much", e.roundBody("contributions", 5000), 409, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := e.must(tc.status, "POST", rounds, ada, tc.body)
			if tc.field != "" {
				if _, ok := out["error"].(map[string]any)["fields"].(map[string]any)[tc.field]; !ok {
					t.Errorf("error names no %s: %s", tc.field, out["_raw"])
				}
			}
		})
	}
	if after := e.books(ada, "mill"); after != before {
		t.Errorf("refused rounds changed the books")
	}
	if got := e.must(200, "GET", rounds, ada, nil); len(got["rounds"].([]any)) != 0 {
		t.Errorf("refused rounds were written: %s", got["_raw"])
	}
	id := num(e.must(201, "POST", rounds, ada, e.roundBody())["id"])
	rp := fmt.Sprintf("%s/%d", rounds, id)
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"no items", map[string]any{"title": "Oven"}, 422},
		{"min above max", map[string]any{"title": "Oven", "items": []map[string]any{{"title": "x", "min": 5, "max": 4}}}, 422},
		{"unknown co-creator", map[string]any{"title": "Oven", "items": []map[string]any{{"title": "x", "max": 4}}, "cocreators": []string{"nobody"}}, 422},
		{"bad json", `[1]`, 400},
	} {
		t.Run("bucket "+tc.name, func(t *testing.T) {
			e.must(tc.status, "POST", rp+"/buckets", m1, tc.body)
		})
	}
	if got := e.must(200, "GET", rp+"/buckets", ada, nil); len(got["buckets"].([]any)) != 0 {
		t.Errorf("refused buckets were written: %s", got["_raw"])
	}
	bid := num(e.must(201, "POST", rp+"/buckets", m1, map[string]any{"title": "Oven", "publish": true,
		"items": []map[string]any{{"title": "x", "max": 100}}})["id"])
	e.must(200, "POST", bucketPath(bid, "/open"), m1, nil)
	before = e.books(ada, "mill")
	for _, body := range []any{map[string]any{"amount": 0}, map[string]any{"amount": -5}, map[string]any{"amount": 5, "id": "no spaces"}} {
		e.must(422, "POST", bucketPath(bid, "/contributions"), m1, body)
	}
	for _, body := range []any{map[string]any{"amount": 1.5}, map[string]any{"amount": "5"}, `{}x`} {
		e.must(400, "POST", bucketPath(bid, "/contributions"), m1, body)
	}
	e.must(422, "POST", bucketPath(bid, "/complete"), ada, `{"pay_to": "nobody"}`)
	if after := e.books(ada, "mill"); after != before {
		t.Errorf("refused contributions changed the books")
	}
	e.checkBooks(ada, "mill")
}

func TestBudgetAccessOverHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.budgetCoop(500)
	ada, m1 := toks[0], toks[1]
	e.must(401, "POST", rounds, "", e.roundBody())
	e.must(403, "POST", rounds, m1, e.roundBody())
	id := num(e.must(201, "POST", rounds, ada, e.roundBody())["id"])
	rp := fmt.Sprintf("%s/%d", rounds, id)
	bid := num(e.must(201, "POST", rp+"/buckets", m1, map[string]any{"title": "Oven", "publish": true,
		"items": []map[string]any{{"title": "x", "max": 100}}})["id"])
	e.must(403, "POST", rp+"/close", m1, nil)
	e.must(403, "POST", bucketPath(bid, "/complete"), m1, nil)

	zed := e.signup("zed")
	e.found(zed, "other")
	e.must(403, "GET", rp, zed, nil)
	e.must(403, "GET", bucketPath(bid, ""), zed, nil)
	other := "/api/v1/coops/other"
	for _, tc := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("%s/rounds/%d", other, id)},
		{"POST", fmt.Sprintf("%s/rounds/%d/close", other, id)},
		{"GET", fmt.Sprintf("%s/rounds/%d/buckets", other, id)},
		{"GET", fmt.Sprintf("%s/rounds/%d/allowances/me", other, id)},
		{"GET", fmt.Sprintf("%s/buckets/%d", other, bid)},
		{"POST", fmt.Sprintf("%s/buckets/%d/cancel", other, bid)},
		{"DELETE", fmt.Sprintf("%s/buckets/%d/contributions", other, bid)},
		{"GET", rounds + "/abc"},
		{"GET", "/api/v1/coops/mill/buckets/0"},
	} {
		tok := zed
		if tc.path[len("/api/v1/coops/"):][:4] == "mill" {
			tok = ada
		}
		e.must(404, tc.method, tc.path, tok, nil)
	}
	e.must(404, "POST", fmt.Sprintf("%s/buckets/%d/contributions", other, bid), zed, map[string]any{"amount": 1})
	e.checkBooks(ada, "mill")
}

// TestBudgetConcurrentHTTP sends many contributions at once to a bucket
// near its maximum: it is never overfunded.
func TestBudgetConcurrentHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.people("mill", "users", "users", "users", "users", "users", "users", "users", "users", "users", "users", "users")
	ada := toks[0]
	e.must(201, "POST", "/api/v1/coops/mill/transfers", ada, tr("income-1", "external", "coop:pool", 1200))
	rp := fmt.Sprintf("%s/%d", rounds, num(e.must(201, "POST", rounds, ada, e.roundBody())["id"]))
	bid := num(e.must(201, "POST", rp+"/buckets", ada, map[string]any{"title": "Oven", "publish": true,
		"items": []map[string]any{{"title": "x", "max": 250}}})["id"])
	e.must(200, "POST", bucketPath(bid, "/open"), ada, nil)
	var wg sync.WaitGroup
	status := make([]int, len(toks))
	for i, tok := range toks {
		wg.Go(func() {
			status[i], _ = e.do("POST", bucketPath(bid, "/contributions"), tok, map[string]any{"amount": 40})
		})
	}
	wg.Wait()
	ok := 0
	for i, st := range status {
		switch st {
		case 201:
			ok++
		case 409:
		default:
			t.Errorf("member %d: status %d", i, st)
		}
	}
	b := e.must(200, "GET", bucketPath(bid, ""), ada, nil)
	if ok != 6 || num(b["raised"]) != 240 {
		t.Errorf("%d gifts of 40 went through and the bucket holds %d; want 6 and 240 (of 250)", ok, num(b["raised"]))
	}
	e.checkBooks(ada, "mill")
}
