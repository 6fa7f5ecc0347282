// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/shares"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// world is a co-op, mill (somerset: workers, users, supporters), founded
// by ada (secretary and treasurer), with bo, cy and di members of users
// and ed and fay not members at all; every account but fay's holds money.
type world struct {
	t      *testing.T
	db     *store.DB
	auth   *auth.Service
	coops  *coop.Service
	ledger *ledger.Service
	shares *shares.Service
	coop   *coop.Coop
	people map[string]auth.Account

	mu  sync.Mutex
	now time.Time
}

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }

func (w *world) set(t time.Time) { w.mu.Lock(); w.now = t; w.mu.Unlock() }

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, db: storetest.Open(t), now: t0, people: map[string]auth.Account{}}
	w.auth = auth.NewService(w.db, w.clock)
	w.coops = &coop.Service{DB: w.db, Now: w.clock}
	w.ledger = &ledger.Service{DB: w.db, Coops: w.coops, Now: w.clock}
	w.shares = &shares.Service{DB: w.db, Coops: w.coops, Ledger: w.ledger, Now: w.clock}
	w.ledger.Owners = map[string]ledger.OwnerCheck{"offer": w.shares.OwnerExists}
	for _, h := range []string{"ada", "bo", "cy", "di", "ed", "fay"} {
		a, err := w.auth.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
		if err != nil {
			t.Fatal(err)
		}
		w.people[h] = a
	}
	w.coop = w.found("mill", "ada")
	for _, h := range []string{"bo", "cy", "di"} {
		w.join(w.coop, h, "users")
	}
	for _, h := range []string{"ada", "bo", "cy", "di"} {
		w.fund(w.coop, h, 100_000)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			w.check()
		}
	})
	return w
}

func (w *world) found(slug, by string) *coop.Coop {
	w.t.Helper()
	c, err := w.coops.Found(context.Background(), w.people[by], coop.NewCoop{Slug: slug, Name: "Co-op " + slug, Purpose: "Flour.",
		Preset: "somerset", FounderClass: "workers"})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) join(c *coop.Coop, handle, class string) {
	w.t.Helper()
	ctx := context.Background()
	inv, err := w.coops.Invite(ctx, c, w.secretary(c), coop.NewInvitation{Class: class})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.coops.Join(ctx, c, w.people[handle], inv.Code); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) secretary(c *coop.Coop) auth.Account {
	if c.Slug == "mill" {
		return w.people["ada"]
	}
	return w.people["fay"]
}

// fund records, as the treasurer, a payment received from outside.
func (w *world) fund(c *coop.Coop, handle string, amount int64) {
	w.t.Helper()
	_, _, err := w.ledger.Submit(context.Background(), c, w.secretary(c), []ledger.Request{{ID: fmt.Sprintf("pay-%s-%d-%d", handle, amount, w.clock().UnixNano()),
		Debit: "external", Credit: "member:" + handle, Amount: amount, Kind: "payment"}})
	if err != nil {
		w.t.Fatalf("fund %s: %v", handle, err)
	}
}

// balance returns owner's balance and available amount in EUR.
func (w *world) balance(owner string) (bal, avail int64) {
	w.t.Helper()
	accts, err := w.ledger.Accounts(context.Background(), w.coop, owner)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range accts {
		return a.Balance, a.Available
	}
	return 0, 0
}

func (w *world) check() {
	w.t.Helper()
	for _, c := range []*coop.Coop{w.coop} {
		rep, err := w.ledger.Check(context.Background(), c)
		if err != nil || !rep.OK {
			w.t.Errorf("ledger check of %s: %v %+v", c.Slug, err, rep)
		}
	}
	if rep, err := audit.Verify(context.Background(), w.db); err != nil || rep.Problem != nil {
		w.t.Errorf("audit verify: %v %+v", err, rep.Problem)
	}
}

// offer opens an offer of supporters' shares at par 100 (1.00 EUR),
// window now to now+7 days, with the defaults below changed by edit.
func (w *world) offer(edit func(n *shares.NewOffer)) *shares.Offer {
	w.t.Helper()
	closes := w.clock().Add(7 * 24 * time.Hour)
	n := shares.NewOffer{Title: "Mill roof", Class: "supporters", Par: 100, MinShares: 10, OptimumShares: 50, MaxShares: 100,
		MemberMinShares: 1, MemberMaxShares: 100, ClosesAt: closes, Rule: shares.ProRata, LockInDays: 365, NoticeDays: 90}
	if edit != nil {
		edit(&n)
	}
	o, err := w.shares.CreateOffer(context.Background(), w.coop, w.people["ada"], n)
	if err != nil {
		w.t.Fatalf("CreateOffer: %v", err)
	}
	return o
}

func (w *world) apply(handle string, o *shares.Offer, n int64) *shares.Application {
	w.t.Helper()
	p, created, err := w.shares.Apply(context.Background(), w.coop, w.people[handle], o.ID, n)
	if err != nil || !created {
		w.t.Fatalf("Apply(%s, %d) = %v, %v", handle, n, created, err)
	}
	return p
}

func (w *world) close(o *shares.Offer) *shares.Closed {
	w.t.Helper()
	w.set(o.ClosesAt)
	out, created, err := w.shares.Close(context.Background(), w.coop, w.people["ada"], o.ID)
	if err != nil || !created {
		w.t.Fatalf("Close = %v, %v", created, err)
	}
	return out
}

