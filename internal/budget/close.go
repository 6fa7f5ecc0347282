// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"context"
	"errors"
	"fmt"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// CloseRound closes round id of c for a treasurer or secretary; created
// is false when it was closed already (nothing is done twice). See
// [Service.close] for what a close does.
func (s *Service) CloseRound(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Round, bool, error) {
	if _, err := s.requireManager(ctx, c, a); err != nil {
		return nil, false, err
	}
	created, err := s.close(ctx, c, a.Actor(), id)
	if err != nil {
		return nil, false, err
	}
	r, err := s.loadRound(ctx, s.DB.Read(), c, id, "")
	return r, created, err
}

// CloseDue closes every open round whose funding window has ended, each
// in its own transaction, as "system"; the scheduler calls it. It returns
// how many it closed.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT coop_id, id FROM budget_rounds WHERE state = 'open' AND funding_to <= $1
		ORDER BY funding_to LIMIT 100`, s.now())
	if err != nil {
		return 0, fmt.Errorf("budget: rounds due: %w", err)
	}
	type due struct{ coop, id int64 }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.coop, &d.id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("budget: scan round due: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// One round that fails to close (and says why, through the
	// scheduler's log) must not hold up the others.
	n := 0
	var errsSeen []error
	for _, d := range list {
		c, err := s.Coops.CoopByID(ctx, d.coop)
		if err != nil {
			errsSeen = append(errsSeen, err)
			continue
		}
		created, err := s.close(ctx, c, "system", d.id)
		if err != nil {
			errsSeen = append(errsSeen, fmt.Errorf("budget: close round %d: %w", d.id, err))
			continue
		}
		if created {
			n++
		}
	}
	return n, errors.Join(errsSeen...)
}

// close applies round id's policies in one transaction, by ledger
// transfers whose ids derive from the round, bucket and member, with the
// audit event:
//
//  1. every bucket still open is under-funded: refund reverses each of its
//     contributions back to the allowance it came from; keep leaves the
//     money in the bucket (a treasurer may complete it later);
//     reclaim_to_pool moves what it holds to coop:pool;
//  2. then every allowance with money left: return_to_pool moves it to
//     coop:pool; roll_over leaves it for the next round of the unit,
//     which moves it into the member's new allowance when it begins.
//
// Funded buckets keep their money. A closed round is left as it is
// (created false).
func (s *Service) close(ctx context.Context, c *coop.Coop, actor string, id int64) (bool, error) {
	now := s.now()
	created := false
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.loadRound(ctx, tx, c, id, forUpdate(tx))
		if err != nil {
			return err
		}
		if r.State == RoundClosed {
			return nil
		}
		var t CloseTotals
		rows, err := tx.QueryContext(ctx, `SELECT id FROM buckets WHERE round_id = $1 AND state = 'open' ORDER BY id`+forUpdate(tx), r.ID)
		if err != nil {
			return fmt.Errorf("budget: under-funded buckets: %w", err)
		}
		var open []int64
		for rows.Next() {
			var b int64
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return fmt.Errorf("budget: scan bucket: %w", err)
			}
			open = append(open, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		outcomes := map[int64]string{}
		for _, b := range open {
			held, err := available(ctx, tx, c.ID, potOwner(b), r.Unit)
			if err != nil {
				return err
			}
			var outcome string
			switch r.Underfunded {
			case Refund:
				n, err := s.reverseContributions(ctx, tx, c, actor, b, 0, "refunded")
				if err != nil {
					return err
				}
				t.Refunded += n
				outcome = OutcomeRefunded
			case Keep:
				t.Kept += held
				outcome = OutcomeKept
			case ReclaimToPool:
				if held > 0 {
					err := s.apply(ctx, tx, c, actor, []ledger.Request{{ID: fmt.Sprintf("%s:reclaim:%d", r.Object(), b),
						Debit: potOwner(b), Credit: "coop:pool", Amount: held, Unit: r.Unit, Kind: "bucket_reclaim", Ref: r.Object()}})
					if err != nil {
						return err
					}
				}
				t.Reclaimed += held
				outcome = OutcomeReclaimed
			}
			if _, err := tx.ExecContext(ctx, `UPDATE buckets SET outcome = $2 WHERE id = $1`, b, outcome); err != nil {
				return fmt.Errorf("budget: record outcome: %w", err)
			}
			outcomes[b] = outcome
		}
		left, err := unspent(ctx, tx, r)
		if err != nil {
			return err
		}
		var reqs []ledger.Request
		for _, u := range left {
			if r.Unspent == RollOver {
				t.RolledOver += u.amount
				continue
			}
			t.Returned += u.amount
			reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("%s:return:%d", r.Object(), u.member), Debit: potOwner(u.pot),
				Credit: "coop:pool", Amount: u.amount, Unit: r.Unit, Kind: "allowance_return", Ref: r.Object()})
		}
		if err := s.apply(ctx, tx, c, actor, reqs); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE budget_rounds SET state = 'closed', closed_at = $2, refunded = $3, kept = $4, reclaimed = $5,
			returned = $6, rolled_over = $7 WHERE id = $1`, r.ID, now, t.Refunded, t.Kept, t.Reclaimed, t.Returned, t.RolledOver)
		if err != nil {
			return fmt.Errorf("budget: close round: %w", err)
		}
		created = true
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "budget.round_closed",
			Object: r.Object(), Payload: map[string]any{"underfunded": r.Underfunded, "unspent": r.Unspent, "totals": t,
				"buckets": outcomes, "allowances_left": len(left)}})
		return err
	})
	return created, err
}

// unspent returns the allowances of round r with money left, by pot id,
// their balances read from the ledger inside tx.
func unspent(ctx context.Context, tx *store.Tx, r *Round) ([]rollover, error) {
	rows, err := tx.QueryContext(ctx, `SELECT p.id, p.member_id, a.credits_posted - a.debits_posted - a.debits_pending
		FROM budget_pots p JOIN ledger_accounts a ON a.coop_id = p.coop_id AND a.owner = 'bucket:' || p.id AND a.unit = $2
		WHERE p.round_id = $1 AND p.kind = 'allowance' ORDER BY p.id`, r.ID, r.Unit)
	if err != nil {
		return nil, fmt.Errorf("budget: unspent allowances: %w", err)
	}
	defer rows.Close()
	var out []rollover
	for rows.Next() {
		u := rollover{round: r.ID}
		if err := rows.Scan(&u.pot, &u.member, &u.amount); err != nil {
			return nil, fmt.Errorf("budget: scan allowance: %w", err)
		}
		if u.amount > 0 {
			out = append(out, u)
		}
	}
	return out, rows.Err()
}
