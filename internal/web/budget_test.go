// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opencoop/internal/budget"
	"opencoop/internal/coop"
)

// Representative data for the budget pages, for TestTemplatesExecute.

func budgetSamples() (*coop.Coop, coop.Member, *budget.Round, *budget.Bucket) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Currency: "EUR", CreatedAt: at}
	m := coop.Member{Handle: "ada", Name: "Ada", Class: "workers", State: coop.StateMember, Treasurer: true, Secretary: true}
	r := &budget.Round{ID: 3, Coop: "river", Title: "Spring", Unit: "EUR", BucketsFrom: at, BucketsTo: at.Add(time.Hour), FundingFrom: at,
		FundingTo: at.Add(2 * time.Hour), MemberCap: 500, Underfunded: budget.Refund, Unspent: budget.RollOver, Allowance: budget.ByClass,
		Contributions: 1000, CoreExpenses: 1200, Shortfall: 200, RolledIn: 30, State: budget.RoundClosed, CreatedBy: "ada", CreatedAt: at,
		ClosedAt: &at, Close: &budget.CloseTotals{Refunded: 1, Returned: 2}, CreationOpen: true, FundingOpen: true,
		Expenses: []budget.Expense{{Title: "Rent", Amount: 1200, ProposalID: 7}}}
	b := &budget.Bucket{ID: 9, RoundID: 3, Title: "Oven", Description: "A wood oven.", Author: "bo", Cocreators: []string{"ada"},
		Items: []budget.Item{{Title: "bricks", Min: 100, Max: 300}}, Min: 100, Max: 300, Unit: "EUR", State: budget.Open,
		Outcome: budget.OutcomeKept, Account: "bucket:9", Raised: 120, Contributors: []budget.Contributor{{Handle: "ada", Amount: 120}}, CreatedAt: at}
	return c, m, r, b
}

func roundListSamples() []any {
	c, m, r, _ := budgetSamples()
	return []any{
		&roundsPage{Coop: c, Member: m, CanCreate: true, Rounds: []budgetRoundRow{{ID: r.ID, Title: r.Title, State: r.State, Unit: "EUR",
			Discretionary: "10.00 EUR", FundingTo: "2026-03-08T12:00", CreationOpen: true, FundingOpen: true}},
			Decisions: []choice{{"7", "#7 Rent"}}, Form: roundForm{Title: "x", Allowance: "proportional", Underfunded: "keep", Unspent: "roll_over",
				Expenses: []expenseRow{{Index: 0, Title: "Rent", Amount: "12", Proposal: "7"}}},
			Errors: map[string]string{"title": "bad", "expense_0": "bad"}, Problem: "no"},
		&roundsPage{Coop: c},
	}
}

func roundShowSamples() []any {
	c, m, r, b := budgetSamples()
	open := *r
	open.State, open.Close, open.ClosedAt = budget.RoundOpen, nil, nil
	mine := &allowanceView{Account: "bucket:4", Granted: "5.00 EUR", RolledIn: "0.30 EUR", Balance: "4.00 EUR", Given: "1.30 EUR"}
	return []any{
		&roundPage{Coop: c, Member: m, R: r, Money: map[string]string{"C": "10.00 EUR"}, Expenses: []expenseView{{Title: "Rent", Amount: "12.00 EUR", ProposalID: 7}},
			Mine: mine, Buckets: []bucketRow{newBucketRow(b)}, CanManage: true, Done: "closed"},
		&roundPage{Coop: c, Member: m, R: &open, Money: map[string]string{}, CanManage: true,
			Form: bucketForm{Title: "x", Items: []bucketItemRow{{Index: 0, Title: "a", Min: "1", Max: "2"}}}, Errors: map[string]string{"item_0": "bad"}, Problem: "no"},
	}
}

func bucketShowSamples() []any {
	c, m, r, b := budgetSamples()
	open := *r
	open.State = budget.RoundOpen
	all := map[string]bool{"give": true, "withdraw": true, "publish": true, "open": true, "accept": true, "cancel": true, "complete": true}
	return []any{
		&bucketPage{Coop: c, Member: m, B: b, R: &open, Row: newBucketRow(b), Items: []expenseView{{Title: "bricks", Amount: "1.00 EUR – 3.00 EUR"}},
			Contributors: []expenseView{{Title: "ada", Amount: "1.20 EUR"}}, Mine: &allowanceView{Balance: "3.00 EUR"}, MyGift: "1.20 EUR", Cap: "5.00 EUR",
			Can: all, Form: contributionForm{ID: "web-1", Amount: "x"}, Errors: map[string]string{"amount": "bad", "pay_to": "bad"}, Problem: "no", Done: "given"},
		&bucketPage{Coop: c, Member: m, B: &budget.Bucket{ID: 2, Title: "Empty", Unit: "EUR", State: budget.Draft}, R: r, Can: map[string]bool{}},
	}
}