func allotted(c *shares.Closed) map[string]int64 {
	out := map[string]int64{}
	for _, p := range c.Applications {
		out[p.Handle] = p.AllottedShares
	}
	return out
}

func wantErr(t *testing.T, call string, err, kind error) {
	t.Helper()
	if kind == nil {
		if _, ok := errors.AsType[*errs.ValidationError](err); !ok {
			t.Errorf("%s = %v, want a validation error", call, err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s = %v, want %v", call, err, kind)
	}
}

// count returns the rows of table.
func (w *world) count(table string) int {
	w.t.Helper()
	var n int
	if err := w.db.Read().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestOfferValidation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	past := t0.Add(-time.Hour)
	before := w.count("audit_events")
	for _, tc := range []struct {
		name  string
		edit  func(n *shares.NewOffer)
		field string
	}{
		{"no title", func(n *shares.NewOffer) { n.Title = " " }, "title"},
		{"unknown class", func(n *shares.NewOffer) { n.Class = "investors" }, "class"},
		{"bad unit", func(n *shares.NewOffer) { n.Unit = "euro" }, "unit"},
		{"no par", func(n *shares.NewOffer) { n.Par = 0 }, "par"},
		{"optimum above max", func(n *shares.NewOffer) { n.OptimumShares = 101 }, "optimum_shares"},
		{"min above optimum", func(n *shares.NewOffer) { n.MinShares = 60 }, "optimum_shares"},
		{"negative min", func(n *shares.NewOffer) { n.MinShares = -1 }, "min_shares"},
		{"no max", func(n *shares.NewOffer) { n.MaxShares, n.OptimumShares, n.MinShares = 0, 0, 0 }, "max_shares"},
		{"too much money", func(n *shares.NewOffer) { n.Par = 1 << 40; n.MaxShares = 1 << 20 }, "max_shares"},
		{"member min 0", func(n *shares.NewOffer) { n.MemberMinShares = 0 }, "member_min_shares"},
		{"member max below min", func(n *shares.NewOffer) { n.MemberMinShares = 5; n.MemberMaxShares = 4 }, "member_max_shares"},
		{"member max above max", func(n *shares.NewOffer) { n.MemberMaxShares = 101 }, "member_max_shares"},
		{"minimum unreachable", func(n *shares.NewOffer) { n.MinShares, n.OptimumShares, n.MemberMinShares = 100, 100, 2 }, "min_shares"},
		{"closes in the past", func(n *shares.NewOffer) { n.ClosesAt = past }, "closes_at"},
		{"closes before it opens", func(n *shares.NewOffer) { o := n.ClosesAt.Add(time.Hour); n.OpensAt = &o }, "closes_at"},
		{"closes too late", func(n *shares.NewOffer) { n.ClosesAt = t0.AddDate(3, 0, 0) }, "closes_at"},
		{"unknown rule", func(n *shares.NewOffer) { n.Rule = "lottery" }, "rule"},
		{"negative lock-in", func(n *shares.NewOffer) { n.LockInDays = -1 }, "lock_in_days"},
		{"endless notice", func(n *shares.NewOffer) { n.NoticeDays = shares.MaxNoticeDays + 1 }, "notice_days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := shares.NewOffer{Title: "Roof", Class: "supporters", Par: 100, MinShares: 10, OptimumShares: 50, MaxShares: 100,
				MemberMinShares: 1, MemberMaxShares: 100, ClosesAt: t0.Add(time.Hour), Rule: shares.FCFS}
			tc.edit(&n)
			_, err := w.shares.CreateOffer(ctx, w.coop, w.people["ada"], n)
			v, ok := errors.AsType[*errs.ValidationError](err)
			if !ok || v.Fields[tc.field] == "" {
				t.Errorf("CreateOffer(%s) = %v, want a complaint about %s", tc.name, err, tc.field)
			}
		})
	}
	if n := w.count("share_offers"); n != 0 {
		t.Errorf("%d offers written by bad requests", n)
	}
	if n := w.count("audit_events"); n != before {
		t.Errorf("audit events %d → %d after bad requests", before, n)
	}
}

