// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"fmt"
	"sync"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Group commit. Requests that reach Submit at the same time are written
// in one transaction, each inside its own savepoint: a request that fails
// rolls back to its savepoint and leaves the others alone, so every
// request is still all-or-nothing and sees the books exactly as if the
// requests had run one after the other, in the order the group lists
// them; its audit event is written in its savepoint, so a change and its
// event still commit together or not at all. Nobody is answered before
// the commit. What the group saves is a transaction per request (on
// PostgreSQL a durable commit, a disk flush, per request; on SQLite the
// one writer's turn) and the parsing of the same statements again for
// each request. Under no concurrency a group is one request and this
// is a plain transaction.
//
// The first request to find no group running leads: it takes every
// request waiting (up to maxGroup), writes them, answers them, and
// repeats until its own request is answered; then it hands the lead to
// the next request waiting, if any, so no caller serves others forever.

// maxGroup bounds the requests of one group.
const maxGroup = 256

type group struct {
	mu      sync.Mutex
	waiting []*job
	busy    bool
}

type job struct {
	c       *coop.Coop
	account auth.Account
	reqs    []Request
	out     []Transfer
	created bool
	err     error
	done    chan struct{} // closed once answered
	lead    chan struct{} // closed when handed the lead
}

// applyGrouped runs Apply for reqs in the next group commit.
func (s *Service) applyGrouped(ctx context.Context, c *coop.Coop, a auth.Account, reqs []Request) ([]Transfer, bool, error) {
	j := &job{c: c, account: a, reqs: reqs, done: make(chan struct{}), lead: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.waiting = append(g.waiting, j)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		select {
		case <-j.done:
			return j.out, j.created, j.err
		case <-j.lead:
		}
	}
	ctx = context.WithoutCancel(ctx)
	for {
		g.mu.Lock()
		n := min(len(g.waiting), maxGroup)
		jobs := append([]*job(nil), g.waiting[:n]...)
		g.waiting = g.waiting[n:]
		g.mu.Unlock()
		s.runGroup(ctx, jobs)
		select {
		case <-j.done:
		default:
			continue // ours waits in a later group
		}
		g.mu.Lock()
		if len(g.waiting) == 0 {
			g.busy = false
		} else {
			close(g.waiting[0].lead)
		}
		g.mu.Unlock()
		return j.out, j.created, j.err
	}
}

// runGroup writes jobs in one transaction, each in a savepoint, and
// answers them after the commit.
func (s *Service) runGroup(ctx context.Context, jobs []*job) {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		sc := newStmts(tx)
		defer sc.close()
		if len(jobs) == 1 {
			j := jobs[0]
			j.out, j.created, j.err = s.admitApply(ctx, sc, j)
			return j.err
		}
		for _, j := range jobs {
			if err := sc.exec(ctx, `SAVEPOINT ledger_request`); err != nil {
				return fmt.Errorf("ledger: savepoint: %w", err)
			}
			j.out, j.created, j.err = s.admitApply(ctx, sc, j)
			if j.err != nil {
				if err := sc.exec(ctx, `ROLLBACK TO SAVEPOINT ledger_request`); err != nil {
					return fmt.Errorf("ledger: roll back to savepoint: %w", err)
				}
			}
			if err := sc.exec(ctx, `RELEASE SAVEPOINT ledger_request`); err != nil {
				return fmt.Errorf("ledger: release savepoint: %w", err)
			}
		}
		return nil
	})
	for _, j := range jobs {
		if err != nil && (j.err == nil || len(jobs) > 1) {
			// The group did not commit: nothing of it was written.
			j.out, j.created, j.err = nil, false, err
		}
		close(j.done)
	}
}

const selectCaller = `SELECT a.handle, m.state, m.is_treasurer FROM members m JOIN accounts a ON a.id = m.account_id
	WHERE m.coop_id = $1 AND m.account_id = $2`

// admitApply checks that j's caller is a member in good standing who may
// move what j asks, then applies it.
func (s *Service) admitApply(ctx context.Context, sc *stmts, j *job) ([]Transfer, bool, error) {
	c := j.c
	rows, err := sc.query(ctx, selectCaller, c.ID, j.account.ID)
	if err != nil {
		return nil, false, fmt.Errorf("ledger: load caller: %w", err)
	}
	m := coop.Member{AccountID: j.account.ID}
	found := rows.Next()
	if found {
		err = rows.Scan(&m.Handle, &m.State, &m.Treasurer)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, false, fmt.Errorf("ledger: load caller: %w", err)
	}
	if !found || !m.Active() {
		return nil, false, fmt.Errorf("only members of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	for i := range j.reqs {
		r := &j.reqs[i]
		if err := r.validate(c.Currency); err != nil {
			return nil, false, prefix(err, i, len(j.reqs))
		}
		if err := byHand(m, r.Debit, r.Credit); err != nil {
			return nil, false, err
		}
	}
	return s.apply(ctx, sc, c, j.account.Actor(), j.reqs)
}
