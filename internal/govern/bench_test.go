// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern_test

import (
	"context"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
	"opencoop/internal/vote"
)

// bigCoop founds a co-op with three weighted classes and adds n members by
// bulk SQL (the services would take minutes for 100,000 sign-ups).
func bigCoop(tb testing.TB, n int) (*govern.Service, *coop.Coop, auth.Account) {
	tb.Helper()
	ctx := context.Background()
	db := storetest.Open(tb)
	now := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	as := auth.NewService(db, now)
	cs := &coop.Service{DB: db, Now: now}
	gs := &govern.Service{DB: db, Coops: cs, Now: now, BallotKey: make([]byte, 32)}
	founder, err := as.CreateAccount(ctx, auth.NewAccount{Handle: "founder", Name: "F", Email: "f@example.org", Password: "password1"})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cs.Found(ctx, founder, coop.NewCoop{Slug: "big", Name: "Big", Purpose: "Scale.", Preset: "somerset"})
	if err != nil {
		tb.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		const accounts = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $1)
			INSERT INTO accounts (handle, name, email, password_hash, created_at)
			SELECT 'm' || i, 'Member ' || i, 'm' || i || '@example.org', 'x', $2 FROM seq`
		if _, err := tx.Exec(accounts, n-1, now()); err != nil {
			return err
		}
		// Classes by id % 3: workers, users, supporters (position order).
		const members = `INSERT INTO members (coop_id, account_id, class_id, state, weight, joined_at)
			SELECT $1, a.id, (SELECT cl.id FROM classes cl WHERE cl.coop_id = $1 AND cl.position = a.id % 3), 'member', 1, $2
			FROM accounts a WHERE a.handle <> 'founder'`
		_, err := tx.Exec(members, c.ID, now())
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return gs, c, founder
}

// BenchmarkClose100k closes a class-weighted yes/no proposal with 100,000
// members who all voted: loading, counting, storing the result and its
// audit event. Issue 2's target: under 1 s.
func BenchmarkClose100k(b *testing.B) {
	const n = 100_000
	gs, c, founder := bigCoop(b, n)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		p, err := gs.Create(ctx, c, founder, govern.NewProposal{Title: "Scale", Method: vote.YesNo, Weighting: "classes",
			QuorumPercent: 50, ClosesAt: gs.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		err = gs.DB.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(`INSERT INTO ballots (proposal_id, member_id, content, cast_at)
				SELECT proposal_id, member_id, CASE WHEN member_id % 3 = 0 THEN '{"choice":"no"}' WHEN member_id % 7 = 0
					THEN '{"choice":"abstain"}' ELSE '{"choice":"yes"}' END, $2 FROM electorate WHERE proposal_id = $1`, p.ID, gs.Now())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, err = gs.Close(ctx, c, founder, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		if got := p.Result.Participation.Voters; got != n {
			b.Fatalf("counted %d ballots, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n), "ballots/op")
}

func TestBigCoopClose(t *testing.T) {
	gs, c, founder := bigCoop(t, 300)
	ctx := context.Background()
	p, err := gs.Create(ctx, c, founder, govern.NewProposal{Title: "Small", Method: vote.YesNo, Weighting: "classes",
		ClosesAt: gs.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	p, err = gs.Close(ctx, c, founder, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Result.Participation.Members; got != 300 {
		t.Errorf("electorate = %d, want 300", got)
	}
	if p.Result.Outcome != vote.Rejected {
		t.Errorf("nobody voted: %s, want rejected", p.Result.Outcome)
	}
}

// BenchmarkCloseDelegated100k closes a Schulze proposal of 8 options with
// 100,000 members of whom 30% delegate in chains up to three long (RULES.md
// 2.4): reading the electorate, ballots and delegations, keeping the
// delegations, resolving the chains, counting and storing.
func BenchmarkCloseDelegated100k(b *testing.B) {
	const n = 100_000
	gs, c, founder := bigCoop(b, n)
	ctx := context.Background()
	opts := []vote.Option{{Key: "a"}, {Key: "b"}, {Key: "c"}, {Key: "d"}, {Key: "e"}, {Key: "f"}, {Key: "g"}, {Key: "h"}}
	err := gs.DB.InTx(ctx, func(tx *store.Tx) error {
		// Members whose id ends in 0, 1 or 2 delegate to the next id, so
		// chains run x0 → x1 → x2 → x3, who votes.
		_, err := tx.Exec(`INSERT INTO delegations (coop_id, member_id, scope, scope_id, trustee_id, created_at)
			SELECT coop_id, id, 'coop', 0, id + 1, $2 FROM members WHERE coop_id = $1 AND id % 10 < 3
				AND id + 1 IN (SELECT id FROM members WHERE coop_id = $1)`, c.ID, gs.Now())
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var voters int64
	for b.Loop() {
		b.StopTimer()
		p, err := gs.Create(ctx, c, founder, govern.NewProposal{Title: "Scale", Method: vote.Schulze, Options: opts,
			DefaultOption: "a", ClosesAt: gs.Now().Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		err = gs.DB.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(`INSERT INTO ballots (proposal_id, member_id, content, cast_at)
				SELECT proposal_id, member_id, CASE member_id % 4
					WHEN 0 THEN '{"ranking":[["b"],["c","d"],["a"]]}' WHEN 1 THEN '{"ranking":[["c"],["b"],["h"],["a"]]}'
					WHEN 2 THEN '{"ranking":[["a"],["e"]]}' ELSE '{"ranking":[["d"],["b"],["g"],["f"],["a"]]}' END, $2
				FROM electorate WHERE proposal_id = $1 AND member_id % 10 >= 3`, p.ID, gs.Now())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, err = gs.Close(ctx, c, founder, p.ID)
		if err != nil {
			b.Fatal(err)
		}
		voters = p.Result.Participation.Voters
	}
	if voters < n*95/100 {
		b.Fatalf("counted %d voters of %d; delegation lost votes", voters, n)
	}
	b.ReportMetric(float64(voters), "voters/op")
}
