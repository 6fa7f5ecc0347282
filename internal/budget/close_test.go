// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"opencoop/internal/budget"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
)

func TestClosePolicies(t *testing.T) {
	for _, under := range []string{budget.Refund, budget.Keep, budget.ReclaimToPool} {
		for _, unspent := range []string{budget.ReturnToPool, budget.RollOver} {
			t.Run(under+"/"+unspent, func(t *testing.T) {
				f := newFixture(t)
				f.fundPool(4000)
				r := f.createRound(func(n *budget.NewRound) { n.Underfunded, n.Unspent = under, unspent })
				funded := f.openBucket(r, "bo", 100, 500)
				f.mustGive("ada", funded, 300)
				f.mustGive("bo", funded, 200)
				short := f.openBucket(r, "cy", 400, 1000)
				f.mustGive("cy", short, 150)
				f.mustGive("di", short, 100)
				idea, err := f.budget.CreateBucket(f.ctx, f.c, f.people["di"], r.ID, budget.NewBucket{Title: "Idea",
					Items: []budget.Item{{Title: "x", Max: 10}}, Publish: true})
				if err != nil {
					t.Fatal(err)
				}
				r, created, err := f.budget.CloseRound(f.ctx, f.c, f.people["ada"], r.ID)
				if err != nil || !created || r.State != budget.RoundClosed || r.Close == nil {
					t.Fatalf("CloseRound = %+v, %v, %v", r, created, err)
				}
				// Under-funded: 250 in the short bucket.
				want := budget.CloseTotals{}
				allowances := map[string]int64{"ada": 700, "bo": 800, "cy": 850, "di": 900}
				shortHolds, outcome := int64(250), ""
				switch under {
				case budget.Refund:
					want.Refunded, shortHolds, outcome = 250, 0, budget.OutcomeRefunded
					allowances["cy"], allowances["di"] = 1000, 1000
				case budget.Keep:
					want.Kept, outcome = 250, budget.OutcomeKept
				case budget.ReclaimToPool:
					want.Reclaimed, shortHolds, outcome = 250, 0, budget.OutcomeReclaimed
				}
				var left int64
				for _, v := range allowances {
					left += v
				}
				if unspent == budget.ReturnToPool {
					want.Returned = left
				} else {
					want.RolledOver = left
				}
				if *r.Close != want {
					t.Errorf("close totals = %+v, want %+v", *r.Close, want)
				}
				if b := f.bucket(short.ID); b.Raised != shortHolds || b.Outcome != outcome || b.State != budget.Open {
					t.Errorf("short bucket: %s/%s holds %d, want open/%s holding %d", b.State, b.Outcome, b.Raised, outcome, shortHolds)
				}
				if b := f.bucket(funded.ID); b.Raised != 500 || b.State != budget.Funded || b.Outcome != "" {
					t.Errorf("funded bucket: %s/%s holds %d, want funded with 500", b.State, b.Outcome, b.Raised)
				}
				if b := f.bucket(idea.ID); b.Outcome != "" || b.State != budget.Idea {
					t.Errorf("an idea never opened: %s/%s", b.State, b.Outcome)
				}
				for h, v := range allowances {
					got := f.allowance(r, h).Balance
					if unspent == budget.ReturnToPool && got != 0 {
						t.Errorf("%s's allowance keeps %d after return_to_pool", h, got)
					}
					if unspent == budget.RollOver && got != v {
						t.Errorf("%s's allowance keeps %d, want %d to roll over", h, got, v)
					}
				}
				if got, want := f.balance("coop:pool"), want.Returned+want.Reclaimed; got != want {
					t.Errorf("coop:pool = %d, want %d", got, want)
				}
				f.check()

				// Closing again does nothing; nothing more can happen in the round.
				transfers := f.count("transfers")
				if _, created, err := f.budget.CloseRound(f.ctx, f.c, f.people["ada"], r.ID); err != nil || created {
					t.Errorf("second close: created %v, %v", created, err)
				}
				if f.count("transfers") != transfers {
					t.Errorf("the second close wrote transfers")
				}
				_, err = f.give("ada", short, 1)
				wantKind(t, err, errs.ErrConflict)
				_, err = f.budget.Withdraw(f.ctx, f.c, f.people["di"], short.ID)
				wantKind(t, err, errs.ErrConflict)
				_, err = f.budget.Change(f.ctx, f.c, f.people["cy"], short.ID, budget.ActCancel, "")
				wantKind(t, err, errs.ErrConflict)
				_, err = f.budget.CreateBucket(f.ctx, f.c, f.people["cy"], r.ID, budget.NewBucket{Title: "Late", Items: []budget.Item{{Title: "x", Max: 1}}})
				wantKind(t, err, errs.ErrConflict)
				if under == budget.Keep {
					if b, err := f.budget.Change(f.ctx, f.c, f.people["ada"], short.ID, budget.ActComplete, ""); err != nil || b.Raised != 0 {
						t.Errorf("completing a kept bucket: %v %v", b, err)
					}
				}

				if unspent == budget.RollOver {
					// The next round carries each member's unspent allowance to
					// her new one; di left, so hers goes back to the pool.
					if err := f.coops.Leave(f.ctx, f.c, f.people["di"]); err != nil {
						t.Fatal(err)
					}
					pool := f.balance("coop:pool")
					f.fundPool(300)
					r2 := f.createRound(func(n *budget.NewRound) { n.Title = "Spring" })
					if r2.RolledIn != left-allowances["di"] || r2.Discretionary != pool+300 {
						t.Errorf("next round: rolled in %d, D %d; want %d, %d", r2.RolledIn, r2.Discretionary, left-allowances["di"], pool+300)
					}
					share := r2.Discretionary / 3
					for _, h := range []string{"ada", "bo", "cy"} {
						al := f.allowance(r2, h)
						if al.RolledIn != allowances[h] || al.Balance != allowances[h]+al.Granted || al.Granted < share {
							t.Errorf("%s in the next round: %+v, want %d rolled in", h, al, allowances[h])
						}
						if old := f.allowance(r, h); old.Balance != 0 {
							t.Errorf("%s's old allowance keeps %d after rolling over", h, old.Balance)
						}
					}
					if got := f.balance("coop:pool"); got != allowances["di"] {
						t.Errorf("coop:pool = %d, want di's %d back", got, allowances["di"])
					}
					old, err := f.budget.Round(f.ctx, f.c, f.people["ada"], r.ID)
					if err != nil || old.RolledInto != r2.ID {
						t.Errorf("the closed round rolled into %d, want %d (%v)", old.RolledInto, r2.ID, err)
					}
					// A third round finds nothing left to roll over.
					r3 := f.createRound(func(n *budget.NewRound) { n.Title = "Summer" })
					if r3.RolledIn != 0 {
						t.Errorf("rolled over twice: %d", r3.RolledIn)
					}
					f.check()
				}
			})
		}
	}
}

