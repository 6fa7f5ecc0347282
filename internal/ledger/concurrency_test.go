// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// engine fails the test when OPENCOOP_TEST_POSTGRES asks for PostgreSQL
// and the store is not on it: the concurrency tests below exist for the
// engine with row locks, and must not pass there by running elsewhere.
func engine(t *testing.T, db *store.DB) {
	t.Helper()
	if os.Getenv(storetest.EnvPostgres) != "" && db.Engine() != store.Postgres {
		t.Fatalf("%s is set but the store runs on %s", storetest.EnvPostgres, db.Engine())
	}
	t.Logf("engine: %s", db.Engine())
}

// TestConcurrentBatches: eight clients move money among five members in
// both directions at once, in batches, so that on PostgreSQL two
// transactions often want the same rows in opposite orders. Every batch
// either commits or is refused for want of money — none deadlocks or
// fails otherwise — no balance goes below zero, and the books balance.
func TestConcurrentBatches(t *testing.T) {
	ls, c, db := bigCoop(t, 5)
	engine(t, db)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var reqs []ledger.Request
		for i := 1; i <= 5; i++ {
			reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("seed%d", i), Debit: "coop:pool", Credit: fmt.Sprintf("member:m%d", i), Amount: 1000, Kind: "allowance"})
		}
		_, _, err := ls.Apply(ctx, tx, c, "system", reqs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const clients, batches = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for cl := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(cl), 7))
			for b := range batches {
				var reqs []ledger.Request
				for i := range 4 {
					from, to := 1+rng.IntN(5), 1+rng.IntN(5)
					if from == to {
						to = from%5 + 1
					}
					reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("c%d-%d-%d", cl, b, i), Debit: fmt.Sprintf("member:m%d", from),
						Credit: fmt.Sprintf("member:m%d", to), Amount: 1 + rng.Int64N(150), Kind: "payment", Pending: rng.IntN(4) == 0})
				}
				err := db.InTx(ctx, func(tx *store.Tx) error {
					_, _, err := ls.Apply(ctx, tx, c, "system", reqs)
					return err
				})
				mu.Lock()
				switch {
				case err == nil:
					results["ok"]++
				case errors.Is(err, ledger.ErrInsufficient):
					results["insufficient"]++
				default:
					t.Errorf("batch %d of client %d: %v", b, cl, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("batches: %v", results)
	if results["ok"] == 0 {
		t.Errorf("no batch committed")
	}
	accts, err := ls.Accounts(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	var members int64
	for _, a := range accts {
		if a.NoOverdraft && a.Available < 0 {
			t.Errorf("%s is overdrawn: %+v", a.Owner, a)
		}
		if a.Owner != "coop:pool" && a.Owner != "external" {
			members += a.Balance
		}
	}
	if members != 5000 {
		t.Errorf("the members hold %d, want the 5000 they were given", members)
	}
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("Check: %v %+v", err, rep)
	}
}

// TestConcurrentSameID: twenty clients send the same transfer at once
// (a client retrying on a timeout); it is written once, one answer says
// created and the others replay — on PostgreSQL the losers of the race
// on the id run their transaction again (Submit does) and find the
// winner's.
// Likewise twenty clients resolve one pending transfer, half posting and
// half voiding it: exactly one resolution wins, and the others get a
// replay (the same resolution) or a conflict (the other one).
func TestConcurrentSameID(t *testing.T) {
	ls, c, db := bigCoop(t, 2)
	engine(t, db)
	ctx := context.Background()
	apply := func(reqs ...ledger.Request) (bool, error) {
		var created bool
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			_, created, err = ls.Apply(ctx, tx, c, "system", reqs)
			return err
		})
		return created, err
	}
	founder, err := auth.NewService(db, time.Now).AccountByHandle(ctx, "founder")
	if err != nil {
		t.Fatal(err)
	}
	const clients = 20
	var wg sync.WaitGroup
	answers := make(chan string, clients)
	for range clients {
		wg.Go(func() {
			_, created, err := ls.Submit(ctx, c, founder, []ledger.Request{{ID: "same", Debit: "external", Credit: "member:m1", Amount: 500, Kind: "income"}})
			answers <- outcome(created, err)
		})
	}
	wg.Wait()
	close(answers)
	count := map[string]int{}
	for a := range answers {
		count[a]++
	}
	if count["ok"] != 1 || count["replay"] != clients-1 {
		t.Errorf("answers %v; want one ok and %d replays", count, clients-1)
	}
	if accts, _ := ls.Accounts(ctx, c, "member:m1"); len(accts) != 1 || accts[0].Balance != 500 {
		t.Errorf("m1's accounts %+v, want a balance of 500: the transfer written once", accts)
	}

	if _, err := apply(ledger.Request{ID: "p", Debit: "member:m1", Credit: "member:m2", Amount: 300, Kind: "pledge", Pending: true}); err != nil {
		t.Fatal(err)
	}
	results := make(chan string, clients)
	for i := range clients {
		wg.Go(func() {
			action := []string{ledger.ActPost, ledger.ActVoid}[i%2]
			var created bool
			err := db.InTx(ctx, func(tx *store.Tx) error {
				var err error
				_, created, err = ls.Resolve(ctx, tx, c, "system", "p", action, 0)
				return err
			})
			results <- action + " " + outcome(created, err)
		})
	}
	wg.Wait()
	close(results)
	count = map[string]int{}
	for r := range results {
		count[r]++
	}
	won := count["post ok"] + count["void ok"]
	if won != 1 {
		t.Errorf("resolutions %v; want exactly one to win", count)
	}
	for r := range count {
		if r != "post ok" && r != "void ok" && r != "post replay" && r != "void replay" && r != "post conflict" && r != "void conflict" {
			t.Errorf("unexpected answer %q", r)
		}
	}
	if _, err := ls.TransferByID(ctx, c, "p:post"); err == nil {
		if _, err := ls.TransferByID(ctx, c, "p:void"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("p was both posted and voided")
		}
	}
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("Check: %v %+v", err, rep)
	}
}

