// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/budget"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/ledger"
	"opencoop/internal/pool"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
	"opencoop/internal/vote"
)

// fixture is a somerset co-op (workers 40, users 40, supporters 20) on a
// fresh store: ada founded it (worker, secretary and treasurer), bo is a
// worker, cy a user, di a supporter.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	db     *store.DB
	mu     sync.Mutex
	at     time.Time
	auth   *auth.Service
	coops  *coop.Service
	gov    *govern.Service
	ledger *ledger.Service
	budget *budget.Service
	c      *coop.Coop
	people map[string]auth.Account
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: storetest.Open(t), at: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		people: map[string]auth.Account{}}
	f.auth = auth.NewService(f.db, f.now)
	f.coops = &coop.Service{DB: f.db, Now: f.now}
	f.gov = &govern.Service{DB: f.db, Coops: f.coops, Now: f.now, BallotKey: make([]byte, 32)}
	f.ledger = &ledger.Service{DB: f.db, Coops: f.coops, Now: f.now}
	f.budget = &budget.Service{DB: f.db, Coops: f.coops, Ledger: f.ledger, Now: f.now}
	f.ledger.Owners = map[string]ledger.OwnerCheck{"bucket": f.budget.OwnerExists}
	ada := f.account("ada")
	c, err := f.coops.Found(f.ctx, ada, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour for all.", Preset: "somerset",
		FounderClass: "workers"})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	f.join("bo", "workers")
	f.join("cy", "users")
	f.join("di", "supporters")
	return f
}

func (f *fixture) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.at }

func (f *fixture) advance(d time.Duration) { f.mu.Lock(); f.at = f.at.Add(d); f.mu.Unlock() }