func TestPermissions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	n := shares.NewOffer{Title: "Roof", Class: "supporters", Par: 100, MaxShares: 10, OptimumShares: 10, MemberMinShares: 1,
		MemberMaxShares: 10, ClosesAt: t0.Add(time.Hour), Rule: shares.FCFS}
	_, err := w.shares.CreateOffer(ctx, w.coop, w.people["bo"], n)
	wantErr(t, "CreateOffer by a plain member", err, errs.ErrForbidden)
	_, err = w.shares.CreateOffer(ctx, w.coop, w.people["ed"], n)
	wantErr(t, "CreateOffer by an outsider", err, errs.ErrForbidden)

	// cy becomes a treasurer only: she creates offers and closes them after
	// the window, not before.
	tr := true
	if _, err := w.coops.UpdateMember(ctx, w.coop, w.people["ada"], "cy", coop.MemberUpdate{Treasurer: &tr}); err != nil {
		t.Fatal(err)
	}
	o, err := w.shares.CreateOffer(ctx, w.coop, w.people["cy"], n)
	if err != nil {
		t.Fatalf("CreateOffer by a treasurer: %v", err)
	}
	w.apply("bo", o, 4)
	_, _, err = w.shares.Close(ctx, w.coop, w.people["bo"], o.ID)
	wantErr(t, "Close by a plain member", err, errs.ErrForbidden)
	_, _, err = w.shares.Close(ctx, w.coop, w.people["cy"], o.ID)
	wantErr(t, "early Close by a treasurer", err, errs.ErrForbidden)
	_, err = w.shares.Applications(ctx, w.coop, w.people["bo"], o.ID)
	wantErr(t, "Applications by a plain member", err, errs.ErrForbidden)
	if ps, err := w.shares.Applications(ctx, w.coop, w.people["cy"], o.ID); err != nil || len(ps) != 1 {
		t.Errorf("Applications by a treasurer = %v, %v", ps, err)
	}
	// Only the applicant withdraws her application.
	ps, _ := w.shares.Applications(ctx, w.coop, w.people["ada"], o.ID)
	_, _, err = w.shares.WithdrawApplication(ctx, w.coop, w.people["di"], o.ID, ps[0].ID)
	wantErr(t, "WithdrawApplication by another", err, errs.ErrForbidden)
	// The register is for members.
	_, err = w.shares.ShareRegister(ctx, w.coop, w.people["ed"])
	wantErr(t, "ShareRegister by an outsider", err, errs.ErrForbidden)

	w.set(o.ClosesAt)
	if _, created, err := w.shares.Close(ctx, w.coop, w.people["cy"], o.ID); err != nil || !created {
		t.Errorf("Close by a treasurer after the window = %v, %v", created, err)
	}
	// Deciding withdrawals and suspending them is the board's: secretaries.
	_, err = w.shares.SuspendWithdrawals(ctx, w.coop, w.people["cy"], true, "cash is short")
	wantErr(t, "SuspendWithdrawals by a treasurer", err, errs.ErrForbidden)
	_, _, err = w.shares.ApproveWithdrawal(ctx, w.coop, w.people["cy"], 1)
	wantErr(t, "ApproveWithdrawal by a treasurer", err, errs.ErrForbidden)
}

func TestEarlyCloseByTheBoard(t *testing.T) {
	w := newWorld(t)
	o := w.offer(nil)
	w.apply("bo", o, 30)
	out, created, err := w.shares.Close(context.Background(), w.coop, w.people["ada"], o.ID)
	if err != nil || !created || out.Offer.State != shares.StateAllotted || out.Offer.AllottedShares != 30 {
		t.Fatalf("early Close by a secretary = %+v, %v, %v", out, created, err)
	}
	_, _, err = w.shares.Apply(context.Background(), w.coop, w.people["cy"], o.ID, 5)
	wantErr(t, "Apply after an early close", err, errs.ErrConflict)
}

func TestWindow(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	opens := t0.Add(24 * time.Hour)
	o := w.offer(func(n *shares.NewOffer) { n.OpensAt = &opens })
	if o.Phase != shares.PhaseUpcoming {
		t.Errorf("phase before the window = %s", o.Phase)
	}
	_, _, err := w.shares.Apply(ctx, w.coop, w.people["bo"], o.ID, 5)
	wantErr(t, "Apply before the window", err, errs.ErrConflict)
	w.advance(24 * time.Hour)
	p := w.apply("bo", o, 5)
	w.set(o.ClosesAt.Add(-time.Microsecond))
	w.apply("cy", o, 5)
	w.set(o.ClosesAt)
	_, _, err = w.shares.Apply(ctx, w.coop, w.people["di"], o.ID, 5)
	wantErr(t, "Apply at the close of the window", err, errs.ErrConflict)
	_, _, err = w.shares.WithdrawApplication(ctx, w.coop, w.people["bo"], o.ID, p.ID)
	wantErr(t, "WithdrawApplication after the window", err, errs.ErrConflict)
	if got, _ := w.shares.Offer(ctx, w.coop, o.ID); got.Phase != shares.PhaseEnded || got.AppliedShares != 10 || got.Applications != 2 {
		t.Errorf("offer after the window: phase %s, applied %d by %d", got.Phase, got.AppliedShares, got.Applications)
	}
	// The scheduler closes it.
	if n, err := w.shares.CloseDue(ctx); err != nil || n != 1 {
		t.Errorf("CloseDue = %d, %v", n, err)
	}
	if n, err := w.shares.CloseDue(ctx); err != nil || n != 0 {
		t.Errorf("CloseDue again = %d, %v", n, err)
	}
	got, _ := w.shares.Offer(ctx, w.coop, o.ID)
	if got.State != shares.StateAllotted || got.ClosedBy != "system" || got.AllottedShares != 10 {
		t.Errorf("offer closed by the scheduler: %+v", got)
	}
}

