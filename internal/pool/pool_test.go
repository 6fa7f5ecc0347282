// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/pool"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// world is a co-op whose founder ada is its treasurer and secretary, with
// members bo and cy, on a clock the test moves.
type world struct {
	t      *testing.T
	db     *store.DB
	pool   *pool.Service
	ledger *ledger.Service
	coop   *coop.Coop
	ada    auth.Account
	bo     auth.Account
	mu     sync.Mutex
	now    time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, db: storetest.Open(t), now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
	as := auth.NewService(w.db, clock)
	cs := &coop.Service{DB: w.db, Now: clock}
	w.ledger = &ledger.Service{DB: w.db, Coops: cs, Now: clock}
	w.pool = &pool.Service{DB: w.db, Coops: cs, Ledger: w.ledger, Now: clock}
	accounts := map[string]auth.Account{}
	for _, h := range []string{"ada", "bo", "cy"} {
		a, err := as.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
		if err != nil {
			t.Fatal(err)
		}
		accounts[h] = a
	}
	w.ada, w.bo = accounts["ada"], accounts["bo"]
	var err error
	if w.coop, err = cs.Found(ctx, w.ada, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "consumer"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"bo", "cy"} {
		inv, err := cs.Invite(ctx, w.coop, w.ada, coop.NewInvitation{Class: "consumers"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, w.coop, accounts[h], inv.Code); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(w.check)
	return w
}

func (w *world) advance(d time.Duration) { w.mu.Lock(); w.now = w.now.Add(d); w.mu.Unlock() }

// check is the ledger invariant after every test.
func (w *world) check() {
	rep, err := w.ledger.Check(context.Background(), w.coop)
	if err != nil || !rep.OK {
		w.t.Errorf("ledger check: %+v, %v", rep, err)
	}
}

func (w *world) setRule(preset, params string) {
	w.t.Helper()
	if _, err := w.pool.SetRule(context.Background(), w.coop, w.ada, pool.SetRule{Preset: preset, Params: json.RawMessage(params)}); err != nil {
		w.t.Fatalf("SetRule(%s, %s): %v", preset, params, err)
	}
}

func (w *world) income(in pool.NewIncome) *pool.IncomeSplit {
	w.t.Helper()
	out, created, err := w.pool.RecordIncome(context.Background(), w.coop, w.ada, in)
	if err != nil || !created {
		w.t.Fatalf("RecordIncome(%+v) = %v, %v", in, created, err)
	}
	return out
}

func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.db.Read().QueryRow(q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func lines(ps []pool.Posting) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s→%s %d", p.Debit, p.Credit, p.Amount))
	}
	return out
}

func TestCustomTree(t *testing.T) {
	w := newWorld(t)
	w.setRule(pool.Custom, `{
		"tree": {"split": [
			{"bp": 6000, "label": "the member", "to": "member"},
			{"bp": 3333, "label": "funds", "split": [{"bp": 5000, "to": "coop:reserves"}, {"bp": 5000, "to": "member:cy"}]},
			{"bp": 667, "to": "coop:pool"}]},
		"kinds": {"sale": {"split": [{"bp": 9000, "to": "member"}, {"bp": 1000, "label": "rebate", "to": "buyer"}]}}}`)
	// 1001: 600.6 / 333.6333 / 66.7667 → 600, 333, 66 and the 2 left to
	// the two largest remainders (66.77, then 333.63): 600, 334, 67; the
	// funds' 334 → 167 / 167.
	got := w.income(pool.NewIncome{ID: "c-1", Member: "bo", Amount: 1001, Kind: "grant"})
	want := []string{"external→member:bo 600", "external→coop:reserves 167", "external→member:cy 167", "external→coop:pool 67"}
	if diff := cmp.Diff(want, lines(got.Postings)); diff != "" {
		t.Errorf("grant (-want +got):\n%s", diff)
	}
	if got.Postings[1].Part != "funds › coop:reserves" {
		t.Errorf("part = %q", got.Postings[1].Part)
	}
	got = w.income(pool.NewIncome{ID: "c-2", Member: "bo", Buyer: "cy", Amount: 50, Kind: "sale"})
	if diff := cmp.Diff([]string{"external→member:bo 45", "external→member:cy 5"}, lines(got.Postings)); diff != "" {
		t.Errorf("sale (-want +got):\n%s", diff)
	}
	_, _, err := w.pool.RecordIncome(context.Background(), w.coop, w.ada, pool.NewIncome{ID: "c-3", Member: "bo", Amount: 50, Kind: "sale"})
	if ve, ok := errors.AsType[*errs.ValidationError](err); !ok || ve.Fields["buyer"] == "" {
		t.Errorf("a sale without its buyer = %v, want a buyer error", err)
	}
}

// TestConcurrentIncome sends one income many times at once: one is made,
// every other answer is the same split, and the ledger holds it once.
func TestConcurrentIncome(t *testing.T) {
	w := newWorld(t)
	w.setRule(pool.Enspiral, "")
	in := pool.NewIncome{ID: "inv-7", Member: "bo", Amount: 100000, Kind: pool.KindInvoice}
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	var first []pool.Posting
	for range 8 {
		wg.Go(func() {
			out, created, err := w.pool.RecordIncome(context.Background(), w.coop, w.ada, in)
			if err != nil {
				t.Errorf("RecordIncome: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if created {
				made++
			}
			if first == nil {
				first = out.Postings
			} else if !cmp.Equal(first, out.Postings) {
				t.Errorf("answers differ: %v and %v", first, out.Postings)
			}
		})
	}
	wg.Wait()
	if made != 1 {
		t.Errorf("%d incomes made, want 1", made)
	}
	if n := w.count(`SELECT COUNT(*) FROM transfers WHERE id LIKE 'inc:inv-7:%'`); n != 3 {
		t.Errorf("%d transfers, want 3", n)
	}
}

// TestPeriodRunsOnce runs a month's distribution from many goroutines at
// once, then again: it is made once.
func TestPeriodRunsOnce(t *testing.T) {
	w := newWorld(t)
	w.setRule(pool.Marketplace, `{"fee_bp": 1000}`)
	for i, s := range []struct{ seller, buyer string }{{"bo", "cy"}, {"cy", "ada"}, {"bo", ""}} {
		w.income(pool.NewIncome{ID: fmt.Sprintf("s-%d", i), Member: s.seller, Buyer: s.buyer, Amount: int64(1000 * (i + 1)), Kind: pool.KindSale})
	}
	w.advance(10 * 24 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	for range 8 {
		wg.Go(func() {
			n, err := w.pool.RunDue(context.Background())
			if err != nil {
				t.Errorf("RunDue: %v", err)
			}
			mu.Lock()
			made += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if made != 1 {
		t.Errorf("%d runs made, want 1", made)
	}
	if n, err := w.pool.RunDue(context.Background()); n != 0 || err != nil {
		t.Errorf("RunDue again = %d, %v", n, err)
	}
	// Fees 100 + 200 + 300, half to the users' pool: 300. Traded: ada
	// 2000, bo 1000 + 3000, cy 1000 + 2000, of 9000: 66.67, 133.33, 100.
	runs, err := w.pool.RunPeriod(context.Background(), w.coop, w.ada, "2026-11", pool.JobMarketplace)
	if err != nil || runs[0].Status != pool.StatusDone {
		t.Fatalf("RunPeriod = %+v, %v", runs, err)
	}
	want := []string{"coop:users_pool→member:ada 67", "coop:users_pool→member:bo 133", "coop:users_pool→member:cy 100"}
	if diff := cmp.Diff(want, lines(runs[0].Postings)); diff != "" {
		t.Errorf("distribution (-want +got):\n%s", diff)
	}
	if n := w.count(`SELECT COUNT(*) FROM transfers WHERE id LIKE 'mkt:2026-11:%'`); n != 3 {
		t.Errorf("%d transfers, want 3", n)
	}
}

// TestFailedRunWritesNothing: a run that cannot post every transfer posts
// none and stores no run, so the next one starts clean.
func TestFailedRunWritesNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.setRule(pool.Marketplace, "")
	w.income(pool.NewIncome{ID: "s-1", Member: "bo", Buyer: "cy", Amount: 10000, Kind: pool.KindSale})
	// A treasurer moves the users' pool away by hand.
	if _, _, err := w.ledger.Submit(ctx, w.coop, w.ada, []ledger.Request{{ID: "away", Debit: "coop:users_pool",
		Credit: "coop:reserves", Amount: 1, Kind: "transfer"}}); err != nil {
		t.Fatal(err)
	}
	w.advance(10 * 24 * time.Hour)
	before := w.count(`SELECT COUNT(*) FROM transfers`)
	if _, err := w.pool.RunPeriod(ctx, w.coop, w.ada, "2026-11", pool.JobMarketplace); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("RunPeriod with the pool short = %v, want a conflict", err)
	}
	if n, err := w.pool.RunDue(ctx); n != 0 || err == nil {
		t.Errorf("RunDue with the pool short = %d, %v; want 0 and the error", n, err)
	}
	if after := w.count(`SELECT COUNT(*) FROM transfers`); after != before || w.count(`SELECT COUNT(*) FROM pool_periods`) != 0 {
		t.Errorf("a failed run wrote %d transfers or a period", after-before)
	}
	if _, _, err := w.ledger.Submit(ctx, w.coop, w.ada, []ledger.Request{{ID: "back", Debit: "coop:reserves",
		Credit: "coop:users_pool", Amount: 1, Kind: "transfer"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.pool.RunDue(ctx); n != 1 || err != nil {
		t.Errorf("RunDue once the pool is whole = %d, %v; want 1", n, err)
	}
}

func TestPermissions(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.setRule(pool.Enspiral, "")
	if _, err := w.pool.SetRule(ctx, w.coop, w.bo, pool.SetRule{Preset: pool.Enspiral}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a member sets the rule: %v", err)
	}
	if _, _, err := w.pool.RecordIncome(ctx, w.coop, w.bo, pool.NewIncome{ID: "i", Member: "bo", Amount: 1, Kind: "invoice"}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a member records income: %v", err)
	}
	if _, err := w.pool.RunPeriod(ctx, w.coop, w.bo, "2026-11", ""); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a member runs a month: %v", err)
	}
	if _, err := w.pool.Suspend(ctx, w.coop, w.bo, pool.NewSuspension{Project: "bo", From: "2026-12", Proposal: 1}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a member suspends a levy: %v", err)
	}
	if _, err := w.pool.Overview(ctx, w.coop, w.bo); err != nil {
		t.Errorf("a member reads the rule: %v", err)
	}
}

// TestRunDue charges the month's levy when it falls due, once however
// often the scheduler asks.
func TestRunDue(t *testing.T) {
	w := newWorld(t)
	w.setRule(pool.SolidarityLevy, `{"projects": [{"member": "bo", "area_m2": 80, "base_rent": 700, "start": "2026-11"}]}`)
	for range 2 {
		if _, err := w.pool.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.count(`SELECT COUNT(*) FROM transfers WHERE id = 'levy:2026-11:bo' AND amount = 800`); n != 1 {
		t.Errorf("RunDue charged %d levies of 800 for November, want 1", n)
	}
}

// TestLevyFollowsTheRule: a month is charged by the rule in force when it
// is charged, so a levy replaced before then charges nothing.
func TestLevyFollowsTheRule(t *testing.T) {
	w := newWorld(t)
	w.setRule(pool.SolidarityLevy, `{"projects": [{"member": "bo", "area_m2": 80, "base_rent": 700, "start": "2026-01"}]}`)
	w.advance(time.Hour)
	w.setRule(pool.Enspiral, "")
	if n, err := w.pool.RunDue(context.Background()); n != 0 || err != nil {
		t.Errorf("RunDue after the levy was replaced = %d, %v; want 0", n, err)
	}
	runs, err := w.pool.RunPeriod(context.Background(), w.coop, w.ada, "2026-11", pool.JobLevy)
	if err != nil || runs[0].Status != pool.StatusSkipped {
		t.Errorf("RunPeriod = %+v, %v; want skipped", runs, err)
	}
	if n := w.count(`SELECT COUNT(*) FROM pool_periods`); n != 0 {
		t.Errorf("%d runs stored, want none", n)
	}
}