// TestBudgetPages runs a round through the pages: set up, allowances,
// a bucket proposed, opened and funded, a refusal, a withdrawal, the close.
func TestBudgetPages(t *testing.T) {
	_, ada, bo := setUp(t)
	books := ada.get("/coops/river/books")
	income := url.Values{"id": {formID(t, books.body)}, "debit": {"external"}, "credit": {"coop:pool"}, "amount": {"10"}, "unit": {"EUR"}, "kind": {"income"}}
	expect(t, "income", ada.post("/coops/river/books", income), http.StatusSeeOther, "/coops/river/books?done=created")

	expect(t, "rounds as bo", bo.get("/coops/river/rounds"), http.StatusOK, "", "No budget round yet.", "!Set up a round")
	expect(t, "rounds as ada", ada.get("/coops/river/rounds"), http.StatusOK, "", "Set up a round", `name="funding_to"`)
	round := url.Values{"title": {"Spring"}, "unit": {"EUR"}, "buckets_from": {"2026-03-01T11:00"}, "buckets_to": {"2026-03-03T12:00"},
		"funding_from": {"2026-03-01T11:00"}, "funding_to": {"2026-03-08T12:00"}, "member_cap": {"4"}, "underfunded": {"refund"},
		"unspent": {"return_to_pool"}, "allowance": {"equal"}}
	expect(t, "bo sets up", bo.post("/coops/river/rounds", round), http.StatusForbidden, "")
	bad := with(round, "expense_title_0", "Rent", "expense_amount_0", "1.234")
	expect(t, "bad amount", ada.post("/coops/river/rounds", bad), http.StatusUnprocessableEntity, "", "give an amount such as", `value="Rent"`, "aria-invalid")
	bad = with(round, "funding_to", "2026-02-01T12:00", "expense_title_0", "Rent", "expense_amount_0", "1.23")
	expect(t, "bad round", ada.post("/coops/river/rounds", bad), http.StatusUnprocessableEntity, "", "funding must end", "name the proposal")
	r := ada.post("/coops/river/rounds", round)
	expect(t, "set up", r, http.StatusSeeOther, "/coops/river/rounds/")
	roundPath := r.location
	expect(t, "round as bo", bo.get(roundPath), http.StatusOK, "", "<strong>5.00 EUR</strong> left to give", "10.00 EUR", "Propose a bucket",
		"!Close the round now", "!style=")

	bucket := url.Values{"title": {"Oven"}, "description": {"A wood oven."}, "cocreators": {"ada"}, "publish": {"1"},
		"item_title_0": {"bricks"}, "item_min_0": {"3"}, "item_max_0": {"6"}, "item_title_1": {""}}
	expect(t, "bad bucket", bo.post(roundPath+"/buckets", with(bucket, "item_max_0", "2")), http.StatusUnprocessableEntity, "",
		"at least its minimum", `value="bricks"`)
	r = bo.post(roundPath+"/buckets", bucket)
	expect(t, "propose", r, http.StatusSeeOther, "/coops/river/buckets/")
	bucketPath := r.location
	expect(t, "idea", bo.get(bucketPath), http.StatusOK, "", "Open for funding", "0.00 EUR</strong> raised", "<progress", "!style=")
	expect(t, "open", bo.post(bucketPath+"/open", url.Values{}), http.StatusSeeOther, bucketPath+"?done=open")
	page := bo.get(bucketPath)
	expect(t, "open bucket", page, http.StatusOK, "", "Fund it", `name="amount"`)
	give := url.Values{"id": {formID(t, page.body)}, "amount": {"2.50"}}
	expect(t, "give", bo.post(bucketPath+"/contributions", give), http.StatusSeeOther, bucketPath+"?done=given")
	expect(t, "give again (a replay)", bo.post(bucketPath+"/contributions", give), http.StatusSeeOther, bucketPath+"?done=given")
	expect(t, "given", bo.get(bucketPath+"?done=given"), http.StatusOK, "", "your contribution is in", "2.50 EUR</strong> raised",
		"@bo — 2.50 EUR", "Take back my 2.50 EUR")
	expect(t, "over the cap", bo.post(bucketPath+"/contributions", url.Values{"id": {"web-2"}, "amount": {"2"}}), http.StatusUnprocessableEntity, "",
		"at most 400")
	expect(t, "bad amount", bo.post(bucketPath+"/contributions", url.Values{"id": {"web-3"}, "amount": {"lots"}}), http.StatusUnprocessableEntity, "",
		`value="lots"`)
	expect(t, "ada gives", ada.post(bucketPath+"/contributions", url.Values{"id": {"web-4"}, "amount": {"3"}}), http.StatusSeeOther, bucketPath)
	expect(t, "beyond the maximum", ada.post(bucketPath+"/contributions", url.Values{"id": {"web-5"}, "amount": {"1"}}), http.StatusConflict, "",
		"needs only 50 more minor units of EUR", `value="1"`)
	expect(t, "ada fills it", ada.post(bucketPath+"/contributions", url.Values{"id": {"web-6"}, "amount": {"0.50"}}), http.StatusSeeOther, bucketPath)
	expect(t, "funded", bo.get(bucketPath), http.StatusOK, "", "state-funded", "6.00 EUR</strong> raised")
	expect(t, "withdraw when funded", bo.post(bucketPath+"/withdraw", url.Values{}), http.StatusConflict, "", "The bucket is funded")

	expect(t, "bo closes", bo.post(roundPath+"/close", url.Values{}), http.StatusForbidden, "")
	expect(t, "close", ada.post(roundPath+"/close", url.Values{}), http.StatusSeeOther, roundPath+"?done=closed")
	expect(t, "closed", ada.get(roundPath+"?done=closed"), http.StatusOK, "", "The round is closed.", "4.00 EUR returned to the pool")
	expect(t, "complete", ada.post(bucketPath+"/complete", url.Values{"pay_to": {"bo"}}), http.StatusSeeOther, bucketPath+"?done=complete")
	expect(t, "statement", bo.get("/coops/river/statement"), http.StatusOK, "", "6.00 EUR")
	expect(t, "no such bucket", bo.get("/coops/river/buckets/999"), http.StatusNotFound, "")
	expect(t, "bad id", bo.get("/coops/river/rounds/x"), http.StatusNotFound, "")
	if strings.Contains(ada.get(roundPath).body, "style=") {
		t.Errorf("a budget page carries an inline style")
	}
}