// TestBelowMinimumRefunds closes an offer that raised less than its
// minimum: every reservation is voided and every balance is as before.
func TestBelowMinimumRefunds(t *testing.T) {
	w := newWorld(t)
	o := w.offer(func(n *shares.NewOffer) { n.MinShares = 50 })
	w.apply("bo", o, 20)
	w.apply("cy", o, 29)
	if _, avail := w.balance("member:bo"); avail != 100_000-2000 {
		t.Errorf("bo's available while applied = %d", avail)
	}
	out := w.close(o)
	if out.Offer.State != shares.StateFailed || out.Offer.AllottedShares != 0 || out.Offer.AppliedShares != 49 {
		t.Errorf("closed offer = %+v", out.Offer)
	}
	for _, p := range out.Applications {
		if p.State != shares.AppRefunded || p.AllottedShares != 0 {
			t.Errorf("application of %s = %s, %d allotted", p.Handle, p.State, p.AllottedShares)
		}
	}
	for _, h := range []string{"bo", "cy"} {
		if bal, avail := w.balance("member:" + h); bal != 100_000 || avail != 100_000 {
			t.Errorf("%s after the refund: balance %d, available %d, want 100000", h, bal, avail)
		}
	}
	if bal, _ := w.balance(shares.Owner(o.ID)); bal != 0 {
		t.Errorf("escrow after the refund = %d", bal)
	}
	if bal, _ := w.balance(shares.Capital); bal != 0 {
		t.Errorf("capital after the refund = %d", bal)
	}
	if w.count("share_register") != 0 {
		t.Errorf("shares issued by a failed offer")
	}
}

// TestUpToMaximum issues every share applied for, admits the applicant
// and moves the money to the capital.
func TestUpToMaximum(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o := w.offer(nil)
	// ed is not a member: he must register as an applicant, be paid in by
	// the treasurer, then apply.
	_, _, err := w.shares.Apply(ctx, w.coop, w.people["ed"], o.ID, 10)
	wantErr(t, "Apply by an outsider", err, errs.ErrForbidden)
	m, created, err := w.shares.RegisterApplicant(ctx, w.coop, w.people["ed"], o.ID)
	if err != nil || !created || m.State != coop.StateApplicant || m.Class != "supporters" {
		t.Fatalf("RegisterApplicant = %+v, %v, %v", m, created, err)
	}
	if _, created, err := w.shares.RegisterApplicant(ctx, w.coop, w.people["ed"], o.ID); err != nil || created {
		t.Errorf("RegisterApplicant again = %v, %v", created, err)
	}
	if m, created, err := w.shares.RegisterApplicant(ctx, w.coop, w.people["bo"], o.ID); err != nil || created || m.Class != "users" {
		t.Errorf("RegisterApplicant of a member = %+v, %v, %v", m, created, err)
	}
	_, _, err = w.shares.Apply(ctx, w.coop, w.people["ed"], o.ID, 10)
	wantErr(t, "Apply without money", err, errs.ErrConflict)
	w.fund(w.coop, "ed", 5000)
	w.apply("ed", o, 40)
	w.apply("bo", o, 60)
	out := w.close(o)
	if out.Offer.State != shares.StateAllotted || out.Offer.AllottedShares != 100 || out.Offer.AllottedAmount != 10_000 {
		t.Errorf("closed offer = %+v", out.Offer)
	}
	if got := allotted(out); got["ed"] != 40 || got["bo"] != 60 {
		t.Errorf("allotted = %v", got)
	}
	if bal, _ := w.balance("member:ed"); bal != 1000 {
		t.Errorf("ed's balance = %d, want 1000", bal)
	}
	if bal, _ := w.balance(shares.Capital); bal != 10_000 {
		t.Errorf("capital = %d, want 10000", bal)
	}
	if bal, avail := w.balance(shares.Owner(o.ID)); bal != 0 || avail != 0 {
		t.Errorf("escrow = %d/%d, want empty", bal, avail)
	}
	// ed is a member of the supporters now, one vote like everyone; bo
	// keeps his class.
	if m, _ := w.coops.MemberOf(ctx, w.coop, w.people["ed"].ID); m.State != coop.StateMember || m.Class != "supporters" || m.Weight != 1 {
		t.Errorf("ed after the issue = %+v", m)
	}
	if m, _ := w.coops.MemberOf(ctx, w.coop, w.people["bo"].ID); m.Class != "users" {
		t.Errorf("bo after the issue = %+v", m)
	}
	reg, err := w.shares.ShareRegister(ctx, w.coop, w.people["ed"])
	if err != nil || len(reg.Holders) != 2 || len(reg.Totals) != 1 || reg.Totals[0].Shares != 100 || reg.Totals[0].Amount != 10_000 {
		t.Errorf("register = %+v, %v", reg, err)
	}
	mine, err := w.shares.Mine(ctx, w.coop, w.people["ed"])
	if err != nil || len(mine.Holdings) != 1 || mine.Holdings[0].Shares != 40 || mine.Holdings[0].Withdrawable != 0 ||
		!mine.Holdings[0].UnlocksAt.Equal(o.ClosesAt.AddDate(0, 0, 365)) {
		t.Errorf("ed's portfolio = %+v, %v", mine, err)
	}
	// ed holds 40 of the class: a new offer capped at 50 a holding takes 10 more.
	o2 := w.offer(func(n *shares.NewOffer) { n.MemberMaxShares = 50 })
	_, _, err = w.shares.Apply(ctx, w.coop, w.people["ed"], o2.ID, 11)
	wantErr(t, "Apply above the holding cap", err, nil)
	w.apply("ed", o2, 10)
}