func TestWindows(t *testing.T) {
	f := newFixture(t)
	f.fundPool(400)
	now := f.now()
	r := f.createRound(func(n *budget.NewRound) {
		n.BucketsFrom, n.BucketsTo = now.Add(time.Hour), now.Add(2*time.Hour)
		n.FundingFrom, n.FundingTo = now.Add(3*time.Hour), now.Add(4*time.Hour)
	})
	item := []budget.Item{{Title: "x", Max: 50}}
	_, err := f.budget.CreateBucket(f.ctx, f.c, f.people["bo"], r.ID, budget.NewBucket{Title: "Early", Items: item})
	wantKind(t, err, errs.ErrConflict)
	f.advance(90 * time.Minute)
	b := f.openBucket(r, "bo", 0, 50)
	_, err = f.give("cy", b, 10) // funding has not started
	wantKind(t, err, errs.ErrConflict)
	f.advance(time.Hour)
	_, err = f.budget.CreateBucket(f.ctx, f.c, f.people["bo"], r.ID, budget.NewBucket{Title: "Late", Items: item})
	wantKind(t, err, errs.ErrConflict)
	f.advance(time.Hour)
	f.mustGive("cy", b, 10)
	f.advance(time.Hour) // funding is over
	_, err = f.give("cy", b, 10)
	wantKind(t, err, errs.ErrConflict)

	// The scheduler's close.
	n, err := f.budget.CloseDue(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("CloseDue = %d, %v; want 1", n, err)
	}
	r, err = f.budget.Round(f.ctx, f.c, f.people["bo"], r.ID)
	if err != nil || r.State != budget.RoundClosed || r.Close.Refunded != 10 || r.Close.Returned != 400 {
		t.Errorf("closed by the scheduler: %+v %v", r, err)
	}
	if n, err := f.budget.CloseDue(f.ctx); err != nil || n != 0 {
		t.Errorf("CloseDue again = %d, %v", n, err)
	}
	f.check()
}

