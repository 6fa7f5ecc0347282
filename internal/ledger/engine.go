// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// The engine writes a list of requests ("jobs"), each all-or-nothing, in
// one transaction and a fixed number of statements, whatever their
// number: it reads what they need at once (callers, ids, accounts with
// their balances, locked), decides each job in turn in memory — exactly
// as if the jobs ran one after the other, each seeing those before it —
// and then writes the accepted ones together: their journal rows in
// multi-row INSERTs, every account once, by the net effect, and one audit
// event per job. A refused job writes nothing, not even an account.
// Apply is the engine with one job; Submit's group commit (group.go)
// hands it every request waiting.
//
// The UPDATE keeps the no-overdraft rule in its WHERE clause as the
// last line of defence: the engine has already checked every job against
// the locked rows, so it refusing anything means a bug, and the whole
// transaction fails.

// errEngine is the books refusing what the engine accepted: a bug.
var errEngine = errors.New("ledger: the books refused what the engine decided")

// job is one atomic request.
type job struct {
	c *coop.Coop
	// account is the caller, checked to be a member who may move what
	// she asks (Submit); zero for the services' Apply, which check
	// nothing about who asks.
	accountID int64
	member    coop.Member
	actor     string
	reqs      []Request
	bodies    []string // the requests' canonical content (admit fills it)
	out       []Transfer
	created   bool
	err       error
	done      chan struct{} // closed once answered (group.go)
	lead      chan struct{} // closed when handed the lead (group.go)
}

// coopState is what the engine knows of one co-op's books while deciding.
type coopState struct {
	accts   map[acctKey]*acct
	stored  map[string]stored  // transfers already in the journal, by id
	written map[string]*stored // transfers of jobs accepted before, by id
	badOwn  map[string]error   // owners no account may open for, and why
}

// acct is an account as the engine holds it while deciding.
type acct struct {
	id          int64 // 0 until opened
	noOverdraft bool
	sums
}

const selectCaller = `SELECT m.account_id, a.handle, m.state, m.is_treasurer FROM members m JOIN accounts a ON a.id = m.account_id
	WHERE m.coop_id = `