// TestAboveMaximum scales the same oversubscribed offer back by each
// rule: 140 shares applied for 100, in the order bo 60, cy 50, di 20,
// ada 10 (per-member minimum 10).
func TestAboveMaximum(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want map[string]int64
	}{
		// 60, then 40 of 50: nothing left for di and ada.
		{shares.FCFS, map[string]int64{"bo": 60, "cy": 40, "di": 0, "ada": 0}},
		// 100/140: 42.86, 35.71, 14.29, 7.14 < 10 → ada raised to 10; the
		// other 90 shared 60:50:20 → 41.54, 34.62, 13.85: floors 41+34+13 =
		// 88, the 2 left to .85 (di) and .62 (cy).
		{shares.ProRata, map[string]int64{"bo": 41, "cy": 35, "di": 14, "ada": 10}},
		// Cap 35: 35+35+20+10 = 100.
		{shares.CapLargest, map[string]int64{"bo": 35, "cy": 35, "di": 20, "ada": 10}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			w := newWorld(t)
			o := w.offer(func(n *shares.NewOffer) { n.Rule, n.MemberMinShares, n.MinShares = tc.rule, 10, 50 })
			for _, a := range []struct {
				h string
				n int64
			}{{"bo", 60}, {"cy", 50}, {"di", 20}, {"ada", 10}} {
				w.apply(a.h, o, a.n)
			}
			out := w.close(o)
			if got := allotted(out); !mapsEqual(got, tc.want) {
				t.Errorf("%s allotted %v, want %v", tc.rule, got, tc.want)
			}
			var sum int64
			for h, n := range tc.want {
				sum += n
				if bal, avail := w.balance("member:" + h); bal != 100_000-100*n || avail != bal {
					t.Errorf("%s: balance %d, available %d, want %d", h, bal, avail, 100_000-100*n)
				}
			}
			if out.Offer.AllottedShares != sum {
				t.Errorf("allotted_shares = %d, want %d", out.Offer.AllottedShares, sum)
			}
			if bal, _ := w.balance(shares.Capital); bal != 100*sum {
				t.Errorf("capital = %d, want %d", bal, 100*sum)
			}
			if bal, avail := w.balance(shares.Owner(o.ID)); bal != 0 || avail != 0 {
				t.Errorf("escrow = %d/%d, want empty", bal, avail)
			}
			for _, p := range out.Applications {
				want := shares.AppAllotted
				if tc.want[p.Handle] == 0 {
					want = shares.AppRefunded
				}
				if p.State != want || p.AllottedAmount != 100*p.AllottedShares {
					t.Errorf("application of %s: %s, %d allotted for %d", p.Handle, p.State, p.AllottedShares, p.AllottedAmount)
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCloseTwice closes once: the second close, by hand or by the
// scheduler, changes nothing and answers with the same result.
func TestCloseTwice(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o := w.offer(func(n *shares.NewOffer) { n.MaxShares, n.OptimumShares, n.MemberMaxShares = 20, 20, 20 })
	w.apply("bo", o, 15)
	w.apply("cy", o, 15)
	first := w.close(o)
	events, transfers := w.count("audit_events"), w.count("transfers")
	again, created, err := w.shares.Close(ctx, w.coop, w.people["ada"], o.ID)
	if err != nil || created {
		t.Fatalf("second Close = %v, %v", created, err)
	}
	if n, err := w.shares.CloseDue(ctx); err != nil || n != 0 {
		t.Errorf("CloseDue after the close = %d, %v", n, err)
	}
	if !mapsEqual(allotted(first), allotted(again)) || again.Offer.AllottedShares != 20 {
		t.Errorf("second close answered %v, first %v", allotted(again), allotted(first))
	}
	if e, tr := w.count("audit_events"), w.count("transfers"); e != events || tr != transfers {
		t.Errorf("second close wrote: events %d → %d, transfers %d → %d", events, e, transfers, tr)
	}
	if bal, _ := w.balance(shares.Capital); bal != 2000 {
		t.Errorf("capital = %d, want 2000", bal)
	}
}

// TestApplicationsRaceTheClose sends applications from many members at
// once while the board closes: each lands before the close and is settled
// by it, or finds the offer closed; nothing stays reserved and the
// allotment never passes the maximum.
func TestApplicationsRaceTheClose(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var people []auth.Account
	for i := range 12 {
		h := fmt.Sprintf("p%02d", i)
		a, err := w.auth.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
		if err != nil {
			t.Fatal(err)
		}
		w.people[h] = a
		w.join(w.coop, h, "users")
		w.fund(w.coop, h, 10_000)
		people = append(people, a)
	}
	o := w.offer(func(n *shares.NewOffer) {
		n.MaxShares, n.OptimumShares, n.MinShares, n.MemberMinShares, n.MemberMaxShares, n.Rule = 50, 50, 10, 5, 20, shares.CapLargest
	})
	var wg sync.WaitGroup
	results := make([]error, len(people))
	for i, a := range people {
		wg.Go(func() {
			_, _, results[i] = w.shares.Apply(ctx, w.coop, a, o.ID, 5+int64(i))
		})
		if i == 8 {
			wg.Go(func() {
				if _, _, err := w.shares.Close(ctx, w.coop, w.people["ada"], o.ID); err != nil {
					t.Errorf("Close during the applications: %v", err)
				}
			})
		}
	}
	wg.Wait()
	landed := 0
	for i, err := range results {
		switch {
		case err == nil:
			landed++
		case !errors.Is(err, errs.ErrConflict):
			t.Errorf("Apply #%d: %v", i, err)
		}
	}
	out, _, err := w.shares.Close(ctx, w.coop, w.people["ada"], o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range out.Applications {
		if p.State == shares.AppPending {
			t.Errorf("application of %s still pending after the close", p.Handle)
		}
		sum += p.AllottedShares
	}
	if len(out.Applications) != landed {
		t.Errorf("the close counted %d applications, %d landed", len(out.Applications), landed)
	}
	if sum != out.Offer.AllottedShares || sum > 50 {
		t.Errorf("allotted %d in all (offer says %d), maximum 50", sum, out.Offer.AllottedShares)
	}
	if out.Offer.State == shares.StateAllotted && out.Offer.AppliedShares > 50 && sum != 50 {
		t.Errorf("oversubscribed (%d) but allotted %d, not 50", out.Offer.AppliedShares, sum)
	}
	if bal, avail := w.balance(shares.Owner(o.ID)); bal != 0 || avail != 0 {
		t.Errorf("escrow = %d/%d, want empty", bal, avail)
	}
	if bal, _ := w.balance(shares.Capital); bal != 100*sum {
		t.Errorf("capital = %d, want %d", bal, 100*sum)
	}
}

// TestApplicationsRaceTheMaximum oversubscribes an offer from many
// members at once; the close allots exactly the maximum.
func TestApplicationsRaceTheMaximum(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o := w.offer(func(n *shares.NewOffer) {
		n.MaxShares, n.OptimumShares, n.MemberMaxShares, n.Rule = 30, 30, 30, shares.FCFS
	})
	var wg sync.WaitGroup
	errsOut := make([]error, 4)
	for i, h := range []string{"ada", "bo", "cy", "di"} {
		wg.Go(func() { _, _, errsOut[i] = w.shares.Apply(ctx, w.coop, w.people[h], o.ID, 12) })
	}
	wg.Wait()
	for i, err := range errsOut {
		if err != nil {
			t.Errorf("Apply #%d: %v", i, err)
		}
	}
	got, _ := w.shares.Offer(ctx, w.coop, o.ID)
	if got.AppliedShares != 48 || got.Applications != 4 {
		t.Errorf("offer counts %d shares by %d", got.AppliedShares, got.Applications)
	}
	out := w.close(o)
	var n []int64
	for _, p := range out.Applications {
		n = append(n, p.AllottedShares)
	}
	// fcfs in the order they landed: 12, 12, 6, 0.
	if !slices.Equal(n, []int64{12, 12, 6, 0}) {
		t.Errorf("fcfs allotments in order = %v, want [12 12 6 0]", n)
	}
}

func TestApplyBadInputAndReplays(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o := w.offer(func(n *shares.NewOffer) { n.MemberMinShares, n.MemberMaxShares = 5, 40 })
	before, transfers := w.count("audit_events"), w.count("transfers")
	for _, n := range []int64{0, -3, 4, 41} {
		_, _, err := w.shares.Apply(ctx, w.coop, w.people["bo"], o.ID, n)
		wantErr(t, fmt.Sprintf("Apply(%d)", n), err, nil)
	}
	_, _, err := w.shares.Apply(ctx, w.coop, w.people["bo"], 9999, 5)
	wantErr(t, "Apply to no offer", err, errs.ErrNotFound)
	if e, tr := w.count("audit_events"), w.count("transfers"); e != before || tr != transfers || w.count("share_applications") != 0 {
		t.Errorf("bad applications wrote: events %d → %d, transfers %d → %d", before, e, transfers, tr)
	}
	p := w.apply("bo", o, 10)
	again, created, err := w.shares.Apply(ctx, w.coop, w.people["bo"], o.ID, 10)
	if err != nil || created || again.ID != p.ID {
		t.Errorf("Apply again = %+v, %v, %v", again, created, err)
	}
	_, _, err = w.shares.Apply(ctx, w.coop, w.people["bo"], o.ID, 12)
	wantErr(t, "a second, different application", err, errs.ErrConflict)
	if _, avail := w.balance("member:bo"); avail != 100_000-1000 {
		t.Errorf("bo's available = %d, want one reservation", avail)
	}
	// Withdrawing voids the reservation; again is a replay; then bo may
	// apply anew.
	wd, created, err := w.shares.WithdrawApplication(ctx, w.coop, w.people["bo"], o.ID, p.ID)
	if err != nil || !created || wd.State != shares.AppWithdrawn {
		t.Fatalf("WithdrawApplication = %+v, %v, %v", wd, created, err)
	}
	if _, created, err := w.shares.WithdrawApplication(ctx, w.coop, w.people["bo"], o.ID, p.ID); err != nil || created {
		t.Errorf("WithdrawApplication again = %v, %v", created, err)
	}
	if bal, avail := w.balance("member:bo"); bal != 100_000 || avail != 100_000 {
		t.Errorf("bo after withdrawing: %d/%d", bal, avail)
	}
	p2 := w.apply("bo", o, 12)
	// The reservation moves only by the offer's rules: bo cannot void or
	// post it by hand through the ledger, nor a treasurer move the escrow.
	for _, action := range []string{ledger.ActVoid, ledger.ActPost} {
		_, _, err := w.ledger.SubmitResolve(ctx, w.coop, w.people["bo"], p2.TransferID, action, 0)
		wantErr(t, "SubmitResolve("+action+") of an application", err, errs.ErrForbidden)
	}
	_, _, err = w.ledger.Submit(ctx, w.coop, w.people["ada"], []ledger.Request{{ID: "grab", Debit: shares.Owner(o.ID), Credit: "external", Amount: 1, Kind: "payment"}})
	wantErr(t, "a treasurer moving the escrow by hand", err, errs.ErrForbidden)
	if got, _ := w.shares.Offer(ctx, w.coop, o.ID); got.AppliedShares != 12 || got.Applications != 1 {
		t.Errorf("offer after withdraw and reapply: %d shares by %d", got.AppliedShares, got.Applications)
	}
	// A suspended member applies no more.
	susp := coop.StateSuspended
	if _, err := w.coops.UpdateMember(ctx, w.coop, w.people["ada"], "cy", coop.MemberUpdate{State: &susp}); err != nil {
		t.Fatal(err)
	}
	_, _, err = w.shares.Apply(ctx, w.coop, w.people["cy"], o.ID, 5)
	wantErr(t, "Apply by a suspended member", err, errs.ErrForbidden)
	_, _, err = w.shares.RegisterApplicant(ctx, w.coop, w.people["cy"], o.ID)
	wantErr(t, "RegisterApplicant of a suspended member", err, errs.ErrForbidden)
}

// TestOtherCoopsIDs refuses every id of another co-op's offer as not
// found, and the ledger opens no account for it.
func TestOtherCoopsIDs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	other := w.found("bakery", "fay")
	o := w.offer(nil)
	p := w.apply("bo", o, 5)
	fay := w.people["fay"]
	_, err := w.shares.Offer(ctx, other, o.ID)
	wantErr(t, "Offer from another co-op", err, errs.ErrNotFound)
	_, _, err = w.shares.Apply(ctx, other, fay, o.ID, 5)
	wantErr(t, "Apply from another co-op", err, errs.ErrNotFound)
	_, _, err = w.shares.RegisterApplicant(ctx, other, w.people["ed"], o.ID)
	wantErr(t, "RegisterApplicant from another co-op", err, errs.ErrNotFound)
	_, _, err = w.shares.Close(ctx, other, fay, o.ID)
	wantErr(t, "Close from another co-op", err, errs.ErrNotFound)
	_, err = w.shares.Applications(ctx, other, fay, o.ID)
	wantErr(t, "Applications from another co-op", err, errs.ErrNotFound)
	_, _, err = w.shares.WithdrawApplication(ctx, other, w.people["bo"], o.ID, p.ID)
	wantErr(t, "WithdrawApplication from another co-op", err, errs.ErrNotFound)
	_, err = w.shares.RequestWithdrawal(ctx, other, fay, o.ID, 1)
	wantErr(t, "RequestWithdrawal from another co-op", err, errs.ErrNotFound)
	if err := w.shares.OwnerExists(ctx, nil, other.ID, shares.Owner(o.ID)); err == nil {
		t.Errorf("OwnerExists(%s) in another co-op = nil", shares.Owner(o.ID))
	}
	if err := w.shares.OwnerExists(ctx, nil, w.coop.ID, shares.Owner(o.ID)); err != nil {
		t.Errorf("OwnerExists(%s) = %v", shares.Owner(o.ID), err)
	}
	_, _, err = w.ledger.Submit(ctx, other, fay, []ledger.Request{{ID: "x1", Debit: "external", Credit: shares.Owner(o.ID), Amount: 5, Kind: "payment"}})
	if err == nil {
		t.Errorf("the ledger opened %s in another co-op", shares.Owner(o.ID))
	}
	w.close(o)
	_, _, err = w.shares.ApproveWithdrawal(ctx, other, fay, 1)
	wantErr(t, "ApproveWithdrawal of nothing", err, errs.ErrNotFound)
}

// TestWithdrawals walks a holding through its lock-in, the notice, a
// suspension and a rejection to an approved withdrawal.
func TestWithdrawals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o := w.offer(func(n *shares.NewOffer) { n.LockInDays, n.NoticeDays = 365, 30 })
	w.apply("bo", o, 40)
	w.close(o)
	bo := w.people["bo"]

	_, err := w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 10)
	wantErr(t, "RequestWithdrawal in the lock-in", err, errs.ErrConflict)
	w.set(o.ClosesAt.AddDate(0, 0, 365).Add(-time.Second))
	_, err = w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 10)
	wantErr(t, "RequestWithdrawal a second before the lock-in ends", err, errs.ErrConflict)
	w.advance(time.Second)
	_, err = w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 41)
	wantErr(t, "RequestWithdrawal of more than held", err, nil)
	_, err = w.shares.RequestWithdrawal(ctx, w.coop, w.people["cy"], o.ID, 1)
	wantErr(t, "RequestWithdrawal without a holding", err, nil)
	_, err = w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 0)
	wantErr(t, "RequestWithdrawal of nothing", err, nil)

	r1, err := w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 25)
	if err != nil || r1.Amount != 2500 || !r1.DueAt.Equal(w.clock().AddDate(0, 0, 30)) {
		t.Fatalf("RequestWithdrawal = %+v, %v", r1, err)
	}
	_, err = w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 16)
	wantErr(t, "RequestWithdrawal of more than is left unasked", err, nil)
	r2, err := w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 15)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.shares.ApproveWithdrawal(ctx, w.coop, w.people["ada"], r1.ID)
	wantErr(t, "ApproveWithdrawal in the notice", err, errs.ErrConflict)

	// The board suspends withdrawals: the notice runs, approvals wait.
	if _, err := w.shares.SuspendWithdrawals(ctx, w.coop, w.people["ada"], true, ""); err == nil {
		t.Errorf("SuspendWithdrawals without a reason = nil")
	}
	sus, err := w.shares.SuspendWithdrawals(ctx, w.coop, w.people["ada"], true, "Resolution 2027/3: the roof first")
	if err != nil || !sus.Suspended {
		t.Fatalf("SuspendWithdrawals = %+v, %v", sus, err)
	}
	_, err = w.shares.SuspendWithdrawals(ctx, w.coop, w.people["ada"], true, "again")
	wantErr(t, "SuspendWithdrawals twice", err, errs.ErrConflict)
	w.advance(30 * 24 * time.Hour)
	_, _, err = w.shares.ApproveWithdrawal(ctx, w.coop, w.people["ada"], r1.ID)
	wantErr(t, "ApproveWithdrawal while suspended", err, errs.ErrConflict)
	book, err := w.shares.Withdrawals(ctx, w.coop, bo)
	if err != nil || book.All || len(book.Withdrawals) != 2 || !book.Suspension.Suspended || len(book.Decisions) != 1 {
		t.Errorf("bo's withdrawals = %+v, %v", book, err)
	}
	if _, err := w.shares.SuspendWithdrawals(ctx, w.coop, w.people["ada"], false, "Resolution 2027/5"); err != nil {
		t.Fatal(err)
	}

	// The capital holds 4000; bo is paid 2500 and 25 shares are cancelled.
	got, created, err := w.shares.ApproveWithdrawal(ctx, w.coop, w.people["ada"], r1.ID)
	if err != nil || !created || got.State != shares.WithdrawalApproved || got.DecidedBy != "ada" {
		t.Fatalf("ApproveWithdrawal = %+v, %v, %v", got, created, err)
	}
	if _, created, err := w.shares.ApproveWithdrawal(ctx, w.coop, w.people["ada"], r1.ID); err != nil || created {
		t.Errorf("ApproveWithdrawal again = %v, %v", created, err)
	}
	_, _, err = w.shares.RejectWithdrawal(ctx, w.coop, w.people["ada"], r1.ID, "no")
	wantErr(t, "RejectWithdrawal of an approved request", err, errs.ErrConflict)
	if bal, _ := w.balance("member:bo"); bal != 100_000-4000+2500 {
		t.Errorf("bo's balance = %d", bal)
	}
	if bal, _ := w.balance(shares.Capital); bal != 1500 {
		t.Errorf("capital = %d, want 1500", bal)
	}
	rej, created, err := w.shares.RejectWithdrawal(ctx, w.coop, w.people["ada"], r2.ID, "below the member minimum")
	if err != nil || !created || rej.State != shares.WithdrawalRejected {
		t.Errorf("RejectWithdrawal = %+v, %v, %v", rej, created, err)
	}
	mine, err := w.shares.Mine(ctx, w.coop, bo)
	if err != nil || len(mine.Holdings) != 1 || mine.Holdings[0].Shares != 15 || mine.Holdings[0].Withdrawable != 15 || mine.Holdings[0].Requested != 0 {
		t.Errorf("bo's holdings = %+v, %v", mine.Holdings, err)
	}
	reg, _ := w.shares.ShareRegister(ctx, w.coop, bo)
	if len(reg.Holders) != 1 || reg.Holders[0].Shares != 15 || reg.Holders[0].Amount != 1500 {
		t.Errorf("register = %+v", reg)
	}
	all, _ := w.shares.Withdrawals(ctx, w.coop, w.people["ada"])
	if !all.All || len(all.Withdrawals) != 2 || len(all.Decisions) != 2 || all.Suspension.Suspended {
		t.Errorf("the board's withdrawals = %+v", all)
	}
	// The capital short: an approval is refused and writes nothing.
	r3, err := w.shares.RequestWithdrawal(ctx, w.coop, bo, o.ID, 15)
	if err != nil {
		t.Fatal(err)
	}
	w.advance(30 * 24 * time.Hour)
	if _, _, err := w.ledger.Submit(ctx, w.coop, w.people["ada"], []ledger.Request{{ID: "spend", Debit: shares.Capital, Credit: "external",
		Amount: 1000, Kind: "expense"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err = w.shares.ApproveWithdrawal(ctx, w.coop, w.people["ada"], r3.ID)
	wantErr(t, "ApproveWithdrawal beyond the capital", err, ledger.ErrInsufficient)
	if reg, _ := w.shares.ShareRegister(ctx, w.coop, bo); reg.Holders[0].Shares != 15 {
		t.Errorf("shares cancelled by a refused approval: %+v", reg)
	}
}
