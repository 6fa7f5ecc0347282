// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/shares"
)

// Representative data for the share pages, for TestTemplatesExecute.
func sharesSamples() (*coop.Coop, *coop.Member, *shares.Offer, shares.Application) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Currency: "EUR", CreatedAt: at,
		Classes: []coop.Class{{Key: "workers", Name: "Workers", Weight: 60, Votes: true}, {Key: "users", Name: "Users", Weight: 40, Votes: true}}}
	m := &coop.Member{Handle: "ada", Name: "Ada", Class: "workers", State: coop.StateMember, Secretary: true, Treasurer: true, Weight: 1}
	o := &shares.Offer{ID: 4, Coop: "river", Title: "Oven", Description: "A wood oven.", Class: "users", Unit: "EUR", Par: 100,
		MinShares: 10, OptimumShares: 40, MaxShares: 50, MemberMinShares: 5, MemberMaxShares: 40, MinAmount: 1000, OptimumAmount: 4000,
		MaxAmount: 5000, OpensAt: at, ClosesAt: at.Add(time.Hour), Rule: shares.ProRata, LockInDays: 30, NoticeDays: 10,
		State: shares.StateOpen, Phase: shares.PhaseOpen, AppliedShares: 70, AppliedAmount: 7000, Applications: 2, CreatedBy: "ada", CreatedAt: at}
	p := shares.Application{ID: 3, OfferID: 4, OfferTitle: "Oven", Handle: "ada", Name: "Ada", Shares: 30, Amount: 3000, Unit: "EUR",
		State: shares.AppAllotted, AllottedShares: 21, AllottedAmount: 2100, TransferID: "offer-4-application-3", AppliedAt: at, ResolvedAt: &at}
	return c, m, o, p
}

func offersSamples() []any {
	c, m, o, _ := sharesSamples()
	closed := *o
	closed.State, closed.Phase = shares.StateFailed, shares.StateFailed
	return []any{
		offersPage{Coop: c, Nav: sharesNav(c, m), Member: m, Board: true, Offers: []offerView{newOfferView(o), newOfferView(&closed)}},
		offersPage{Coop: c, Nav: sharesNav(c, nil)},
	}
}

func offerNewSamples() []any {
	c, _, _, _ := sharesSamples()
	return []any{offerNewPage{Coop: c, Rules: ruleChoices(), Form: offerForm{Title: "x", Class: "users", Rule: shares.FCFS},
		Errors: map[string]string{"title": "bad", "par": "bad", "min_shares": "bad", "closes_at": "bad"}, Problem: "no"}}
}

func offerShowSamples() []any {
	c, m, o, p := sharesSamples()
	me := &auth.Account{Handle: "ada"}
	allotted := *o
	allotted.State, allotted.Phase, allotted.AllottedShares, allotted.ClosedAt, allotted.ClosedBy = shares.StateAllotted, shares.StateAllotted, 50, &o.ClosesAt, "system"
	ended := *o
	ended.Phase = shares.PhaseEnded
	failed := *o
	failed.State, failed.Phase = shares.StateFailed, shares.StateFailed
	live := newApplicationView(p)
	live.State = shares.AppPending
	applicant := *m
	applicant.State, applicant.Secretary, applicant.Treasurer = coop.StateApplicant, false, false
	suspended := applicant
	suspended.State = coop.StateSuspended
	apps := []applicationView{newApplicationView(p), live}
	return []any{
		&offerPage{Coop: c, O: newOfferView(o), Me: me, Member: m, Board: true, Secretary: true, Mine: apps, Live: &live, Available: "10.00 EUR",
			Applications: apps, Done: "applied", Problem: "no"},
		&offerPage{Coop: c, O: newOfferView(o), Me: me, Member: &applicant, Available: "0.00 EUR", Shares: "3",
			Errors: map[string]string{"shares": "bad"}, Done: "registered"},
		&offerPage{Coop: c, O: newOfferView(&ended), Me: me, Member: m, Board: true},
		&offerPage{Coop: c, O: newOfferView(o), Me: me, Member: m, Board: true},
		&offerPage{Coop: c, O: newOfferView(&allotted), Me: me, Member: m, Board: true, Mine: apps[:1], Done: "closed"},
		&offerPage{Coop: c, O: newOfferView(&failed), Me: me},
		&offerPage{Coop: c, O: newOfferView(o), Me: me},
		&offerPage{Coop: c, O: newOfferView(o), Me: me, Member: &suspended},
		&offerPage{Coop: c, O: newOfferView(o)},
	}
}