func (f *fixture) account(h string) auth.Account {
	f.t.Helper()
	a, err := f.auth.CreateAccount(f.ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
	if err != nil {
		f.t.Fatal(err)
	}
	f.people[h] = a
	return a
}

func (f *fixture) join(h, class string) auth.Account {
	f.t.Helper()
	a := f.account(h)
	inv, err := f.coops.Invite(f.ctx, f.c, f.people["ada"], coop.NewInvitation{Class: class})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.coops.Join(f.ctx, f.c, a, inv.Code); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// submit moves money as who, through the ledger's checked path.
func (f *fixture) submit(who, id, debit, credit string, amount int64) {
	f.t.Helper()
	_, _, err := f.ledger.Submit(f.ctx, f.c, f.people[who], []ledger.Request{{ID: id, Debit: debit, Credit: credit, Amount: amount, Kind: "payment"}})
	if err != nil {
		f.t.Fatalf("Submit(%s %s→%s %d): %v", id, debit, credit, amount, err)
	}
}

// fundPool puts amount into coop:pool from the outside world.
func (f *fixture) fundPool(amount int64) {
	f.t.Helper()
	f.submit("ada", fmt.Sprintf("income-%d-%d", amount, f.now().UnixNano()), "external", "coop:pool", amount)
}

// balance is owner's available balance in EUR, from the ledger.
func (f *fixture) balance(owner string) int64 {
	f.t.Helper()
	accts, err := f.ledger.Accounts(f.ctx, f.c, owner)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range accts {
		if a.Unit == "EUR" {
			return a.Available
		}
	}
	return 0
}

// check wants the ledger's replay to agree with every balance.
func (f *fixture) check() {
	f.t.Helper()
	rep, err := f.ledger.Check(f.ctx, f.c)
	if err != nil || !rep.OK {
		f.t.Fatalf("ledger Check: %v %+v", err, rep)
	}
}

// count returns the rows of table.
func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.Read().QueryRowContext(f.ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// round returns a round set-up whose windows are open now: buckets for
// two days from an hour ago, funding for a week from an hour ago.
func (f *fixture) newRound(mod func(*budget.NewRound)) budget.NewRound {
	now := f.now()
	n := budget.NewRound{Title: "Winter", BucketsFrom: now.Add(-time.Hour), BucketsTo: now.Add(48 * time.Hour),
		FundingFrom: now.Add(-time.Hour), FundingTo: now.Add(7 * 24 * time.Hour)}
	if mod != nil {
		mod(&n)
	}
	return n
}

func (f *fixture) createRound(mod func(*budget.NewRound)) *budget.Round {
	f.t.Helper()
	r, err := f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(mod))
	if err != nil {
		f.t.Fatalf("CreateRound: %v", err)
	}
	return r
}

func (f *fixture) allowance(r *budget.Round, h string) *budget.Allowance {
	f.t.Helper()
	al, err := f.budget.Allowance(f.ctx, f.c, f.people[h], r.ID, "")
	if err != nil {
		f.t.Fatalf("Allowance(%s): %v", h, err)
	}
	if got := f.balance(al.Account); got != al.Balance {
		f.t.Errorf("allowance of %s shows %d, the ledger %d", h, al.Balance, got)
	}
	return al
}

// openBucket creates a published bucket by who with one item min..max and
// opens it for funding.
func (f *fixture) openBucket(r *budget.Round, who string, min, max int64) *budget.Bucket {
	f.t.Helper()
	b, err := f.budget.CreateBucket(f.ctx, f.c, f.people[who], r.ID, budget.NewBucket{Title: "Oven " + who, Description: "Bake.",
		Items: []budget.Item{{Title: "oven", Min: min, Max: max}}, Publish: true})
	if err != nil {
		f.t.Fatalf("CreateBucket: %v", err)
	}
	if b, err = f.budget.Change(f.ctx, f.c, f.people[who], b.ID, budget.ActOpen, ""); err != nil {
		f.t.Fatalf("open bucket: %v", err)
	}
	return b
}

func (f *fixture) give(who string, b *budget.Bucket, amount int64) (*budget.Contribution, error) {
	out, _, err := f.budget.Contribute(f.ctx, f.c, f.people[who], b.ID, budget.NewContribution{Amount: amount})
	return out, err
}

func (f *fixture) mustGive(who string, b *budget.Bucket, amount int64) {
	f.t.Helper()
	if _, err := f.give(who, b, amount); err != nil {
		f.t.Fatalf("Contribute(%s, %d): %v", who, amount, err)
	}
}

func (f *fixture) bucket(id int64) *budget.Bucket {
	f.t.Helper()
	b, err := f.budget.Bucket(f.ctx, f.c, f.people["ada"], id)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// passed returns the id of a yes/no proposal everyone voted yes on, closed.
func (f *fixture) decision(yes bool) int64 {
	f.t.Helper()
	p, err := f.gov.Create(f.ctx, f.c, f.people["ada"], govern.NewProposal{Title: "Rent", Method: vote.YesNo, ClosesAt: f.now().Add(time.Hour)})
	if err != nil {
		f.t.Fatal(err)
	}
	choice := "no"
	if yes {
		choice = "yes"
	}
	for _, h := range []string{"ada", "bo", "cy", "di"} {
		if _, err := f.gov.Cast(f.ctx, f.people[h], p.ID, govern.BallotInput{Choice: &choice}); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := f.gov.Close(f.ctx, f.c, f.people["ada"], p.ID); err != nil {
		f.t.Fatal(err)
	}
	return p.ID
}

func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
}

func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	v, ok := errors.AsType[*errs.ValidationError](err)
	if !ok {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
	if _, ok := v.Fields[field]; !ok {
		t.Fatalf("err = %v, want a validation error on %s", err, field)
	}
}

func TestAllowancesEqual(t *testing.T) {
	f := newFixture(t)
	f.fundPool(1003)
	r := f.createRound(nil)
	if r.Contributions != 1003 || r.Discretionary != 1003 || r.Members != 4 {
		t.Fatalf("round C=%d D=%d members=%d, want 1003, 1003, 4", r.Contributions, r.Discretionary, r.Members)
	}
	// Member ids: ada, bo, cy, di in order; the leftover 3 go to the first three.
	want := map[string]int64{"ada": 251, "bo": 251, "cy": 251, "di": 250}
	var sum int64
	for h, w := range want {
		al := f.allowance(r, h)
		if al.Granted != w || al.Balance != w {
			t.Errorf("allowance of %s = granted %d balance %d, want %d", h, al.Granted, al.Balance, w)
		}
		if al.Account == "member:"+h {
			t.Errorf("allowance of %s is her own account", h)
		}
		sum += al.Balance
	}
	if sum != r.Discretionary {
		t.Errorf("allowances sum to %d, want D = %d", sum, r.Discretionary)
	}
	if got := f.balance("coop:pool"); got != 0 {
		t.Errorf("coop:pool holds %d after the round, want 0", got)
	}
	if got := f.balance("member:ada"); got != 0 {
		t.Errorf("member:ada holds %d: the allowance mixed with her own money", got)
	}
	f.check()
}

func TestAllowancesProportional(t *testing.T) {
	f := newFixture(t)
	start := f.now()
	for h, amount := range map[string]int64{"ada": 300, "bo": 100, "cy": 200, "di": 1000} {
		f.submit("ada", "pay-"+h, "external", "member:"+h, amount)
	}
	f.submit("ada", "ada-in", "member:ada", "coop:pool", 300)
	f.submit("bo", "bo-in", "member:bo", "coop:pool", 100)
	f.submit("cy", "cy-in", "member:cy", "coop:pool", 200)
	f.submit("di", "di-in", "member:di", "coop:pool", 600)
	// di's contribution is reversed: it does not count.
	if _, _, err := f.ledger.SubmitReverse(f.ctx, f.c, f.people["ada"], "di-in", "di-in-back", ""); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour)
	end := f.now()
	// After the period: does not count either.
	f.advance(time.Minute)
	f.submit("di", "di-late", "member:di", "coop:pool", 400)
	r := f.createRound(func(n *budget.NewRound) {
		n.Allowance = budget.Proportional
		n.PeriodFrom, n.PeriodTo = &start, &end
		c := int64(1000)
		n.Contributions = &c
	})
	// 1000 split 300:100:200 → 500, 166.67, 333.33 → 500, 167, 333.
	want := map[string]int64{"ada": 500, "bo": 167, "cy": 333, "di": 0}
	var sum int64
	for h, w := range want {
		al := f.allowance(r, h)
		if al.Granted != w || al.Balance != w {
			t.Errorf("allowance of %s = %d (balance %d, basis %d), want %d", h, al.Granted, al.Balance, al.Basis, w)
		}
		sum += al.Granted
	}
	if sum != 1000 {
		t.Errorf("allowances sum to %d, want 1000", sum)
	}
	// The pool held 300+100+200+400 (di's 600 was reversed).
	if got := f.balance("coop:pool"); got != 0 {
		t.Errorf("coop:pool holds %d, want 0", got)
	}
	f.check()
}

// TestAllowancesCountIncomes: under RULES.md 3.2 a member contributes to
// the pool mostly through the pooling rule, which sends coop:pool part of
// each income recorded for her; proportional allowances (3.3) weigh that
// as they weigh her own transfers, less the reversals of either.
func TestAllowancesCountIncomes(t *testing.T) {
	f := newFixture(t)
	pl := &pool.Service{DB: f.db, Coops: f.coops, Ledger: f.ledger, Now: f.now}
	if _, err := pl.SetRule(f.ctx, f.c, f.people["ada"], pool.SetRule{Preset: pool.Enspiral}); err != nil {
		t.Fatal(err)
	}
	start := f.now()
	income := func(id, member string, amount int64) *pool.IncomeSplit {
		t.Helper()
		out, _, err := pl.RecordIncome(f.ctx, f.c, f.people["ada"], pool.NewIncome{ID: id, Member: member, Amount: amount, Kind: "invoice"})
		if err != nil {
			t.Fatalf("RecordIncome(%s): %v", id, err)
		}
		return out
	}
	// An invoice of 1000 puts 150 into coop:pool (RULES.md 3.2's example).
	income("bo-1", "bo", 2000) // 300 for bo
	income("cy-1", "cy", 1000) // 150 for cy
	back := income("cy-2", "cy", 1000)
	f.submit("ada", "ada-in", "external", "member:ada", 150)
	f.submit("ada", "ada-to-pool", "member:ada", "coop:pool", 150) // 150 for ada
	// cy's second invoice was a mistake: reversing its pool part takes it back.
	for _, p := range back.Postings {
		if p.Credit == "coop:pool" {
			if _, _, err := f.ledger.SubmitReverse(f.ctx, f.c, f.people["ada"], p.ID, p.ID+":back", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.advance(time.Hour)
	end := f.now()
	f.advance(time.Minute)
	income("di-late", "di", 1000) // after the period
	r := f.createRound(func(n *budget.NewRound) {
		n.Allowance = budget.Proportional
		n.PeriodFrom, n.PeriodTo = &start, &end
		c := int64(600)
		n.Contributions = &c
	})
	// 600 split 150:300:150:0.
	want := map[string][2]int64{"ada": {150, 150}, "bo": {300, 300}, "cy": {150, 150}, "di": {0, 0}}
	for h, w := range want {
		al := f.allowance(r, h)
		if al.Basis != w[0] || al.Granted != w[1] {
			t.Errorf("allowance of %s: basis %d, granted %d; want basis %d, granted %d", h, al.Basis, al.Granted, w[0], w[1])
		}
	}
	f.check()
}

func TestAllowancesByClass(t *testing.T) {
	f := newFixture(t)
	f.join("ed", "supporters")
	f.fundPool(1001)
	r := f.createRound(func(n *budget.NewRound) { n.Allowance = budget.ByClass })
	// Classes 40/40/20 of 1001 → 400.4, 400.4, 200.2 → 401, 400, 200 (the
	// tie of remainders goes to the earlier class); workers ada and bo
	// split 401, users cy has 400, supporters di and ed split 200.
	want := map[string]int64{"ada": 201, "bo": 200, "cy": 400, "di": 100, "ed": 100}
	var sum int64
	for h, w := range want {
		if al := f.allowance(r, h); al.Granted != w {
			t.Errorf("allowance of %s = %d, want %d", h, al.Granted, w)
		} else {
			sum += al.Granted
		}
	}
	if sum != 1001 {
		t.Errorf("allowances sum to %d, want 1001", sum)
	}
	f.check()
}

func TestCoreExpenses(t *testing.T) {
	f := newFixture(t)
	f.fundPool(1000)
	passed, rejected := f.decision(true), f.decision(false)
	r := f.createRound(func(n *budget.NewRound) {
		n.Expenses = []budget.Expense{{Title: "Rent", Amount: 600, ProposalID: passed}}
	})
	if r.Contributions != 1000 || r.CoreExpenses != 600 || r.Discretionary != 400 || r.Shortfall != 0 {
		t.Errorf("C, E, D, shortfall = %d, %d, %d, %d; want 1000, 600, 400, 0", r.Contributions, r.CoreExpenses, r.Discretionary, r.Shortfall)
	}
	if got := f.balance("coop:pool"); got != 600 {
		t.Errorf("coop:pool keeps %d for the core expenses, want 600", got)
	}
	for _, tc := range []struct {
		name string
		id   int64
	}{{"rejected", rejected}, {"unknown", 999}} {
		t.Run(tc.name, func(t *testing.T) {
			rounds, transfers := f.count("budget_rounds"), f.count("transfers")
			_, err := f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(func(n *budget.NewRound) {
				n.Expenses = []budget.Expense{{Title: "Rent", Amount: 100, ProposalID: tc.id}}
			}))
			wantInvalid(t, err, "expenses[0].proposal_id")
			if f.count("budget_rounds") != rounds || f.count("transfers") != transfers {
				t.Errorf("a refused round wrote rows")
			}
		})
	}
	// An open proposal has not passed yet.
	p, err := f.gov.Create(f.ctx, f.c, f.people["ada"], govern.NewProposal{Title: "Later", Method: vote.YesNo, ClosesAt: f.now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(func(n *budget.NewRound) {
		n.Expenses = []budget.Expense{{Title: "Rent", Amount: 100, ProposalID: p.ID}}
	}))
	wantInvalid(t, err, "expenses[0].proposal_id")
	f.check()
}

func TestShortfallFromReserves(t *testing.T) {
	f := newFixture(t)
	passed := f.decision(true)
	f.fundPool(300)
	expenses := func(n *budget.NewRound) {
		n.Expenses = []budget.Expense{{Title: "Rent", Amount: 500, ProposalID: passed}}
	}
	// The reserves are empty: nothing is written.
	rounds := f.count("budget_rounds")
	_, err := f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(expenses))
	wantKind(t, err, ledger.ErrInsufficient)
	if f.count("budget_rounds") != rounds {
		t.Fatal("a round the reserves cannot pay was written")
	}
	f.submit("ada", "reserve", "external", "coop:reserves", 1000)
	r := f.createRound(expenses)
	if r.Discretionary != 0 || r.Shortfall != 200 {
		t.Errorf("D = %d, shortfall = %d; want 0, 200", r.Discretionary, r.Shortfall)
	}
	if got := f.balance("coop:reserves"); got != 800 {
		t.Errorf("coop:reserves = %d, want 800", got)
	}
	if got := f.balance("coop:pool"); got != 500 {
		t.Errorf("coop:pool = %d, want 500 (the core expenses)", got)
	}
	if al := f.allowance(r, "bo"); al.Granted != 0 {
		t.Errorf("an allowance of %d out of no discretionary budget", al.Granted)
	}
	f.check()
}

func TestBadRoundInput(t *testing.T) {
	f := newFixture(t)
	f.fundPool(100)
	now := f.now()
	neg := int64(-5)
	for _, tc := range []struct {
		name, field string
		mod         func(*budget.NewRound)
	}{
		{"no title", "title", func(n *budget.NewRound) { n.Title = " " }},
		{"bad unit", "unit", func(n *budget.NewRound) { n.Unit = "eu" }},
		{"no window", "funding_from", func(n *budget.NewRound) { n.FundingFrom = time.Time{} }},
		{"window backwards", "buckets_to", func(n *budget.NewRound) { n.BucketsTo = n.BucketsFrom.Add(-time.Minute) }},
		{"funding over", "funding_to", func(n *budget.NewRound) { n.FundingFrom, n.FundingTo = now.Add(-2*time.Hour), now.Add(-time.Hour) }},
		{"negative cap", "member_cap", func(n *budget.NewRound) { n.MemberCap = -1 }},
		{"bad policy", "underfunded", func(n *budget.NewRound) { n.Underfunded = "burn" }},
		{"bad unspent", "unspent", func(n *budget.NewRound) { n.Unspent = "keep" }},
		{"bad rule", "allowance", func(n *budget.NewRound) { n.Allowance = "lottery" }},
		{"proportional without period", "period_from", func(n *budget.NewRound) { n.Allowance = budget.Proportional }},
		{"period unfinished", "period_to", func(n *budget.NewRound) {
			from, to := now.Add(-time.Hour), now.Add(time.Hour)
			n.PeriodFrom, n.PeriodTo = &from, &to
		}},
		{"negative contributions", "contributions", func(n *budget.NewRound) { n.Contributions = &neg }},
		{"expense without decision", "expenses[0].proposal_id", func(n *budget.NewRound) {
			n.Expenses = []budget.Expense{{Title: "Rent", Amount: 5}}
		}},
		{"zero expense", "expenses[0].amount", func(n *budget.NewRound) {
			n.Expenses = []budget.Expense{{Title: "Rent", ProposalID: 1}}
		}},
		{"proportional with nobody contributing", "allowance", func(n *budget.NewRound) {
			from, to := now.Add(-time.Hour), now
			n.Allowance, n.PeriodFrom, n.PeriodTo = budget.Proportional, &from, &to
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rounds, transfers, pots := f.count("budget_rounds"), f.count("transfers"), f.count("budget_pots")
			_, err := f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(tc.mod))
			wantInvalid(t, err, tc.field)
			if f.count("budget_rounds") != rounds || f.count("transfers") != transfers || f.count("budget_pots") != pots {
				t.Errorf("a refused round wrote rows")
			}
		})
	}
	f.check()
}

func TestPermissions(t *testing.T) {
	f := newFixture(t)
	f.fundPool(400)
	_, err := f.budget.CreateRound(f.ctx, f.c, f.people["bo"], f.newRound(nil))
	wantKind(t, err, errs.ErrForbidden)
	outsider := f.account("zed")
	_, err = f.budget.CreateRound(f.ctx, f.c, outsider, f.newRound(nil))
	wantKind(t, err, errs.ErrForbidden)
	r := f.createRound(nil)
	_, err = f.budget.Round(f.ctx, f.c, outsider, r.ID)
	wantKind(t, err, errs.ErrForbidden)
	_, err = f.budget.CreateBucket(f.ctx, f.c, outsider, r.ID, budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Max: 1}}})
	wantKind(t, err, errs.ErrForbidden)
	b := f.openBucket(r, "bo", 10, 100)
	_, err = f.budget.Change(f.ctx, f.c, f.people["cy"], b.ID, budget.ActCancel, "")
	wantKind(t, err, errs.ErrForbidden)
	_, err = f.budget.Change(f.ctx, f.c, f.people["bo"], b.ID, budget.ActComplete, "")
	wantKind(t, err, errs.ErrForbidden)
	_, _, err = f.budget.CloseRound(f.ctx, f.c, f.people["bo"], r.ID)
	wantKind(t, err, errs.ErrForbidden)
	_, err = f.budget.Allowance(f.ctx, f.c, f.people["bo"], r.ID, "cy")
	wantKind(t, err, errs.ErrForbidden)
	if al, err := f.budget.Allowance(f.ctx, f.c, f.people["ada"], r.ID, "cy"); err != nil || al.Granted != 100 {
		t.Errorf("a treasurer reads cy's allowance: %v %v", al, err)
	}
	// A draft is seen by its creators and the co-op's officers only.
	d, err := f.budget.CreateBucket(f.ctx, f.c, f.people["cy"], r.ID, budget.NewBucket{Title: "Secret", Items: []budget.Item{{Title: "x", Max: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.budget.Bucket(f.ctx, f.c, f.people["bo"], d.ID)
	wantKind(t, err, errs.ErrNotFound)
	list, err := f.budget.Buckets(f.ctx, f.c, f.people["bo"], r.ID)
	if err != nil || len(list) != 1 {
		t.Errorf("bo lists %d buckets (%v), want 1 (the draft hidden)", len(list), err)
	}

	// Another co-op's ids are not found.
	other := &coop.Coop{ID: f.c.ID + 1000, Name: "Other"}
	mine, err := f.coops.Found(f.ctx, outsider, coop.NewCoop{Slug: "other", Name: "Other", Purpose: "Other.", Preset: "open"})
	if err != nil {
		t.Fatal(err)
	}
	_ = other
	_, err = f.budget.Round(f.ctx, mine, outsider, r.ID)
	wantKind(t, err, errs.ErrNotFound)
	_, err = f.budget.Bucket(f.ctx, mine, outsider, b.ID)
	wantKind(t, err, errs.ErrNotFound)
	_, _, err = f.budget.Contribute(f.ctx, mine, outsider, b.ID, budget.NewContribution{Amount: 1})
	wantKind(t, err, errs.ErrNotFound)
	_, err = f.budget.Change(f.ctx, mine, outsider, b.ID, budget.ActCancel, "")
	wantKind(t, err, errs.ErrNotFound)
	_, _, err = f.budget.CloseRound(f.ctx, mine, outsider, r.ID)
	wantKind(t, err, errs.ErrNotFound)
	// And the ledger refuses a pot of another co-op.
	err = f.db.InTx(f.ctx, func(tx *store.Tx) error {
		return f.budget.OwnerExists(f.ctx, tx, mine.ID, b.Account)
	})
	wantInvalid(t, err, "account")
	f.check()
}

func TestBucketLife(t *testing.T) {
	f := newFixture(t)
	f.fundPool(4000)
	r := f.createRound(func(n *budget.NewRound) { n.MemberCap = 600 })
	b, err := f.budget.CreateBucket(f.ctx, f.c, f.people["bo"], r.ID, budget.NewBucket{Title: "Oven", Description: "A wood oven.",
		Cocreators: []string{"cy"}, Items: []budget.Item{{Title: "bricks", Min: 300, Max: 500}, {Title: "door", Min: 200, Max: 700}}})
	if err != nil {
		t.Fatal(err)
	}
	if b.State != budget.Draft || b.Min != 500 || b.Max != 1200 {
		t.Fatalf("new bucket %s min %d max %d, want draft 500 1200", b.State, b.Min, b.Max)
	}
	// Not open yet.
	_, err = f.give("ada", b, 10)
	wantKind(t, err, errs.ErrConflict)
	_, err = f.budget.Change(f.ctx, f.c, f.people["bo"], b.ID, budget.ActOpen, "")
	wantKind(t, err, errs.ErrConflict)
	_, err = f.budget.Change(f.ctx, f.c, f.people["ada"], b.ID, budget.ActPublish, "")
	wantKind(t, err, errs.ErrForbidden)
	if b, err = f.budget.Change(f.ctx, f.c, f.people["cy"], b.ID, budget.ActPublish, ""); err != nil || b.State != budget.Idea {
		t.Fatalf("publish by a co-creator: %v %v", b, err)
	}
	if b, err = f.budget.Change(f.ctx, f.c, f.people["bo"], b.ID, budget.ActOpen, ""); err != nil || b.State != budget.Open {
		t.Fatalf("open: %v %v", b, err)
	}
	f.mustGive("ada", b, 400)
	f.mustGive("ada", b, 200)
	// The cap: 600 a member a bucket.
	_, err = f.give("ada", b, 1)
	wantInvalid(t, err, "amount")
	f.mustGive("cy", b, 500)
	// No overfunding: 100 is missing.
	_, err = f.give("bo", b, 200)
	wantKind(t, err, errs.ErrConflict)
	f.mustGive("bo", b, 100)
	if b = f.bucket(b.ID); b.State != budget.Funded || b.Raised != 1200 || b.FundedAt == nil {
		t.Fatalf("bucket at its maximum: %s raised %d, want funded 1200", b.State, b.Raised)
	}
	if len(b.Contributors) != 3 || b.Contributors[0] != (budget.Contributor{Handle: "ada", Amount: 600}) {
		t.Errorf("who gave = %+v", b.Contributors)
	}
	_, err = f.give("di", b, 1)
	wantKind(t, err, errs.ErrConflict)

	// Accepting at the minimum, and an allowance that runs out.
	b2 := f.openBucket(r, "cy", 300, 1000)
	f.mustGive("ada", b2, 400)
	_, err = f.give("ada", b2, 1)
	wantKind(t, err, ledger.ErrInsufficient)
	if al := f.allowance(r, "ada"); al.Balance != 0 || al.Given != 1000 {
		t.Errorf("ada's allowance: balance %d given %d, want 0 and 1000", al.Balance, al.Given)
	}
	b3 := f.openBucket(r, "di", 500, 800)
	f.mustGive("di", b3, 100)
	_, err = f.budget.Change(f.ctx, f.c, f.people["di"], b3.ID, budget.ActAccept, "")
	wantKind(t, err, errs.ErrConflict)
	if b2, err = f.budget.Change(f.ctx, f.c, f.people["cy"], b2.ID, budget.ActAccept, ""); err != nil || b2.State != budget.Funded {
		t.Fatalf("accept at 400 of minimum 300: %v %v", b2, err)
	}

	// Completion pays out what the bucket holds.
	_, err = f.budget.Change(f.ctx, f.c, f.people["ada"], b.ID, budget.ActComplete, "nobody")
	wantInvalid(t, err, "pay_to")
	if b, err = f.budget.Change(f.ctx, f.c, f.people["ada"], b.ID, budget.ActComplete, "bo"); err != nil || b.State != budget.Completed {
		t.Fatalf("complete: %v %v", b, err)
	}
	if b.Raised != 0 || f.balance("member:bo") != 1200 || b.PaidTo != "member:bo" {
		t.Errorf("after completion the bucket holds %d and bo %d, want 0 and 1200", b.Raised, f.balance("member:bo"))
	}
	if b2, err = f.budget.Change(f.ctx, f.c, f.people["ada"], b2.ID, budget.ActComplete, ""); err != nil || b2.PaidTo != "external" {
		t.Fatalf("complete to the outside world: %v %v", b2, err)
	}
	_, err = f.budget.Change(f.ctx, f.c, f.people["ada"], b2.ID, budget.ActCancel, "")
	wantKind(t, err, errs.ErrConflict)
	f.check()
}

func TestWithdrawAndCancel(t *testing.T) {
	f := newFixture(t)
	f.fundPool(4000)
	r := f.createRound(nil)
	b := f.openBucket(r, "bo", 100, 2000)
	f.mustGive("ada", b, 300)
	f.mustGive("ada", b, 200)
	f.mustGive("cy", b, 250)
	_, err := f.budget.Withdraw(f.ctx, f.c, f.people["di"], b.ID)
	wantKind(t, err, errs.ErrConflict)
	got, err := f.budget.Withdraw(f.ctx, f.c, f.people["ada"], b.ID)
	if err != nil || got != 500 {
		t.Fatalf("Withdraw = %d, %v; want 500", got, err)
	}
	if al := f.allowance(r, "ada"); al.Balance != 1000 || al.Given != 0 {
		t.Errorf("ada's allowance after withdrawing: %d (given %d), want 1000", al.Balance, al.Given)
	}
	f.mustGive("ada", b, 50) // she may give again
	transfers := f.count("transfers")
	if b, err = f.budget.Change(f.ctx, f.c, f.people["bo"], b.ID, budget.ActCancel, ""); err != nil || b.State != budget.Cancelled {
		t.Fatalf("cancel: %v %v", b, err)
	}
	// Two reversing transfers (cy's 250, ada's 50), nothing deleted.
	if got := f.count("transfers"); got != transfers+2 {
		t.Errorf("cancelling wrote %d transfers, want 2 reversals", got-transfers)
	}
	entries, err := f.ledger.Transfers(f.ctx, f.c, ledger.Filter{Owner: b.Account})
	if err != nil {
		t.Fatal(err)
	}
	reversed := map[string]bool{}
	for _, e := range entries {
		if e.Action == ledger.ActReverse {
			reversed[e.Reverses] = true
		}
	}
	for _, e := range entries {
		if e.Kind == "contribution" && !reversed[e.ID] {
			t.Errorf("contribution %s was not reversed", e.ID)
		}
	}
	if len(entries) != 8 {
		t.Errorf("the bucket's journal has %d entries, want 4 contributions and 4 reversals", len(entries))
	}
	if b.Raised != 0 || f.allowance(r, "cy").Balance != 1000 || f.allowance(r, "ada").Balance != 1000 {
		t.Errorf("after cancelling: bucket %d, cy %d, ada %d; want 0, 1000, 1000", b.Raised, f.allowance(r, "cy").Balance, f.allowance(r, "ada").Balance)
	}
	_, err = f.give("cy", b, 1)
	wantKind(t, err, errs.ErrConflict)
	_, err = f.budget.Withdraw(f.ctx, f.c, f.people["cy"], b.ID)
	wantKind(t, err, errs.ErrConflict)
	f.check()
}
