// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// bigCoop is a co-op of n members (m1…mn) made straight in the database,
// and its funded pool.
func bigCoop(tb testing.TB, n int) (*ledger.Service, *coop.Coop, *store.DB) {
	tb.Helper()
	ctx := context.Background()
	db := storetest.Open(tb)
	now := func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }
	as := auth.NewService(db, now)
	cs := &coop.Service{DB: db, Now: now}
	ls := &ledger.Service{DB: db, Coops: cs, Now: now}
	founder, err := as.CreateAccount(ctx, auth.NewAccount{Handle: "founder", Name: "F", Email: "f@example.org", Password: "password1"})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cs.Found(ctx, founder, coop.NewCoop{Slug: "big", Name: "Big", Purpose: "Scale.", Preset: "open"})
	if err != nil {
		tb.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO accounts (handle, name, email, password_hash, created_at)
			SELECT 'm' || i, 'Member ' || i, 'm' || i || '@example.org', 'x', $2 FROM seq`, n, now()); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO members (coop_id, account_id, class_id, state, weight, joined_at)
			SELECT $1, a.id, (SELECT cl.id FROM classes cl WHERE cl.coop_id = $1), 'member', 1, $2
			FROM accounts a WHERE a.handle <> 'founder'`, c.ID, now())
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, _, err := ls.Apply(ctx, tx, c, "system", []ledger.Request{{ID: "fund", Debit: "external", Credit: "coop:pool", Amount: 1 << 50, Kind: "income"}})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ls, c, db
}

// BenchmarkApplyBatch writes batches of 1,000 transfers, each batch one
// transaction with its audit event: the pool pays 1,000 members, and
// every member passes part of it on to another. Issue target: 20,000
// transfers/s on SQLite.
func BenchmarkApplyBatch(b *testing.B) {
	const members, size = 2000, 1000
	ls, c, db := bigCoop(b, members)
	ctx := context.Background()
	reqs := make([]ledger.Request, size)
	b.ResetTimer()
	for n := range b.N {
		for i := range reqs {
			k := n*size + i
			reqs[i] = ledger.Request{ID: fmt.Sprintf("b%d", k), Debit: "coop:pool", Credit: fmt.Sprintf("member:m%d", k%members+1), Amount: 100, Kind: "allowance"}
			if i%2 == 1 {
				// the member paid just before passes 40 on, by the batch's net effect
				reqs[i] = ledger.Request{ID: fmt.Sprintf("b%d", k), Debit: reqs[i-1].Credit, Credit: fmt.Sprintf("member:m%d", (k*7)%members+1), Amount: 40, Kind: "gift"}
			}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := ls.Apply(ctx, tx, c, "system", reqs)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "transfers/s")
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		b.Fatalf("check: %v %+v", err, rep)
	}
}

// BenchmarkSubmit sends single transfers through Submit (the whole
// domain path of one API request, without HTTP) from 16 goroutines.
func BenchmarkSubmit(b *testing.B) {
	const members = 64
	ls, c, db := bigCoop(b, members)
	ctx := context.Background()
	founder, err := auth.NewService(db, time.Now).AccountByHandle(ctx, "founder")
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			_, _, err := ls.Submit(ctx, c, founder, []ledger.Request{{ID: fmt.Sprintf("s%d", i), Debit: "external",
				Credit: fmt.Sprintf("member:m%d", 1+i%members), Amount: 1 + i%500, Kind: "income"}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}
