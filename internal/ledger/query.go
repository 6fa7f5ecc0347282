// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"opencoop/internal/coop"
)

const selectAccount = `SELECT id, owner, unit, no_overdraft, external, credits_posted - debits_posted,
		credits_posted - debits_posted - debits_pending, debits_pending, credits_pending FROM ledger_accounts`

func scanAccounts(rows *sql.Rows) ([]Account, error) {
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.ID, &a.Owner, &a.Unit, &a.NoOverdraft, &a.External, &a.Balance, &a.Available,
			&a.DebitsPending, &a.CreditsPending); err != nil {
			return nil, fmt.Errorf("ledger: scan account: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Accounts lists c's accounts, those of one owner if owner is set.
func (s *Service) Accounts(ctx context.Context, c *coop.Coop, owner string) ([]Account, error) {
	q, args := selectAccount+` WHERE coop_id = $1`, []any{c.ID}
	if owner != "" {
		q, args = q+` AND owner = $2`, append(args, owner)
	}
	rows, err := s.DB.Read().QueryContext(ctx, q+` ORDER BY owner, unit`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: accounts: %w", err)
	}
	return scanAccounts(rows)
}

// Filter selects journal entries. Zero fields select everything; Before
// pages backwards by the journal's sequence.
type Filter struct {
	Owner  string
	Kind   string
	Unit   string
	From   time.Time
	To     time.Time
	Before int64
	Limit  int
}

// Entry is a transfer with its place in the journal.
type Entry struct {
	Seq int64 `json:"seq"`
	Transfer
}

// Transfers lists c's journal, newest first.
func (s *Service) Transfers(ctx context.Context, c *coop.Coop, f Filter) ([]Entry, error) {
	var where []string
	args := []any{c.ID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Owner != "" {
		add(`(d.owner = ? OR cr.owner = ?)`, f.Owner)
	}
	if f.Kind != "" {
		add(`t.kind = ?`, f.Kind)
	}
	if f.Unit != "" {
		add(`t.unit = ?`, f.Unit)
	}
	if !f.From.IsZero() {
		add(`t.at >= ?`, f.From)
	}
	if !f.To.IsZero() {
		add(`t.at < ?`, f.To)
	}
	if f.Before > 0 {
		add(`t.seq < ?`, f.Before)
	}
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 10000
	}
	q := strings.Replace(selectTransfer, "SELECT t.id", "SELECT t.seq, t.id", 1) + ` WHERE t.coop_id = $1`
	for _, w := range where {
		q += " AND " + w
	}
	q += fmt.Sprintf(` ORDER BY t.seq DESC LIMIT %d`, f.Limit)
	rows, err := s.DB.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: transfers: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		t, err := scanTransfer(seqScanner{rows, &e.Seq})
		if err != nil {
			return nil, fmt.Errorf("ledger: scan transfer: %w", err)
		}
		e.Transfer = t.Transfer
		out = append(out, e)
	}
	return out, rows.Err()
}

// seqScanner scans the leading seq column, then hands the rest on.
type seqScanner struct {
	rows *sql.Rows
	seq  *int64
}

func (s seqScanner) Scan(dest ...any) error { return s.rows.Scan(append([]any{s.seq}, dest...)...) }

// Report is what Check found: per unit, the sum of all balances (zero
// when the books balance), and every problem.
type Report struct {
	OK       bool                  `json:"ok"`
	Units    map[string]UnitReport `json:"units"`
	Problems []string              `json:"problems"`
}

// UnitReport sums one unit's books.
type UnitReport struct {
	Sum       int64 `json:"sum"`
	Accounts  int   `json:"accounts"`
	Transfers int   `json:"transfers"`
}

// Check replays c's journal into balances and compares them with the
// materialised ones (RULES.md 3.1): per unit they sum to zero, no
// no-overdraft account is below zero counting pending debits, every
// pending transfer resolved at most once and by no more than it reserved.
// It reads in one transaction, so it sees one consistent state.
func (s *Service) Check(ctx context.Context, c *coop.Coop) (*Report, error) {
	rep := &Report{Units: map[string]UnitReport{}, Problems: []string{}}
	type sums struct{ dp, cp, dq, cq int64 }
	replay := map[int64]*sums{}
	at := func(id int64) *sums {
		if replay[id] == nil {
			replay[id] = &sums{}
		}
		return replay[id]
	}
	err := s.DB.ReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT t.id, t.action, t.debit_id, t.credit_id, t.amount, t.unit,
				COALESCE(p.amount, 0), COALESCE(p.action, ''), COALESCE(o.action, '')
			FROM transfers t LEFT JOIN transfers p ON p.coop_id = t.coop_id AND p.id = t.pending_id
			LEFT JOIN transfers o ON o.coop_id = t.coop_id AND o.id = t.reverses
			WHERE t.coop_id = $1 ORDER BY t.seq`, c.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, action, unit, pAction, oAction string
			var debit, credit, amount, reserved int64
			if err := rows.Scan(&id, &action, &debit, &credit, &amount, &unit, &reserved, &pAction, &oAction); err != nil {
				rows.Close()
				return err
			}
			u := rep.Units[unit]
			u.Transfers++
			rep.Units[unit] = u
			d, cr := at(debit), at(credit)
			switch action {
			case ActTransfer, ActReverse:
				d.dp += amount
				cr.cp += amount
				if action == ActReverse && oAction != ActTransfer && oAction != ActPost {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s reverses something that was not posted", id))
				}
			case ActPending:
				d.dq += amount
				cr.cq += amount
			case ActPost, ActVoid, ActExpire:
				if pAction != ActPending || amount > reserved {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s resolves no pending transfer, or more than it reserved", id))
				}
				d.dq -= reserved
				cr.cq -= reserved
				if action == ActPost {
					d.dp += amount
					cr.cp += amount
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT id, owner, unit, no_overdraft, debits_posted, credits_posted, debits_pending,
			credits_pending FROM ledger_accounts WHERE coop_id = $1 ORDER BY id`, c.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var owner, unit string
			var noOverdraft bool
			var m sums
			if err := rows.Scan(&id, &owner, &unit, &noOverdraft, &m.dp, &m.cp, &m.dq, &m.cq); err != nil {
				return err
			}
			r := at(id)
			if *r != m {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s: stored balances %+v, journal gives %+v", owner, unit, m, *r))
			}
			if noOverdraft && r.cp-r.dp-r.dq < 0 {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s is overdrawn: available %d", owner, unit, r.cp-r.dp-r.dq))
			}
			u := rep.Units[unit]
			u.Accounts++
			u.Sum += r.cp - r.dp
			rep.Units[unit] = u
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: check: %w", err)
	}
	for u, r := range rep.Units {
		if r.Sum != 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s balances sum to %d, not 0", u, r.Sum))
		}
	}
	sort.Strings(rep.Problems)
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// TransferByID returns c's journal entry id (a transfer, or a resolution
// "<id>:post" …), or errs.ErrNotFound.
func (s *Service) TransferByID(ctx context.Context, c *coop.Coop, id string) (Transfer, error) {
	t, err := s.byID(ctx, s.DB.Read(), c.ID, id)
	return t.Transfer, err
}
