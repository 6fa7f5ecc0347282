// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"sync"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/store"
)

// Group commit. Requests that reach Submit at the same time are written
// in one transaction by the engine (engine.go): each is decided in turn,
// all-or-nothing, seeing the books exactly as if the requests had run one
// after the other in the order the group lists them; a refused one
// writes nothing and leaves the others alone; each accepted one gets its
// own audit event in the same commit. Nobody is answered before the
// commit. What the group saves is a transaction per request (on
// PostgreSQL a durable commit, a disk flush, per request; on SQLite the
// one writer's turn) and most statements: a group of any size is read
// and written in a fixed number of them, plus the audit events. Under no
// concurrency a group is one request and this is a plain transaction.
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

// applyGrouped runs Apply for reqs in the next group commit.
func (s *Service) applyGrouped(ctx context.Context, c *coop.Coop, a auth.Account, reqs []Request) ([]Transfer, bool, error) {
	j := &job{c: c, accountID: a.ID, reqs: reqs, done: make(chan struct{}), lead: make(chan struct{})}
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

// runGroup writes jobs in one transaction and answers them after the
// commit.
func (s *Service) runGroup(ctx context.Context, jobs []*job) {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		sc := newStmts(tx)
		defer sc.close()
		return s.applyJobs(ctx, sc, jobs)
	})
	for _, j := range jobs {
		if err != nil {
			// The group did not commit: nothing of it was written.
			j.out, j.created, j.err = nil, false, err
		}
		close(j.done)
	}
}
