// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package budget runs participatory budget rounds (RULES.md 3.3): allowances, buckets, contributions and the close.
//
// Every amount moves through the ledger, which keeps every balance. A
// round's money sits in pots, ledger accounts named "bucket:<id>" (the
// one owner form the ledger offers for a round's accounts): a bucket's
// own pot has the bucket's id, and each member has an allowance pot per
// round, so her own money (member:<handle>) and her allowance never mix
// and the ledger's no-overdraft guards each allowance. [Service.OwnerExists]
// tells the ledger which pots exist.
package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Service is the budget service; it moves money only through the ledger.
type Service struct {
	DB     *store.DB
	Coops  *coop.Service
	Ledger *ledger.Service
	Now    func() time.Time
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// OwnerExists tells the ledger whether bucket:<id> exists in co-op coopID:
// nil iff <id> is one of its pots (a bucket or a member's allowance).
func (s *Service) OwnerExists(ctx context.Context, tx *store.Tx, coopID int64, owner string) error {
	id, ok := ledger.OwnerID(owner, "bucket")
	if !ok {
		return errs.Invalid("account", fmt.Sprintf("%s names no bucket", owner))
	}
	if k, ok := ctx.Value(newPotsKey{}).(*newPots); ok && k.coop == coopID && k.ids[id] {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM budget_pots WHERE id = $1 AND coop_id = $2`, id, coopID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Invalid("account", fmt.Sprintf("there is no bucket %d in this co-op", id))
	}
	if err != nil {
		return fmt.Errorf("budget: find pot %d: %w", id, err)
	}
	return nil
}

// newPots are pots this package has just opened in the transaction it is
// writing: the ledger asks about each account it opens, one query each,
// and a round opens 100,000 at once.
type newPots struct {
	coop int64
	ids  map[int64]bool
}

type newPotsKey struct{}

// withNewPots tells OwnerExists, through ctx, about pots opened in the
// current transaction.
func withNewPots(ctx context.Context, coopID int64, ids map[int64]bool) context.Context {
	return context.WithValue(ctx, newPotsKey{}, &newPots{coop: coopID, ids: ids})
}

// potOwner is the ledger owner of pot id.
func potOwner(id int64) string { return "bucket:" + strconv.FormatInt(id, 10) }

// forUpdate returns the clause that write-locks the selected rows until
// the transaction ends on PostgreSQL; SQLite's one writer at a time (its
// write transactions take the lock at BEGIN) serialises them already.
func forUpdate(tx *store.Tx) string {
	if tx.Engine == store.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// apply writes reqs through the ledger inside tx as one batch.
func (s *Service) apply(ctx context.Context, tx *store.Tx, c *coop.Coop, actor string, reqs []ledger.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	_, _, err := s.Ledger.Apply(ctx, tx, c, actor, reqs)
	return err
}

// available reads owner's available balance in unit (credits posted −
// debits posted − debits pending) from the ledger's accounts inside tx; 0
// when the ledger has not opened the account yet. The ledger's own
// Accounts reads outside any transaction; checks that decide a write must
// see the transaction's view.
func available(ctx context.Context, tx *store.Tx, coopID int64, owner, unit string) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT credits_posted - debits_posted - debits_pending FROM ledger_accounts
		WHERE coop_id = $1 AND owner = $2 AND unit = $3`, coopID, owner, unit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("budget: balance of %s: %w", owner, err)
	}
	return n, nil
}

// balance returns owner's available balance in unit as the ledger shows it.
func (s *Service) balance(ctx context.Context, c *coop.Coop, owner, unit string) (int64, error) {
	accts, err := s.Ledger.Accounts(ctx, c, owner)
	if err != nil {
		return 0, err
	}
	for _, a := range accts {
		if a.Unit == unit {
			return a.Available, nil
		}
	}
	return 0, nil
}

// requireManager returns a's membership of c if she is a treasurer or a
// secretary, who run rounds.
func (s *Service) requireManager(ctx context.Context, c *coop.Coop, a auth.Account) (coop.Member, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err == nil && !m.Treasurer && !m.Secretary {
		return m, fmt.Errorf("only a treasurer or a secretary of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// utcp normalises a scanned nullable time.
func utcp(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// textLen reports whether s, trimmed, has 1 to max characters.
func textLen(s string, max int) bool {
	n := len([]rune(strings.TrimSpace(s)))
	return n >= 1 && n <= max
}