// applyJobs decides and writes jobs inside sc's transaction, setting each
// job's answer. It returns an error only when the database failed; the
// transaction must then be rolled back and every job fails with it.
func (s *Service) applyJobs(ctx context.Context, sc *stmts, jobs []*job) error {
	tx := sc.tx
	now := s.now()
	byCoop := map[int64][]*job{}
	var coops []*coop.Coop
	for _, j := range jobs {
		if byCoop[j.c.ID] == nil {
			coops = append(coops, j.c)
		}
		byCoop[j.c.ID] = append(byCoop[j.c.ID], j)
	}
	states := map[int64]*coopState{}
	for _, c := range coops {
		cj := byCoop[c.ID]
		// Callers: members in good standing who may move what they ask.
		var callers []int64
		for _, j := range cj {
			if j.accountID != 0 && !slices.Contains(callers, j.accountID) {
				callers = append(callers, j.accountID)
			}
		}
		members := map[int64]coop.Member{}
		for start := 0; start < len(callers); start += lookupChunk {
			part := callers[start:min(start+lookupChunk, len(callers))]
			args := []any{c.ID}
			rows, err := sc.query(ctx, selectCaller+param(tx, 1)+` AND m.account_id IN (`+placeholders(tx, &args, part)+`)`, args...)
			if err != nil {
				return fmt.Errorf("ledger: load callers: %w", err)
			}
			for rows.Next() {
				var m coop.Member
				if err := rows.Scan(&m.AccountID, &m.Handle, &m.State, &m.Treasurer); err != nil {
					rows.Close()
					return fmt.Errorf("ledger: load callers: %w", err)
				}
				members[m.AccountID] = m
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("ledger: load callers: %w", err)
			}
		}
		var ids []string
		var keys []acctKey
		seenKey := map[acctKey]bool{}
		for _, j := range cj {
			j.err = s.admit(j, members)
			if j.err != nil {
				continue
			}
			for _, r := range j.reqs {
				ids = append(ids, r.ID)
				for _, k := range []acctKey{{r.Debit, r.Unit}, {r.Credit, r.Unit}} {
					if !seenKey[k] {
						seenKey[k] = true
						keys = append(keys, k)
					}
				}
			}
		}
		st := &coopState{accts: map[acctKey]*acct{}, written: map[string]*stored{}}
		states[c.ID] = st
		var err error
		if st.stored, err = s.existing(ctx, sc, c.ID, ids); err != nil {
			return err
		}
		found := map[acctKey]int64{}
		if err := s.findAccounts(ctx, sc, c, keys, found); err != nil {
			return err
		}
		var missing []acctKey
		for _, k := range keys {
			if id, ok := found[k]; ok {
				st.accts[k] = &acct{id: id}
			} else {
				missing = append(missing, k)
				st.accts[k] = &acct{noOverdraft: k.owner != "external"}
			}
		}
		if st.badOwn, err = s.badOwners(ctx, sc, c, missing); err != nil {
			return err
		}
	}
	// Lock (PostgreSQL) and read every existing account, in id order.
	var order []int64
	byID := map[int64]*acct{}
	for _, st := range states {
		for _, a := range st.accts {
			if a.id != 0 {
				order = append(order, a.id)
				byID[a.id] = a
			}
		}
	}
	slices.Sort(order)
	if err := loadAccounts(ctx, sc, order, byID); err != nil {
		return err
	}

	// Decide, job by job.
	var accepted []*job
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		st := states[j.c.ID]
		j.out, j.created, j.err = s.decide(j, st, now)
		if j.err == nil && j.created {
			accepted = append(accepted, j)
		}
	}
	if len(accepted) == 0 {
		return nil
	}

	// Write: open the accounts the accepted jobs need, then the journal,
	// then every other account once, then the audit events.
	born := map[int64]bool{} // accounts opened with their totals just now
	for _, c := range coops {
		st := states[c.ID]
		var open []acctKey
		for k, a := range st.accts {
			if a.id == 0 && a.sums != (sums{}) {
				open = append(open, k)
			}
		}
		if len(open) > 0 {
			// A new account starts with what the accepted jobs did to it.
			opened, fresh, err := s.openAccounts(ctx, sc, c, open, func(k acctKey) sums { return st.accts[k].sums })
			if err != nil {
				return err
			}
			for k, id := range opened {
				st.accts[k].id = id
				if fresh[k] {
					born[id] = true
				}
			}
		}
	}
	delta := map[int64]*sums{}
	names := map[acctKey]int64{}
	add := func(id int64, posted, pending int64, debit bool) {
		d := delta[id]
		if d == nil {
			d = &sums{}
			delta[id] = d
		}
		if debit {
			d.dp += posted
			d.dq += pending
		} else {
			d.cp += posted
			d.cq += pending
		}
	}
	for _, c := range coops {
		st := states[c.ID]
		var es []entry
		ids := map[acctKey]int64{}
		for _, j := range accepted {
			if j.c.ID != c.ID {
				continue
			}
			for i := range j.out {
				t := &j.out[i]
				e := entry{t: t, body: j.bodies[i], posted: t.Amount}
				if t.Action == ActPending {
					e.posted, e.pending = 0, t.Amount
				}
				es = append(es, e)
				dk, ck := acctKey{t.Debit, t.Unit}, acctKey{t.Credit, t.Unit}
				ids[dk], ids[ck] = st.accts[dk].id, st.accts[ck].id
				names[dk], names[ck] = ids[dk], ids[ck]
				add(ids[dk], e.posted, e.pending, true)
				add(ids[ck], e.posted, e.pending, false)
			}
		}
		if len(es) > 0 {
			if err := s.insertTransfers(ctx, sc, c, es, ids); err != nil {
				return err
			}
		}
	}
	order = order[:0]
	for id, d := range delta {
		if *d != (sums{}) && !born[id] {
			order = append(order, id)
		}
	}
	slices.Sort(order)
	if err := s.applyDeltas(ctx, sc, order, delta, names); err != nil {
		// Not ErrInsufficient: the engine decided on the locked rows, so
		// this is a bug, and an internal error, whatever the books say.
		return fmt.Errorf("%w: %s", errEngine, err.Error())
	}
	events := make([]audit.Entry, len(accepted))
	for i, j := range accepted {
		events[i] = audit.Entry{Chain: j.c.ID, At: now, Actor: j.actor, Action: "ledger.transfers",
			Object: "ledger:" + j.c.Slug, Payload: auditPayload(j.out)}
	}
	_, err := audit.RecordAll(ctx, tx, events)
	return err
}

// admit checks a job's requests and, for a caller, that she is a member
// in good standing who may move what she asks.
func (s *Service) admit(j *job, members map[int64]coop.Member) error {
	if j.accountID != 0 {
		m, ok := members[j.accountID]
		if !ok || !m.Active() {
			return fmt.Errorf("only members of %s may do this: %w", j.c.Name, errs.ErrForbidden)
		}
		j.member, j.actor = m, m.Actor()
	}
	first := make(map[string]bool, len(j.reqs))
	j.bodies = make([]string, len(j.reqs))
	for i := range j.reqs {
		r := &j.reqs[i]
		if err := r.validate(j.c.Currency); err != nil {
			return prefix(err, i, len(j.reqs))
		}
		j.bodies[i] = r.body()
		if first[r.ID] {
			return errs.Invalid(fmt.Sprintf("transfers[%d].id", i), "two transfers of the batch have this id")
		}
		first[r.ID] = true
		if j.accountID != 0 {
			if err := byHand(j.member, r.Debit, r.Credit); err != nil {
				return err
			}
		}
	}
	return nil
}

