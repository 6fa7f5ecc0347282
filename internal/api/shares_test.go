// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"opencoop/internal/ledger"
)

// payIn records, as the treasurer (the founder), money handle paid the
// co-op from outside.
func (e *env) payIn(slug, treasurer, handle string, amount int64) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.app.Coops.CoopBySlug(ctx, slug)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.app.Auth.AccountByHandle(ctx, treasurer)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _, err = e.app.Ledger.Submit(ctx, c, a, []ledger.Request{{ID: fmt.Sprintf("pay-%s-%d", handle, e.clock.now().UnixNano()),
		Debit: "external", Credit: "member:" + handle, Amount: amount, Kind: "payment"}})
	if err != nil {
		e.t.Fatalf("pay %s: %v", handle, err)
	}
}

func (e *env) sharesLedgerOK(slug string) {
	e.t.Helper()
	c, err := e.app.Coops.CoopBySlug(context.Background(), slug)
	if err != nil {
		e.t.Fatal(err)
	}
	rep, err := e.app.Ledger.Check(context.Background(), c)
	if err != nil || !rep.OK {
		e.t.Errorf("ledger check of %s: %v %+v", slug, err, rep)
	}
}

func snum(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func TestShareOfferEndToEnd(t *testing.T) {
	e := newEnv(t)
	ada := e.signup("ada")
	e.found(ada, "mill")
	bo := e.signup("bo")
	e.join(bo, "mill", e.invite(ada, "mill", "users"))
	ed := e.signup("ed")
	fay := e.signup("fay")
	e.found(fay, "bakery")
	e.payIn("mill", "ada", "ada", 10_000)
	e.payIn("mill", "ada", "bo", 10_000)

	base := "/api/v1/coops/mill/offers"
	closes := e.clock.now().Add(7 * 24 * time.Hour).Format(time.RFC3339)
	good := map[string]any{"title": "New oven", "class": "users", "par": 100, "min_shares": 10, "optimum_shares": 40,
		"max_shares": 50, "member_min_shares": 5, "member_max_shares": 40, "closes_at": closes, "rule": "pro_rata",
		"lock_in_days": 30, "notice_days": 10}
	bad := map[string]any{}
	for k, v := range good {
		bad[k] = v
	}
	bad["optimum_shares"], bad["rule"], bad["par"] = 60, "lottery", 0
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
	}{
		{"no token", "", good, 401},
		{"not JSON", ada, "{", 400},
		{"unknown field", ada, `{"title":"x","dividend":5}`, 400},
		{"wrong type", ada, `{"title":"x","par":"one euro"}`, 400},
		{"invalid fields", ada, bad, 422},
		{"a plain member", bo, good, 403},
		{"an outsider", ed, good, 403},
	} {
		st, out := e.do("POST", base, tc.token, tc.body)
		if st != tc.status {
			t.Errorf("create offer, %s: %d, want %d: %s", tc.name, st, tc.status, out["_raw"])
		}
		if tc.status == 422 {
			fields := out["error"].(map[string]any)["fields"].(map[string]any)
			for _, f := range []string{"optimum_shares", "rule", "par"} {
				if fields[f] == nil {
					t.Errorf("create offer, invalid: no complaint about %s: %v", f, fields)
				}
			}
		}
	}
	if list := e.must(200, "GET", base, "", nil); len(list["offers"].([]any)) != 0 {
		t.Fatalf("bad requests created offers: %v", list["_raw"])
	}

	o := e.must(201, "POST", base, ada, good)
	id := snum(o["id"])
	if o["phase"] != "open" || snum(o["max_amount"]) != 5000 || o["unit"] != "EUR" {
		t.Errorf("created offer = %s", o["_raw"])
	}
	path := fmt.Sprintf("%s/%d", base, id)
	if got := e.must(200, "GET", path, "", nil); snum(got["id"]) != id {
		t.Errorf("public offer = %s", got["_raw"])
	}
	// Other co-ops' ids and bad ids are not found.
	other := fmt.Sprintf("/api/v1/coops/bakery/offers/%d", id)
	e.must(404, "GET", other, "", nil)
	e.must(404, "POST", other+"/applications", fay, map[string]any{"shares": 5})
	e.must(404, "POST", other+"/close", fay, nil)
	e.must(404, "GET", base+"/abc", "", nil)
	e.must(404, "GET", base+"/0", "", nil)

	// ed is not a member: he registers as an applicant, is paid in, applies.
	e.must(403, "POST", path+"/applications", ed, map[string]any{"shares": 10})
	if m := e.must(201, "POST", path+"/applicants", ed, nil); m["state"] != "applicant" || m["class"] != "users" {
		t.Errorf("registered applicant = %s", m["_raw"])
	}
	e.must(200, "POST", path+"/applicants", ed, nil)
	e.must(409, "POST", path+"/applications", ed, map[string]any{"shares": 10})
	e.payIn("mill", "ada", "ed", 3000)
	e.must(422, "POST", path+"/applications", ed, map[string]any{"shares": 4})
	e.must(400, "POST", path+"/applications", ed, map[string]any{"shares": "ten"})
	p := e.must(201, "POST", path+"/applications", ed, map[string]any{"shares": 30})
	if p["state"] != "pending" || snum(p["amount"]) != 3000 {
		t.Errorf("application = %s", p["_raw"])
	}
	e.must(200, "POST", path+"/applications", ed, map[string]any{"shares": 30})
	e.must(409, "POST", path+"/applications", ed, map[string]any{"shares": 20})

	bp := e.must(201, "POST", path+"/applications", bo, map[string]any{"shares": 40})
	e.must(403, "GET", path+"/applications", bo, nil)
	if ps := e.must(200, "GET", path+"/applications", ada, nil); len(ps["applications"].([]any)) != 2 {
		t.Errorf("applications = %s", ps["_raw"])
	}
	withdraw := fmt.Sprintf("%s/applications/%d/withdraw", path, snum(bp["id"]))
	e.must(403, "POST", withdraw, ed, nil)
	if w := e.must(200, "POST", withdraw, bo, nil); w["state"] != "withdrawn" {
		t.Errorf("withdrawn = %s", w["_raw"])
	}
	e.must(200, "POST", withdraw, bo, nil)
	e.must(201, "POST", path+"/applications", bo, map[string]any{"shares": 40})
	if got := e.must(200, "GET", path, "", nil); snum(got["applied_shares"]) != 70 || snum(got["applications"]) != 2 {
		t.Errorf("offer totals = %s", got["_raw"])
	}

	// 70 for 50, pro rata: ed 50·30/70 = 21.43, bo 28.57 → 21 + 28, one to bo.
	e.must(403, "POST", path+"/close", bo, nil)
	closed := e.must(200, "POST", path+"/close", ada, nil)
	if closed["created"] != true || closed["offer"].(map[string]any)["state"] != "allotted" {
		t.Fatalf("close = %s", closed["_raw"])
	}
	got := map[string]int64{}
	for _, a := range closed["applications"].([]any) {
		a := a.(map[string]any)
		got[a["handle"].(string)] = snum(a["allotted_shares"])
	}
	if got["ed"] != 21 || got["bo"] != 29 {
		t.Errorf("allotted = %v, want ed 21, bo 29", got)
	}
	if again := e.must(200, "POST", path+"/close", ada, nil); again["created"] != false {
		t.Errorf("second close = %s", again["_raw"])
	}
	e.must(409, "POST", path+"/applications", ada, map[string]any{"shares": 5})

	mine := e.must(200, "GET", "/api/v1/coops/mill/shares/mine", ed, nil)
	if mine["member"].(map[string]any)["state"] != "member" || len(mine["holdings"].([]any)) != 1 {
		t.Errorf("ed's shares = %s", mine["_raw"])
	}
	e.must(403, "GET", "/api/v1/coops/mill/shares/register", fay, nil)
	reg := e.must(200, "GET", "/api/v1/coops/mill/shares/register", ed, nil)
	if tot := reg["totals"].([]any); len(tot) != 1 || snum(tot[0].(map[string]any)["shares"]) != 50 {
		t.Errorf("register = %s", reg["_raw"])
	}

	// Withdrawal: lock-in 30 days, notice 10.
	wpath := "/api/v1/coops/mill/withdrawals"
	e.must(409, "POST", wpath, ed, map[string]any{"offer_id": id, "shares": 5})
	e.clock.advance(7*24*time.Hour + 30*24*time.Hour)
	e.must(422, "POST", wpath, ed, map[string]any{"offer_id": id, "shares": 22})
	e.must(422, "POST", wpath, ed, map[string]any{"shares": 2})
	wd := e.must(201, "POST", wpath, ed, map[string]any{"offer_id": id, "shares": 21})
	approve := fmt.Sprintf("%s/%d/approve", wpath, snum(wd["id"]))
	e.must(409, "POST", approve, ada, nil)
	e.must(403, "POST", wpath+"/suspend", bo, map[string]any{"reason": "no"})
	e.must(422, "POST", wpath+"/suspend", ada, map[string]any{"reason": ""})
	e.must(201, "POST", wpath+"/suspend", ada, map[string]any{"reason": "Board minute 12: cash for the oven first"})
	e.must(409, "POST", wpath+"/suspend", ada, map[string]any{"reason": "again"})
	e.clock.advance(10 * 24 * time.Hour)
	e.must(409, "POST", approve, ada, nil)
	e.must(403, "POST", approve, bo, nil)
	e.must(201, "POST", wpath+"/resume", ada, map[string]any{"reason": "Board minute 13"})
	if ok := e.must(200, "POST", approve, ada, nil); ok["state"] != "approved" {
		t.Errorf("approved = %s", ok["_raw"])
	}
	e.must(200, "POST", approve, ada, nil)
	e.must(409, "POST", fmt.Sprintf("%s/%d/reject", wpath, snum(wd["id"])), ada, map[string]any{"reason": "late"})
	e.must(404, "POST", fmt.Sprintf("/api/v1/coops/bakery/withdrawals/%d/approve", snum(wd["id"])), fay, nil)
	book := e.must(200, "GET", wpath, ada, nil)
	if book["all"] != true || len(book["withdrawals"].([]any)) != 1 || len(book["decisions"].([]any)) != 2 {
		t.Errorf("withdrawals = %s", book["_raw"])
	}
	if own := e.must(200, "GET", wpath, bo, nil); own["all"] != false || len(own["withdrawals"].([]any)) != 0 {
		t.Errorf("bo's withdrawals = %s", own["_raw"])
	}
	if reg := e.must(200, "GET", "/api/v1/coops/mill/shares/register", ed, nil); len(reg["holders"].([]any)) != 1 {
		t.Errorf("register after ed withdrew everything = %s", reg["_raw"])
	}
	e.sharesLedgerOK("mill")
	if p, err := auditVerify(e); err != nil || p != nil {
		t.Errorf("audit verify: %v %v", err, p)
	}
}