// TestGroupCommit: requests sent at once share commits (group.go), and
// each still stands alone: thirty members each send a good transfer, one
// naming a non-member, one overdrawing and a batch with a bad leg, all at
// once. Exactly the good ones are written, each with its own audit event,
// the refused ones leave nothing, and the audit chain verifies.
func TestGroupCommit(t *testing.T) {
	const n = 30
	ls, c, db := bigCoop(t, n)
	engine(t, db)
	ctx := context.Background()
	as := auth.NewService(db, time.Now)
	founder, err := as.AccountByHandle(ctx, "founder")
	if err != nil {
		t.Fatal(err)
	}
	var fund []ledger.Request
	for i := 1; i <= n; i++ {
		fund = append(fund, ledger.Request{ID: fmt.Sprintf("f%d", i), Debit: "external", Credit: fmt.Sprintf("member:m%d", i), Amount: 100, Kind: "income"})
	}
	if _, _, err := ls.Submit(ctx, c, founder, fund); err != nil {
		t.Fatal(err)
	}
	var before int
	db.Read().QueryRow(`SELECT COUNT(*) FROM audit_events WHERE chain = $1`, c.ID).Scan(&before)
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]int{}
	for i := 1; i <= n; i++ {
		a, err := as.AccountByHandle(ctx, fmt.Sprintf("m%d", i))
		if err != nil {
			t.Fatal(err)
		}
		me := fmt.Sprintf("member:m%d", i)
		for k, reqs := range [][]ledger.Request{
			{{ID: fmt.Sprintf("good%d", i), Debit: me, Credit: "coop:pool", Amount: 60, Kind: "gift"}},
			{{ID: fmt.Sprintf("stranger%d", i), Debit: me, Credit: "member:nobody", Amount: 1, Kind: "gift"}},
			{{ID: fmt.Sprintf("over%d", i), Debit: me, Credit: "coop:pool", Amount: 101, Kind: "gift"}},
			{{ID: fmt.Sprintf("b%d-1", i), Debit: me, Credit: "coop:pool", Amount: 1, Kind: "gift"}, {ID: fmt.Sprintf("b%d-2", i), Debit: me, Credit: "bucket:1", Amount: 1, Kind: "gift"}},
		} {
			wg.Go(func() {
				_, created, err := ls.Submit(ctx, c, a, reqs)
				mu.Lock()
				got[fmt.Sprint(k, " ", outcome(created, err))]++
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	// The good transfer and the overdraft race: 60 then 101 is refused,
	// 101 first leaves too little for 60 — one of the two per member.
	if got["1 invalid"] != n || got["3 forbidden"] != n || got["0 ok"]+got["2 ok"] != n || got["0 insufficient"]+got["2 insufficient"] != n {
		t.Errorf("answers %v", got)
	}
	es, err := ls.Transfers(ctx, c, ledger.Filter{Kind: "gift"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != n {
		t.Errorf("%d gifts in the journal, want the %d accepted", len(es), n)
	}
	var after int
	db.Read().QueryRow(`SELECT COUNT(*) FROM audit_events WHERE chain = $1`, c.ID).Scan(&after)
	if after-before != n {
		t.Errorf("%d audit events for %d accepted requests", after-before, n)
	}
	if r, err := audit.Verify(ctx, db); err != nil || r.Problem != nil {
		t.Errorf("audit chain: %v %v", err, r.Problem)
	}
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("Check: %v %+v", err, rep)
	}
}
