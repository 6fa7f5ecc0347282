// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget_test

import (
	"fmt"
	"testing"
	"time"

	"opencoop/internal/budget"
	"opencoop/internal/store"
)

// bigFixture is the somerset fixture grown to n members by bulk SQL (the
// services would take minutes for 100,000 sign-ups), the new ones spread
// over the three classes.
func bigFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	f := newFixture(tb)
	err := f.db.InTx(f.ctx, func(tx *store.Tx) error {
		const accounts = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO accounts (handle, name, email, password_hash, created_at)
			SELECT 'm' || i, 'Member ' || i, 'm' || i || '@example.org', 'x', $2 FROM seq`
		if _, err := tx.Exec(accounts, n-4, f.now()); err != nil {
			return err
		}
		const members = `INSERT INTO members (coop_id, account_id, class_id, state, weight, joined_at)
			SELECT $1, a.id, (SELECT cl.id FROM classes cl WHERE cl.coop_id = $1 AND cl.position = a.id % 3), 'member', 1, $2
			FROM accounts a WHERE a.handle LIKE 'm%'`
		_, err := tx.Exec(members, f.c.ID, f.now())
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// BenchmarkAllowances100k creates a round for 100,000 members: it reads
// the members, computes every allowance by largest remainder, opens
// 100,000 allowance pots and posts 100,000 transfers from coop:pool
// through the ledger, with the audit events, in one transaction.
func BenchmarkAllowances100k(b *testing.B) {
	for _, rule := range []string{budget.Equal, budget.ByClass} {
		b.Run(rule, func(b *testing.B) {
			const n = 100_000
			f := bigFixture(b, n)
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				f.submit("ada", fmt.Sprintf("income-%d", i), "external", "coop:pool", 123_456_789)
				f.advance(time.Second)
				b.StartTimer()
				r, err := f.budget.CreateRound(f.ctx, f.c, f.people["ada"], f.newRound(func(nr *budget.NewRound) { nr.Allowance = rule }))
				if err != nil {
					b.Fatal(err)
				}
				if r.Members != n || r.Discretionary != 123_456_789 {
					b.Fatalf("round for %d members with D = %d", r.Members, r.Discretionary)
				}
			}
			b.ReportMetric(n, "allowances/op")
		})
	}
}

// TestBigRound creates a round for 3,000 members and checks that the
// allowances sum to D and the books balance.
func TestBigRound(t *testing.T) {
	f := bigFixture(t, 3000)
	f.fundPool(1_000_003)
	r := f.createRound(func(n *budget.NewRound) { n.Allowance = budget.ByClass })
	var sum int64
	err := f.db.Read().QueryRowContext(f.ctx, `SELECT SUM(granted) FROM budget_pots WHERE round_id = $1`, r.ID).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	if r.Members != 3000 || sum != 1_000_003 || f.balance("coop:pool") != 0 {
		t.Errorf("%d members, allowances sum to %d, pool keeps %d; want 3000, 1000003, 0", r.Members, sum, f.balance("coop:pool"))
	}
	f.check()
}
