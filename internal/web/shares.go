// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/shares"
)

// registerShares adds the pages for the share-offer routes (RULES.md 3.4).
func (h *handler) registerShares(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/offers", h.listOffers)
	handle("GET /coops/{slug}/offers/new", h.offerForm)
	handle("POST /coops/{slug}/offers/new", h.createOffer)
	handle("GET /coops/{slug}/offers/{id}", h.showOffer)
	handle("POST /coops/{slug}/offers/{id}/applicants", h.registerApplicant)
	handle("POST /coops/{slug}/offers/{id}/apply", h.applyForShares)
	handle("POST /coops/{slug}/offers/{id}/applications/{app}/withdraw", h.withdrawApplication)
	handle("POST /coops/{slug}/offers/{id}/close", h.closeOffer)
	handle("GET /coops/{slug}/shares", h.myShares)
	handle("POST /coops/{slug}/shares/withdrawals", h.requestWithdrawal)
	handle("GET /coops/{slug}/shares/register", h.shareRegister)
	handle("GET /coops/{slug}/shares/withdrawals", h.listWithdrawals)
	handle("POST /coops/{slug}/shares/withdrawals/suspend", h.decideWithdrawals(true))
	handle("POST /coops/{slug}/shares/withdrawals/resume", h.decideWithdrawals(false))
	handle("POST /coops/{slug}/shares/withdrawals/{id}/approve", h.approveWithdrawal)
	handle("POST /coops/{slug}/shares/withdrawals/{id}/reject", h.rejectWithdrawal)
}

// offerView is an offer with its amounts written out for the page.
type offerView struct {
	*shares.Offer
	ParText, MinText, OptimumText, MaxText, AppliedText, AllottedText string
	// Meter is the applied shares capped at the maximum, for <meter>;
	// Over is true when the offer is oversubscribed.
	Meter int64
	Over  bool
	// RuleText says the allotment rule in words.
	RuleText string
}

var ruleText = map[string]string{
	shares.FCFS:       "first come, first served: the earliest applications first",
	shares.ProRata:    "pro rata: in proportion to the shares applied for, never below the minimum holding while it can be kept for all",
	shares.CapLargest: "cap the largest: the largest applications are cut to one common cap",
}

func newOfferView(o *shares.Offer) offerView {
	u := o.Unit
	return offerView{Offer: o, ParText: formatAmount(o.Par, u), MinText: formatAmount(o.MinAmount, u),
		OptimumText: formatAmount(o.OptimumAmount, u), MaxText: formatAmount(o.MaxAmount, u),
		AppliedText: formatAmount(o.AppliedAmount, u), AllottedText: formatAmount(o.AllottedAmount, u),
		Meter: min(o.AppliedShares, o.MaxShares), Over: o.AppliedShares > o.MaxShares, RuleText: ruleText[o.Rule]}
}

// applicationView is an application with its amounts written out.
type applicationView struct {
	shares.Application
	AmountText, AllottedText string
}

func newApplicationView(p shares.Application) applicationView {
	return applicationView{Application: p, AmountText: formatAmount(p.Amount, p.Unit), AllottedText: formatAmount(p.AllottedAmount, p.Unit)}
}

// board is whether m runs share offers (a secretary or treasurer in good
// standing).
func board(m *coop.Member) bool { return m != nil && m.Active() && (m.Secretary || m.Treasurer) }

type offersPage struct {
	Coop   *coop.Coop
	Nav    []choice
	Member *coop.Member
	Board  bool
	Offers []offerView
}

// sharesNav links the share pages that m (nil: a visitor or outsider)
// may see.
func sharesNav(c *coop.Coop, m *coop.Member) []choice {
	base := "/coops/" + c.Slug
	nav := []choice{{base + "/offers", "Share offers"}}
	if m != nil && m.State != coop.StateLeft {
		nav = append(nav, choice{base + "/shares", "My shares"}, choice{base + "/shares/withdrawals", "Withdrawals"})
	}
	if m != nil && m.Active() {
		nav = append(nav, choice{base + "/shares/register", "Share register"})
	}
	return nav
}