func sharesPageSamples() []any {
	c, m, o, p := sharesSamples()
	at := o.OpensAt
	h := shares.Holding{OfferID: 4, OfferTitle: "Oven", Class: "users", Unit: "EUR", Par: 100, Shares: 21, Amount: 2100, IssuedAt: at,
		UnlocksAt: at.AddDate(0, 0, 30), NoticeDays: 10, Requested: 5, Withdrawable: 16}
	w := shares.Withdrawal{ID: 2, OfferID: 4, OfferTitle: "Oven", Handle: "ada", Name: "Ada", Shares: 5, Amount: 500, Unit: "EUR",
		State: shares.WithdrawalPending, RequestedAt: at, DueAt: at.AddDate(0, 0, 10)}
	done := w
	done.State, done.DecidedBy, done.DecidedAt, done.Reason = shares.WithdrawalRejected, "bo", &at, "cash"
	sus := shares.Suspension{Suspended: true, Reason: "Resolution 2026/4", DecidedBy: "ada", DecidedAt: &at}
	return []any{
		&sharesPage{Coop: c, Nav: sharesNav(c, m), P: &shares.Portfolio{Member: m, Suspension: sus},
			Holdings:     []holdingView{{Holding: h, AmountText: "21.00 EUR", ParText: "1.00 EUR"}, {Holding: h, Locked: true}},
			Applications: []applicationView{newApplicationView(p)}, Withdrawals: []withdrawalView{newWithdrawalView(w, at), newWithdrawalView(done, at)},
			OfferID: "4", Shares: "x", Errors: map[string]string{"shares": "bad"}, Problem: "no", Done: "requested"},
		&sharesPage{Coop: c, Nav: sharesNav(c, nil), P: &shares.Portfolio{}},
	}
}

func sharesRegisterSamples() []any {
	c, m, _, _ := sharesSamples()
	return []any{
		registerPage{Coop: c, Nav: sharesNav(c, m), Holders: []holderView{{Holder: shares.Holder{Handle: "ada", Name: "Ada", State: "member",
			Class: "users", Unit: "EUR", Shares: 21, Amount: 2100}, AmountText: "21.00 EUR"}, {Holder: shares.Holder{Handle: "ed", State: "left"}}},
			Totals: []totalView{{ClassTotal: shares.ClassTotal{Class: "users", Unit: "EUR", Holders: 2, Shares: 21, Amount: 2100}, AmountText: "21.00 EUR"}}},
		registerPage{Coop: c},
	}
}

func sharesWithdrawalsSamples() []any {
	c, m, o, _ := sharesSamples()
	at := o.OpensAt
	w := shares.Withdrawal{ID: 2, OfferID: 4, OfferTitle: "Oven", Handle: "ed", Shares: 5, Amount: 500, Unit: "EUR",
		State: shares.WithdrawalPending, RequestedAt: at, DueAt: at}
	later := w
	later.DueAt = at.AddDate(0, 0, 10)
	done := w
	done.State, done.DecidedBy, done.DecidedAt = shares.WithdrawalApproved, "ada", &at
	sus := shares.Suspension{Suspended: true, Reason: "Resolution 2026/4", DecidedBy: "ada", DecidedAt: &at}
	rows := []withdrawalView{newWithdrawalView(w, at), newWithdrawalView(later, at), newWithdrawalView(done, at)}
	return []any{
		&withdrawalsPage{Coop: c, Nav: sharesNav(c, m), Secretary: true, Book: &shares.Book{All: true, Decisions: []shares.Suspension{{Reason: "x", DecidedBy: "ada", DecidedAt: &at}}},
			Withdrawals: rows, Reason: "r", Errors: map[string]string{"reason": "bad"}, Problem: "no", Done: "approved"},
		&withdrawalsPage{Coop: c, Nav: sharesNav(c, m), Secretary: true, Book: &shares.Book{All: true, Suspension: sus, Decisions: []shares.Suspension{sus}},
			Withdrawals: rows, Done: "suspended"},
		&withdrawalsPage{Coop: c, Nav: sharesNav(c, nil), Book: &shares.Book{}},
	}
}