// TestConcurrentContributions sends many contributions at once to a
// bucket near its maximum, and one member's whole allowance to two
// buckets at once: the bucket is never overfunded and the allowance never
// overdrawn.
func TestConcurrentContributions(t *testing.T) {
	f := newFixture(t)
	var handles []string
	for i := range 16 {
		h := fmt.Sprintf("m%02d", i)
		f.join(h, "users")
		handles = append(handles, h)
	}
	f.fundPool(20 * 100)
	r := f.createRound(nil) // 100 each
	b := f.openBucket(r, "bo", 0, 95)
	f.mustGive("bo", b, 5)
	var wg sync.WaitGroup
	results := make([]error, len(handles))
	for i, h := range handles {
		wg.Go(func() { _, results[i] = f.give(h, b, 10) })
	}
	wg.Wait()
	ok := 0
	for i, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, errs.ErrConflict):
			t.Errorf("%s: %v, want success or a conflict", handles[i], err)
		}
	}
	if b = f.bucket(b.ID); ok != 9 || b.Raised != 95 || b.State != budget.Funded {
		t.Errorf("%d contributions went through, the bucket holds %d (%s); want 9, 95, funded", ok, b.Raised, b.State)
	}

	// cy's whole allowance to two buckets at once: one goes through.
	b1, b2 := f.openBucket(r, "ada", 0, 500), f.openBucket(r, "di", 0, 500)
	for range 4 {
		var e1, e2 error
		wg.Go(func() { _, e1 = f.give("cy", b1, 60) })
		wg.Go(func() { _, e2 = f.give("cy", b2, 60) })
		wg.Wait()
		if (e1 == nil) == (e2 == nil) {
			if e1 == nil || e2 == nil {
				t.Fatalf("both 60s from an allowance of 100 went through")
			}
		}
		for _, err := range []error{e1, e2} {
			if err != nil && !errors.Is(err, ledger.ErrInsufficient) {
				t.Errorf("refused with %v, want insufficient funds", err)
			}
		}
		if _, err := f.budget.Withdraw(f.ctx, f.c, f.people["cy"], b1.ID); err != nil {
			if _, err := f.budget.Withdraw(f.ctx, f.c, f.people["cy"], b2.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if al := f.allowance(r, "cy"); al.Balance != 100 {
		t.Errorf("cy's allowance = %d, want 100", al.Balance)
	}
	f.check()
}

func TestContributionReplay(t *testing.T) {
	f := newFixture(t)
	f.fundPool(400)
	r := f.createRound(nil)
	b := f.openBucket(r, "bo", 0, 100)
	n := budget.NewContribution{Amount: 30, ID: "phone-1"}
	first, created, err := f.budget.Contribute(f.ctx, f.c, f.people["cy"], b.ID, n)
	if err != nil || !created {
		t.Fatalf("Contribute: %v %v", created, err)
	}
	transfers := f.count("transfers")
	again, created, err := f.budget.Contribute(f.ctx, f.c, f.people["cy"], b.ID, n)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("replay: %+v %v %v", again, created, err)
	}
	if f.count("transfers") != transfers || f.bucket(b.ID).Raised != 30 {
		t.Errorf("a replay moved money")
	}
	_, _, err = f.budget.Contribute(f.ctx, f.c, f.people["cy"], b.ID, budget.NewContribution{Amount: 31, ID: "phone-1"})
	wantKind(t, err, errs.ErrConflict)
	for _, bad := range []budget.NewContribution{{Amount: 0}, {Amount: -3}, {Amount: 5, ID: "bad id!"}} {
		_, _, err := f.budget.Contribute(f.ctx, f.c, f.people["cy"], b.ID, bad)
		if _, ok := errors.AsType[*errs.ValidationError](err); !ok {
			t.Errorf("Contribute(%+v) = %v, want invalid", bad, err)
		}
	}
	f.check()
}

func TestBadBucketInput(t *testing.T) {
	f := newFixture(t)
	f.fundPool(400)
	r := f.createRound(nil)
	for _, tc := range []struct {
		name, field string
		n           budget.NewBucket
	}{
		{"no title", "title", budget.NewBucket{Items: []budget.Item{{Title: "x", Max: 1}}}},
		{"no items", "items", budget.NewBucket{Title: "X"}},
		{"min above max", "items[0].max", budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Min: 5, Max: 4}}}},
		{"zero max", "items[0].max", budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x"}}}},
		{"negative min", "items[0].min", budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Min: -1, Max: 4}}}},
		{"unknown co-creator", "cocreators[0]", budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Max: 4}}, Cocreators: []string{"zed"}}},
		{"herself", "cocreators[0]", budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Max: 4}}, Cocreators: []string{"bo"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buckets := f.count("buckets")
			_, err := f.budget.CreateBucket(f.ctx, f.c, f.people["bo"], r.ID, tc.n)
			wantInvalid(t, err, tc.field)
			if f.count("buckets") != buckets {
				t.Errorf("a refused bucket was written")
			}
		})
	}
	_, err := f.budget.CreateBucket(f.ctx, f.c, f.people["bo"], r.ID+100, budget.NewBucket{Title: "X", Items: []budget.Item{{Title: "x", Max: 4}}})
	wantKind(t, err, errs.ErrNotFound)
}