// listOffers shows a co-op's share offers to anyone, with their progress.
func (h *handler) listOffers(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	os, err := h.Shares.Offers(r.Context(), c)
	if err != nil {
		return err
	}
	d := offersPage{Coop: c}
	if d.Member, err = h.optionalMember(r, c); err != nil {
		return err
	}
	d.Board, d.Nav = board(d.Member), sharesNav(c, d.Member)
	for _, o := range os {
		d.Offers = append(d.Offers, newOfferView(o))
	}
	return h.render(w, r, http.StatusOK, "offers", "Share offers", d)
}

// optionalMember is the signed-in visitor's membership of c, or nil.
func (h *handler) optionalMember(r *http.Request, c *coop.Coop) (*coop.Member, error) {
	me := h.optionalMe(r)
	if me == nil {
		return nil, nil
	}
	m, err := h.Coops.MemberOf(r.Context(), c, me.ID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// offerForm holds the new-offer form as typed.
type offerForm struct {
	Title, Description, Class, Unit, Par                      string
	MinShares, OptimumShares, MaxShares, MemberMin, MemberMax string
	OpensAt, ClosesAt, Rule, LockInDays, NoticeDays           string
}

type offerNewPage struct {
	Coop    *coop.Coop
	Form    offerForm
	Rules   []choice
	Errors  map[string]string
	Problem string
}

func (h *handler) offerForm(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return err
	}
	if !board(&m) {
		return fmt.Errorf("only a secretary or treasurer opens a share offer: %w", errs.ErrForbidden)
	}
	now := h.now()
	f := offerForm{Unit: c.Currency, Par: formatAmount(int64(pow10(minorDigits(c.Currency))), c.Currency), MemberMin: "1",
		OpensAt: now.Format(localInput), ClosesAt: now.Add(28 * 24 * time.Hour).Format(localInput), Rule: shares.ProRata,
		LockInDays: "1095", NoticeDays: "90"}
	f.Par = strings.TrimSuffix(f.Par, " "+c.Currency)
	if len(c.Classes) > 0 {
		f.Class = c.Classes[len(c.Classes)-1].Key
	}
	return h.render(w, r, http.StatusOK, "offer_new", "New share offer", offerNewPage{Coop: c, Form: f, Rules: ruleChoices()})
}

func ruleChoices() []choice {
	var out []choice
	for _, k := range shares.Rules {
		out = append(out, choice{k, ruleText[k]})
	}
	return out
}

// formCount reads a whole number field; empty is 0.
func formCount(v *errs.ValidationError, field, s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		v.Add(field, "give a whole number")
	}
	return n
}