// TestShareOfferPages runs an offer through the pages: opened by the
// board, a member's application, an outsider who registers, is paid in and
// applies, the close, holdings, the register, and a withdrawal through a
// suspension to its payment.
func TestShareOfferPages(t *testing.T) {
	srv, ada, bo := setUp(t)
	cy := newBrowser(t, srv)
	signUp(t, cy, "cy")
	pay := func(handle, amount string) {
		t.Helper()
		page := ada.get("/coops/river/books")
		form := url.Values{"id": {formID(t, page.body)}, "debit": {"external"}, "credit": {"member:" + handle}, "amount": {amount},
			"unit": {"EUR"}, "kind": {"payment"}}
		expect(t, "pay "+handle, ada.post("/coops/river/books", form), http.StatusSeeOther, "/coops/river/books?done=created")
	}
	pay("bo", "100")

	expect(t, "no offers", bo.get("/coops/river/offers"), http.StatusOK, "", "No share offer yet.", "!Open a share offer", "My shares")
	expect(t, "offers as ada", ada.get("/coops/river/offers"), http.StatusOK, "", "Open a share offer")
	expect(t, "form as bo", bo.get("/coops/river/offers/new"), http.StatusForbidden, "")
	expect(t, "form", ada.get("/coops/river/offers/new"), http.StatusOK, "", `name="max_shares"`, `value="1.00"`, "pro rata")
	offer := url.Values{"title": {"Oven"}, "description": {"A wood oven."}, "class": {"users"}, "par": {"1.00"}, "unit": {"EUR"},
		"min_shares": {"10"}, "optimum_shares": {"40"}, "max_shares": {"50"}, "member_min_shares": {"5"}, "member_max_shares": {"40"},
		"opens_at": {"2026-03-01T12:00"}, "closes_at": {"2026-03-20T12:00"}, "rule": {"pro_rata"}, "lock_in_days": {"0"}, "notice_days": {"0"}}
	expect(t, "bo opens", bo.post("/coops/river/offers/new", offer), http.StatusForbidden, "")
	expect(t, "bad par", ada.post("/coops/river/offers/new", with(offer, "par", "1.234")), http.StatusUnprocessableEntity, "",
		"give an amount such as", `value="Oven"`, `value="1.234"`, `aria-invalid="true"`)
	expect(t, "bad targets", ada.post("/coops/river/offers/new", with(offer, "optimum_shares", "60")), http.StatusUnprocessableEntity, "",
		"min_shares ≤ optimum_shares", `value="60"`)
	r := ada.post("/coops/river/offers/new", offer)
	expect(t, "open", r, http.StatusSeeOther, "/coops/river/offers/")
	path := strings.TrimSuffix(r.location, "?done=created")

	expect(t, "offer as bo", bo.get(path), http.StatusOK, "", "Oven", "100.00 EUR</strong> available", `name="shares"`, "<meter", "!style=",
		"!Close early")
	expect(t, "too few", bo.post(path+"/apply", url.Values{"shares": {"4"}}), http.StatusUnprocessableEntity, "", "apply for 5 to 40 shares", `value="4"`)
	expect(t, "not a number", bo.post(path+"/apply", url.Values{"shares": {"many"}}), http.StatusUnprocessableEntity, "", "whole number")
	expect(t, "apply", bo.post(path+"/apply", url.Values{"shares": {"40"}}), http.StatusSeeOther, path+"?done=applied")
	expect(t, "applied", bo.get(path+"?done=applied"), http.StatusOK, "", "your application is in", "<strong>40 shares</strong>", "Withdraw my application")

	expect(t, "visitor", newBrowser(t, srv).get(path), http.StatusOK, "", "Sign in</a> to apply", "!Register")
	expect(t, "outsider", cy.get(path), http.StatusOK, "", "Register as an applicant", "!name=\"shares\"")
	expect(t, "outsider applies", cy.post(path+"/apply", url.Values{"shares": {"10"}}), http.StatusForbidden, "", "register as an applicant first")
	expect(t, "register", cy.post(path+"/applicants", url.Values{}), http.StatusSeeOther, path+"?done=registered")
	expect(t, "registered", cy.get(path+"?done=registered"), http.StatusOK, "", "You are registered as an applicant", "0.00 EUR</strong> available",
		"<code>member:cy</code>")
	expect(t, "no money", cy.post(path+"/apply", url.Values{"shares": {"30"}}), http.StatusConflict, "", "not enough available", `value="30"`)
	pay("cy", "30")
	expect(t, "cy applies", cy.post(path+"/apply", url.Values{"shares": {"30"}}), http.StatusSeeOther, path)
	expect(t, "board's view", ada.get(path), http.StatusOK, "", "Close early and allot", "@cy", "@bo", "Oversubscribed")
	expect(t, "bo closes", bo.post(path+"/close", url.Values{}), http.StatusForbidden, "")
	expect(t, "close", ada.post(path+"/close", url.Values{}), http.StatusSeeOther, path+"?done=closed")
	// 70 for 50 pro rata: bo 28.57 → 29, cy 21.43 → 21.
	expect(t, "closed", bo.get(path+"?done=closed"), http.StatusOK, "", "<strong>50 shares</strong>", "29 shares issued")
	expect(t, "close again", ada.post(path+"/close", url.Values{}), http.StatusSeeOther, path)
	expect(t, "apply after", bo.post(path+"/apply", url.Values{"shares": {"5"}}), http.StatusConflict, "", "is closed")

	expect(t, "cy's shares", cy.get("/coops/river/shares"), http.StatusOK, "", "a member of River Bakery, class users", "21.00 EUR", "Ask for shares back")
	expect(t, "register", cy.get("/coops/river/shares/register"), http.StatusOK, "", "@cy", "@bo", "50", "50.00 EUR")
	expect(t, "ask too much", cy.post("/coops/river/shares/withdrawals", url.Values{"offer_id": {strings.TrimPrefix(path, "/coops/river/offers/")}, "shares": {"22"}}),
		http.StatusUnprocessableEntity, "", "at most 21 shares", `value="22"`)
	expect(t, "ask", cy.post("/coops/river/shares/withdrawals", url.Values{"offer_id": {strings.TrimPrefix(path, "/coops/river/offers/")}, "shares": {"21"}}),
		http.StatusSeeOther, "/coops/river/shares?done=requested")
	expect(t, "bo's withdrawals", bo.get("/coops/river/shares/withdrawals"), http.StatusOK, "", "No requests.", "!Suspend withdrawals")
	expect(t, "bo suspends", bo.post("/coops/river/shares/withdrawals/suspend", url.Values{"reason": {"x"}}), http.StatusForbidden, "")
	expect(t, "no reason", ada.post("/coops/river/shares/withdrawals/suspend", url.Values{"reason": {""}}), http.StatusUnprocessableEntity, "", "give the board")
	expect(t, "suspend", ada.post("/coops/river/shares/withdrawals/suspend", url.Values{"reason": {"Oven first"}}), http.StatusSeeOther,
		"/coops/river/shares/withdrawals?done=suspended")
	page := ada.get("/coops/river/shares/withdrawals")
	expect(t, "suspended", page, http.StatusOK, "", "The board suspended withdrawals", "Oven first", "@cy", "Resume withdrawals", "!Approve and pay")
	expect(t, "approve while suspended", ada.post("/coops/river/shares/withdrawals/1/approve", url.Values{}), http.StatusConflict, "", "suspended withdrawals")
	expect(t, "resume", ada.post("/coops/river/shares/withdrawals/resume", url.Values{"reason": {"Oven bought"}}), http.StatusSeeOther, "/coops/river/shares/withdrawals")
	expect(t, "approve", ada.post("/coops/river/shares/withdrawals/1/approve", url.Values{}), http.StatusSeeOther, "/coops/river/shares/withdrawals?done=approved")
	expect(t, "paid", cy.get("/coops/river/shares"), http.StatusOK, "", "You hold no shares", "approved by @ada")
	expect(t, "statement", cy.get("/coops/river/statement"), http.StatusOK, "", "21.00 EUR")
	expect(t, "other co-op", ada.get("/coops/nowhere/offers/1"), http.StatusNotFound, "")
	expect(t, "no offer", ada.get("/coops/river/offers/99"), http.StatusNotFound, "")
	expect(t, "bad id", ada.get("/coops/river/offers/x"), http.StatusNotFound, "")
	for _, p := range []string{path, "/coops/river/offers", "/coops/river/shares", "/coops/river/shares/register", "/coops/river/shares/withdrawals"} {
		if strings.Contains(ada.get(p).body, "style=") {
			t.Errorf("%s carries an inline style", p)
		}
	}
}
