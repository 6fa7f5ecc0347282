// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/pool"
)

// poolPageSamples is representative data for the pooling page, for
// TestTemplatesExecute: a treasurer's view of a levy with runs, incomes
// and errors on every form, and a member's view before any rule.
func poolPageSamples() []any {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Currency: "EUR", CreatedAt: at}
	sec := coop.Member{Handle: "ada", Name: "Ada", State: coop.StateMember, Secretary: true, Treasurer: true, JoinedAt: at}
	levy := &pool.LevyParams{StartRate: "10", StepBP: 50, Projects: []pool.Project{{Member: "bo", AreaM2: "450", BaseRent: 650, Start: "2026-01"}}}
	rule := &pool.Rule{ID: 2, Preset: pool.SolidarityLevy, Params: levy, SetBy: "ada", EffectiveAt: at}
	o := &pool.Overview{Rule: rule, Words: []string{"Each month every member project pays the solidarity levy."},
		Examples:    []pool.Example{{Kind: "invoice", Amount: 100000, Unit: "EUR", Text: "An invoice of 1,000.00 EUR → the member 800.00"}},
		Suspensions: []pool.Suspension{{ID: 1, Project: "bo", Action: "suspend", From: "2026-04", Proposal: 7, Note: "roof", By: "ada", At: at}},
		History:     []pool.Rule{*rule}}
	run := pool.Period{Job: pool.JobLevy, Period: "2026-02", RuleID: 2, Totals: map[string]int64{"EUR": 4500},
		Lines:    []pool.Line{{Member: "bo", Unit: "EUR", AreaM2: "450", Year: 1, Rate: "10", Amount: 4500}, {Member: "cy", Unit: "EUR", Note: "the levy starts in 2027-01"}},
		Postings: []pool.Posting{{ID: "levy:2026-02:bo", Debit: "external", Credit: "coop:pool", Amount: 4500, Unit: "EUR", Kind: "solidarity_levy", Part: "the levy of bo"}},
		RanBy:    "system", At: &at, Status: pool.StatusCreated}
	market := pool.Period{Job: pool.JobMarketplace, Period: "2026-02", Totals: map[string]int64{"EUR": 64},
		Lines: []pool.Line{{Member: "bo", Unit: "EUR", Traded: 1510, Amount: 21}}, RanBy: "ada", At: &at, Status: pool.StatusDone}
	skipped := pool.Period{Job: pool.JobMarketplace, Period: "2026-03", Status: pool.StatusSkipped, Reason: "2026-03 ends on 1 Apr 2026"}
	inc := pool.IncomeSplit{Income: pool.Income{ID: "inv-1", Member: "bo", Buyer: "cy", Project: "Loomio", Note: "March", Amount: 1000,
		Unit: "EUR", Kind: "sale", Preset: pool.Marketplace, Fee: 50, RecordedBy: "ada", At: at},
		Postings: []pool.Posting{{Credit: "member:bo", Amount: 950, Part: "the seller"}}}
	bad := map[string]string{"params": "bad", "preset": "bad", "amount": "bad", "kind": "bad", "member": "bad", "buyer": "bad",
		"unit": "bad", "project": "bad", "note": "bad", "id": "used", "period": "bad", "job": "bad", "from": "bad", "proposal": "bad"}
	full := &poolPage{Coop: c, Member: sec, Overview: o, Params: `{"step_bp": 50}`, Members: []string{"ada", "bo"}, Projects: []string{"bo"},
		Presets: pool.PresetNames, Runs: []pool.Period{run, market, skipped}, Done: poolDone["rule"],
		RuleForm: poolRuleForm{Preset: pool.SolidarityLevy, Params: "{}"}, IncomeForm: poolIncomeForm{ID: "web-1", Unit: "EUR"},
		RunForm: poolRunForm{Period: "2026-02", Job: "levy"}, SuspendForm: poolSuspendForm{Project: "bo", Resume: true},
		RuleErrs: bad, IncomeErrs: bad, RunErrs: bad, SuspendErrs: bad}
	for _, x := range []pool.IncomeSplit{inc} {
		full.Incomes = append(full.Incomes, poolIncomeRow{Income: x.Income, AmountText: "10.00", FeeText: "0.50",
			Parts: []poolPartRow{{Part: "the seller", To: "member:bo", Amount: "9.50"}}})
	}
	full.Periods = []poolPeriodRow{periodRow(run), periodRow(market)}
	bare := &poolPage{Coop: c, Member: coop.Member{Handle: "bo", State: coop.StateMember},
		Overview: &pool.Overview{Words: []string{"River Bakery has no pooling rule yet."}, Examples: []pool.Example{}}}
	return []any{full, bare}
}