func (h *handler) createOffer(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	get := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := offerForm{Title: get("title"), Description: get("description"), Class: get("class"), Unit: get("unit"), Par: get("par"),
		MinShares: get("min_shares"), OptimumShares: get("optimum_shares"), MaxShares: get("max_shares"),
		MemberMin: get("member_min_shares"), MemberMax: get("member_max_shares"), OpensAt: get("opens_at"), ClosesAt: get("closes_at"),
		Rule: get("rule"), LockInDays: get("lock_in_days"), NoticeDays: get("notice_days")}
	var v errs.ValidationError
	unit := f.Unit
	if unit == "" {
		unit = c.Currency
	}
	n := shares.NewOffer{Title: f.Title, Description: f.Description, Class: f.Class, Unit: f.Unit,
		Par: formAmount(&v, "par", f.Par, unit), MinShares: formCount(&v, "min_shares", f.MinShares),
		OptimumShares: formCount(&v, "optimum_shares", f.OptimumShares), MaxShares: formCount(&v, "max_shares", f.MaxShares),
		MemberMinShares: formCount(&v, "member_min_shares", f.MemberMin), MemberMaxShares: formCount(&v, "member_max_shares", f.MemberMax),
		ClosesAt: formTime(&v, "closes_at", f.ClosesAt), Rule: f.Rule,
		LockInDays: int(formCount(&v, "lock_in_days", f.LockInDays)), NoticeDays: int(formCount(&v, "notice_days", f.NoticeDays))}
	if f.OpensAt != "" {
		t := formTime(&v, "opens_at", f.OpensAt)
		n.OpensAt = &t
	}
	if f.ClosesAt == "" {
		v.Add("closes_at", "give the date and time the window closes")
	}
	var o *shares.Offer
	if err = v.Err(); err == nil {
		o, err = h.Shares.CreateOffer(r.Context(), c, me, n)
	}
	if err != nil {
		status, fields, problem, err := formProblem(err)
		if err != nil {
			return err
		}
		return h.render(w, r, status, "offer_new", "New share offer",
			offerNewPage{Coop: c, Form: f, Rules: ruleChoices(), Errors: fields, Problem: problem})
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/offers/%d?done=created", c.Slug, o.ID))
}

type offerPage struct {
	Coop   *coop.Coop
	O      offerView
	Me     *auth.Account
	Member *coop.Member
	// Board may close the offer (Secretary also early) and sees every
	// application.
	Board, Secretary bool
	// Mine are the caller's applications to this offer, Live the pending
	// one if any.
	Mine []applicationView
	Live *applicationView
	// Available is what the caller has available in the offer's unit.
	Available    string
	Applications []applicationView
	Shares       string
	Errors       map[string]string
	Problem      string
	Done         string
}

func (h *handler) showOffer(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	id, err := pathInt64(r, "id", "share offer")
	if err != nil {
		return err
	}
	d, err := h.offerPage(r, c, id)
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("done")
	return h.render(w, r, http.StatusOK, "offer_show", d.O.Title, d)
}

func (h *handler) offerPage(r *http.Request, c *coop.Coop, id int64) (*offerPage, error) {
	o, err := h.Shares.Offer(r.Context(), c, id)
	if err != nil {
		return nil, err
	}
	d := &offerPage{Coop: c, O: newOfferView(o), Me: h.optionalMe(r)}
	if d.Me == nil {
		return d, nil
	}
	if d.Member, err = h.optionalMember(r, c); err != nil {
		return nil, err
	}
	d.Board = board(d.Member)
	d.Secretary = d.Board && d.Member.Secretary
	if d.Board {
		ps, err := h.Shares.Applications(r.Context(), c, *d.Me, id)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			d.Applications = append(d.Applications, newApplicationView(p))
		}
	}
	if d.Member == nil {
		return d, nil
	}
	p, err := h.Shares.Mine(r.Context(), c, *d.Me)
	if err != nil {
		return nil, err
	}
	for _, a := range p.Applications {
		if a.OfferID != id {
			continue
		}
		v := newApplicationView(a)
		d.Mine = append(d.Mine, v)
		if a.State == shares.AppPending {
			d.Live = &v
		}
	}
	accts, err := h.Ledger.Accounts(r.Context(), c, "member:"+d.Me.Handle)
	if err != nil {
		return nil, err
	}
	d.Available = formatAmount(0, o.Unit)
	for _, a := range accts {
		if a.Unit == o.Unit {
			d.Available = formatAmount(a.Available, o.Unit)
		}
	}
	return d, nil
}

// offerRefused re-renders the offer page with what was refused.
func (h *handler) offerRefused(w http.ResponseWriter, r *http.Request, c *coop.Coop, id int64, typed string, err error) error {
	status, fields, problem, err := formProblem(err)
	if err != nil {
		return err
	}
	d, derr := h.offerPage(r, c, id)
	if derr != nil {
		return derr
	}
	d.Shares, d.Errors, d.Problem = typed, fields, problem
	return h.render(w, r, status, "offer_show", d.O.Title, d)
}