// decide answers one job against the books as the jobs before it left
// them, and, if it is accepted, leaves its effect on them.
func (s *Service) decide(j *job, st *coopState, now time.Time) ([]Transfer, bool, error) {
	reqs, accts := j.reqs, st.accts
	out := make([]Transfer, len(reqs))
	old := 0
	for i, r := range reqs {
		body := j.bodies[i]
		if t, ok := st.written[r.ID]; ok {
			if t.body != body {
				return nil, false, fmt.Errorf("transfer id %q was used for a different transfer: %w", r.ID, errs.ErrConflict)
			}
			out[i] = t.Transfer
			old++
			continue
		}
		if t, ok := st.stored[r.ID]; ok {
			if t.body != body {
				return nil, false, fmt.Errorf("transfer id %q was used for a different transfer: %w", r.ID, errs.ErrConflict)
			}
			out[i] = t.Transfer
			old++
		}
	}
	switch {
	case old == len(reqs):
		return out, false, nil
	case old > 0:
		return nil, false, fmt.Errorf("the batch repeats %d of its %d transfers: send it whole or not at all: %w", old, len(reqs), errs.ErrConflict)
	}
	for _, r := range reqs {
		for _, o := range []string{r.Debit, r.Credit} {
			if err := st.badOwn[o]; err != nil && accts[acctKey{o, r.Unit}].id == 0 {
				return nil, false, err
			}
		}
	}
	// The net effect on each account, checked against what it holds.
	delta := map[acctKey]*sums{}
	var keys []acctKey
	at := func(k acctKey) *sums {
		d := delta[k]
		if d == nil {
			d = &sums{}
			delta[k] = d
			keys = append(keys, k)
		}
		return d
	}
	for _, r := range reqs {
		d, c := at(acctKey{r.Debit, r.Unit}), at(acctKey{r.Credit, r.Unit})
		if r.Pending {
			d.dq += r.Amount
			c.cq += r.Amount
		} else {
			d.dp += r.Amount
			c.cp += r.Amount
		}
	}
	for _, k := range keys {
		a, d := accts[k], delta[k]
		if avail := a.cp + d.cp - a.dp - d.dp - a.dq - d.dq; a.noOverdraft && avail < 0 {
			return nil, false, fmt.Errorf("%s (%s) has not enough available: %d short: %w", k.owner, k.unit, -avail, ErrInsufficient)
		}
		if a.dp+d.dp > maxTotal || a.cp+d.cp > maxTotal || a.dq+d.dq > maxTotal || a.cq+d.cq > maxTotal {
			return nil, false, fmt.Errorf("%s (%s) would exceed the most an account can hold: %w", k.owner, k.unit, errs.ErrConflict)
		}
	}
	for _, k := range keys {
		a, d := accts[k], delta[k]
		a.dp, a.cp, a.dq, a.cq = a.dp+d.dp, a.cp+d.cp, a.dq+d.dq, a.cq+d.cq
	}
	batch := ""
	if len(reqs) > 1 {
		batch = reqs[0].ID
	}
	ws := make([]stored, len(reqs)) // one allocation for the job's entries of st.written
	for i, r := range reqs {
		t := Transfer{ID: r.ID, Action: ActTransfer, Debit: r.Debit, Credit: r.Credit, Amount: r.Amount, Unit: r.Unit,
			Kind: r.Kind, Ref: r.Ref, Batch: batch, Actor: j.actor, At: now}
		if r.Pending {
			t.Action, t.State = ActPending, "pending"
			if r.Timeout > 0 {
				exp := now.Add(time.Duration(r.Timeout) * time.Second)
				t.ExpiresAt = &exp
			}
		}
		out[i] = t
		ws[i] = stored{Transfer: t, body: j.bodies[i]}
		st.written[r.ID] = &ws[i]
	}
	return out, true, nil
}

// loadAccounts reads the totals and flags of the accounts order names
// (sorted), locking them on PostgreSQL — in id order, so that two
// transactions touching the same accounts queue rather than deadlock.
// FOR NO KEY UPDATE is the lock the UPDATE takes anyway; unlike FOR
// UPDATE it lets other transactions' journal rows reference the accounts
// meanwhile. SQLite has one writer at a time and no row locks.
func loadAccounts(ctx context.Context, sc *stmts, order []int64, into map[int64]*acct) error {
	lock := ""
	if sc.tx.Engine == store.Postgres {
		lock = " FOR NO KEY UPDATE"
	}
	for start := 0; start < len(order); start += lookupChunk {
		part := order[start:min(start+lookupChunk, len(order))]
		args := []any{}
		q := `SELECT id, no_overdraft, debits_posted, credits_posted, debits_pending, credits_pending FROM ledger_accounts
			WHERE id IN (` + placeholders(sc.tx, &args, part) + `) ORDER BY id` + lock
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("ledger: load accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			var a acct
			if err := rows.Scan(&id, &a.noOverdraft, &a.dp, &a.cp, &a.dq, &a.cq); err != nil {
				rows.Close()
				return fmt.Errorf("ledger: load accounts: %w", err)
			}
			a.id = id
			*into[id] = a
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ledger: load accounts: %w", err)
		}
	}
	return nil
}