func TestPoolingPages(t *testing.T) {
	_, ada, bo := setUp(t)
	expect(t, "no rule", bo.get("/coops/river/pooling"), http.StatusOK, "", "has no pooling rule yet", "No income has been recorded yet",
		"!Record an income", "!Change the rule")
	expect(t, "a member may not set it", bo.post("/coops/river/pooling", url.Values{"preset": {"enspiral"}}), http.StatusForbidden, "")
	expect(t, "bad params", ada.post("/coops/river/pooling", url.Values{"preset": {"enspiral"}, "params": {`{"collective_bp": 20000}`}}),
		http.StatusUnprocessableEntity, "", "params.collective_bp: give 0 to 10000 basis points", `aria-invalid="true"`)
	expect(t, "not JSON", ada.post("/coops/river/pooling", url.Values{"preset": {"custom"}, "params": {`{tree`}}),
		http.StatusUnprocessableEntity, "", "write the parameters as JSON")
	expect(t, "set", ada.post("/coops/river/pooling", url.Values{"preset": {"enspiral"}, "params": {""}}), http.StatusSeeOther,
		"/coops/river/pooling?done=rule")
	page := ada.get("/coops/river/pooling?done=rule")
	expect(t, "rule", page, http.StatusOK, "", "The pooling rule is set",
		"80% to the member and 20% to the collective (of that, 25% to the foundation (coop:foundation) and 75% to the pool (coop:pool))",
		"An invoice of 1,000.00 EUR → the member 800.00, the collective › the foundation 50.00, the collective › the pool 150.00",
		"Record an income", "Change the rule")
	id := regexpFind(t, page.body, `name="id" value="(web-[0-9a-f]+)"`)
	form := url.Values{"id": {id}, "kind": {"invoice"}, "amount": {"1,000.00"}, "unit": {"EUR"}, "member": {"bo"}, "project": {"Loomio"}}
	expect(t, "income", ada.post("/coops/river/pooling/income", form), http.StatusSeeOther, "/coops/river/pooling?done=income")
	expect(t, "the form again", ada.post("/coops/river/pooling/income", form), http.StatusSeeOther, "/coops/river/pooling?done=income")
	expect(t, "the split, once", bo.get("/coops/river/pooling"), http.StatusOK, "", "invoice · bo · Loomio", "1,000.00 EUR",
		"the member <span class=\"key\">member:bo</span> 800.00", "the collective › the foundation <span class=\"key\">coop:foundation</span> 50.00",
		"the collective › the pool <span class=\"key\">coop:pool</span> 150.00")
	if n := strings.Count(bo.get("/coops/river/pooling").body, "invoice · bo"); n != 1 {
		t.Errorf("the income is listed %d times, want once", n)
	}
	form.Set("id", "web-2")
	form.Set("member", "nobody")
	expect(t, "not a member", ada.post("/coops/river/pooling/income", form), http.StatusUnprocessableEntity, "", "nobody is not a member")
	expect(t, "a member may not record", bo.post("/coops/river/pooling/income", form), http.StatusForbidden, "")
	form.Set("amount", "12.345")
	expect(t, "bad amount", ada.post("/coops/river/pooling/income", form), http.StatusUnprocessableEntity, "", "give the amount")
	expect(t, "run", ada.post("/coops/river/pooling/run", url.Values{"period": {"2026-02"}}), http.StatusOK, "",
		"marketplace 2026-02</strong>: nothing to run — no marketplace sales in 2026-02", "levy 2026-02</strong>: nothing to run")
	expect(t, "run a future month", ada.post("/coops/river/pooling/run", url.Values{"period": {"2026-04"}}), http.StatusUnprocessableEntity, "",
		"2026-04 has not begun")
}

// regexpFind returns the first group of pattern in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in the page", pattern)
	}
	return m[1]
}