func (h *handler) registerApplicant(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "share offer")
	if err != nil {
		return err
	}
	if _, _, err := h.Shares.RegisterApplicant(r.Context(), c, me, id); err != nil {
		return h.offerRefused(w, r, c, id, "", err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/offers/%d?done=registered", c.Slug, id))
}

func (h *handler) applyForShares(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "share offer")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	typed := strings.TrimSpace(r.PostForm.Get("shares"))
	var v errs.ValidationError
	n := formCount(&v, "shares", typed)
	if typed == "" {
		v.Add("shares", "give how many shares")
	}
	if err = v.Err(); err == nil {
		_, _, err = h.Shares.Apply(r.Context(), c, me, id, n)
	}
	if err != nil {
		return h.offerRefused(w, r, c, id, typed, err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/offers/%d?done=applied", c.Slug, id))
}

func (h *handler) withdrawApplication(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "share offer")
	if err != nil {
		return err
	}
	app, err := pathInt64(r, "app", "application")
	if err != nil {
		return err
	}
	if _, _, err := h.Shares.WithdrawApplication(r.Context(), c, me, id, app); err != nil {
		return h.offerRefused(w, r, c, id, "", err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/offers/%d?done=withdrawn", c.Slug, id))
}

func (h *handler) closeOffer(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "share offer")
	if err != nil {
		return err
	}
	if _, _, err := h.Shares.Close(r.Context(), c, me, id); err != nil {
		return h.offerRefused(w, r, c, id, "", err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/offers/%d?done=closed", c.Slug, id))
}

// holdingView is a holding with its amounts written out and whether its
// lock-in has ended.
type holdingView struct {
	shares.Holding
	AmountText, ParText string
	Locked              bool
}

type withdrawalView struct {
	shares.Withdrawal
	AmountText string
	// Due is true once the notice has run.
	Due bool
}

func newWithdrawalView(w shares.Withdrawal, now time.Time) withdrawalView {
	return withdrawalView{Withdrawal: w, AmountText: formatAmount(w.Amount, w.Unit), Due: !now.Before(w.DueAt)}
}

type sharesPage struct {
	Coop         *coop.Coop
	Nav          []choice
	P            *shares.Portfolio
	Holdings     []holdingView
	Applications []applicationView
	Withdrawals  []withdrawalView
	// OfferID and Shares are the withdrawal form as typed.
	OfferID, Shares string
	Errors          map[string]string
	Problem         string
	Done            string
}

// myShares shows the caller's holdings, applications and withdrawal
// requests, with a form to ask for shares back.
func (h *handler) myShares(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	d, err := h.sharesPage(r, c, me)
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("done")
	return h.render(w, r, http.StatusOK, "shares", "My shares", d)
}

func (h *handler) sharesPage(r *http.Request, c *coop.Coop, me auth.Account) (*sharesPage, error) {
	p, err := h.Shares.Mine(r.Context(), c, me)
	if err != nil {
		return nil, err
	}
	now := h.now()
	d := &sharesPage{Coop: c, P: p, Nav: sharesNav(c, p.Member)}
	for _, x := range p.Holdings {
		d.Holdings = append(d.Holdings, holdingView{Holding: x, AmountText: formatAmount(x.Amount, x.Unit),
			ParText: formatAmount(x.Par, x.Unit), Locked: now.Before(x.UnlocksAt)})
	}
	for _, a := range p.Applications {
		d.Applications = append(d.Applications, newApplicationView(a))
	}
	for _, x := range p.Withdrawals {
		d.Withdrawals = append(d.Withdrawals, newWithdrawalView(x, now))
	}
	return d, nil
}

func (h *handler) requestWithdrawal(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	offer, typed := strings.TrimSpace(r.PostForm.Get("offer_id")), strings.TrimSpace(r.PostForm.Get("shares"))
	var v errs.ValidationError
	id, n := formCount(&v, "offer_id", offer), formCount(&v, "shares", typed)
	if id <= 0 {
		v.Add("offer_id", "choose a holding")
	}
	if err = v.Err(); err == nil {
		_, err = h.Shares.RequestWithdrawal(r.Context(), c, me, id, n)
	}
	if err != nil {
		status, fields, problem, err := formProblem(err)
		if err != nil {
			return err
		}
		d, derr := h.sharesPage(r, c, me)
		if derr != nil {
			return derr
		}
		d.OfferID, d.Shares, d.Errors, d.Problem = offer, typed, fields, problem
		return h.render(w, r, status, "shares", "My shares", d)
	}
	return redirect(w, r, "/coops/"+c.Slug+"/shares?done=requested")
}

type holderView struct {
	shares.Holder
	AmountText string
}

type totalView struct {
	shares.ClassTotal
	AmountText string
}

type registerPage struct {
	Coop    *coop.Coop
	Nav     []choice
	Holders []holderView
	Totals  []totalView
}

// shareRegister shows the share register to members.
func (h *handler) shareRegister(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	reg, err := h.Shares.ShareRegister(r.Context(), c, me)
	if err != nil {
		return err
	}
	m, err := h.optionalMember(r, c)
	if err != nil {
		return err
	}
	d := registerPage{Coop: c, Nav: sharesNav(c, m)}
	for _, x := range reg.Holders {
		d.Holders = append(d.Holders, holderView{Holder: x, AmountText: formatAmount(x.Amount, x.Unit)})
	}
	for _, t := range reg.Totals {
		d.Totals = append(d.Totals, totalView{ClassTotal: t, AmountText: formatAmount(t.Amount, t.Unit)})
	}
	return h.render(w, r, http.StatusOK, "shares_register", "Share register", d)
}

type withdrawalsPage struct {
	Coop        *coop.Coop
	Nav         []choice
	Book        *shares.Book
	Withdrawals []withdrawalView
	// Secretary decides requests and suspensions.
	Secretary bool
	Reason    string
	Errors    map[string]string
	Problem   string
	Done      string
}

// listWithdrawals shows withdrawal requests — the board sees everyone's
// and decides them — and the board's decisions on suspending them.
func (h *handler) listWithdrawals(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	d, err := h.withdrawalsPage(r, c, me)
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("done")
	return h.render(w, r, http.StatusOK, "shares_withdrawals", "Withdrawals", d)
}

func (h *handler) withdrawalsPage(r *http.Request, c *coop.Coop, me auth.Account) (*withdrawalsPage, error) {
	b, err := h.Shares.Withdrawals(r.Context(), c, me)
	if err != nil {
		return nil, err
	}
	d := &withdrawalsPage{Coop: c, Book: b}
	m, err := h.optionalMember(r, c)
	if err != nil {
		return nil, err
	}
	d.Secretary, d.Nav = m != nil && m.Active() && m.Secretary, sharesNav(c, m)
	now := h.now()
	for _, x := range b.Withdrawals {
		d.Withdrawals = append(d.Withdrawals, newWithdrawalView(x, now))
	}
	return d, nil
}

// withdrawalsRefused re-renders the withdrawals page with what was refused.
func (h *handler) withdrawalsRefused(w http.ResponseWriter, r *http.Request, c *coop.Coop, me auth.Account, reason string, err error) error {
	status, fields, problem, err := formProblem(err)
	if err != nil {
		return err
	}
	d, derr := h.withdrawalsPage(r, c, me)
	if derr != nil {
		return derr
	}
	d.Reason, d.Errors, d.Problem = reason, fields, problem
	return h.render(w, r, status, "shares_withdrawals", "Withdrawals", d)
}

func (h *handler) decideWithdrawals(suspend bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		me, c, err := h.caller(r)
		if err != nil {
			return err
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		reason := strings.TrimSpace(r.PostForm.Get("reason"))
		if _, err := h.Shares.SuspendWithdrawals(r.Context(), c, me, suspend, reason); err != nil {
			return h.withdrawalsRefused(w, r, c, me, reason, err)
		}
		done := map[bool]string{true: "suspended", false: "resumed"}[suspend]
		return redirect(w, r, "/coops/"+c.Slug+"/shares/withdrawals?done="+done)
	}
}

func (h *handler) approveWithdrawal(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "withdrawal request")
	if err != nil {
		return err
	}
	if _, _, err := h.Shares.ApproveWithdrawal(r.Context(), c, me, id); err != nil {
		return h.withdrawalsRefused(w, r, c, me, "", err)
	}
	return redirect(w, r, "/coops/"+c.Slug+"/shares/withdrawals?done=approved")
}

func (h *handler) rejectWithdrawal(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "withdrawal request")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if _, _, err := h.Shares.RejectWithdrawal(r.Context(), c, me, id, reason); err != nil {
		return h.withdrawalsRefused(w, r, c, me, "", err)
	}
	return redirect(w, r, "/coops/"+c.Slug+"/shares/withdrawals?done=rejected")
}
