// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
	"opencoop/internal/store"
)

// Contribution is one transfer from a member's allowance to a bucket.
// Reversal says how it was returned, if it was: withdrawn by her,
// cancelled with the bucket, or refunded at the close; ReversedBy is the
// reversing transfer.
type Contribution struct {
	ID         string     `json:"id"`
	BucketID   int64      `json:"bucket_id"`
	Member     string     `json:"member"`
	Amount     int64      `json:"amount"`
	Unit       string     `json:"unit"`
	At         time.Time  `json:"at"`
	Reversal   string     `json:"reversal,omitempty"`
	ReversedBy string     `json:"reversed_by,omitempty"`
	ReversedAt *time.Time `json:"reversed_at,omitempty"`
}

// NewContribution is what a member gives. ID, optional, is her
// idempotency key: sending the same contribution again returns the first.
type NewContribution struct {
	Amount int64  `json:"amount"`
	ID     string `json:"id"`
}

var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// Contribute moves n.Amount from the caller's allowance in the bucket's
// round to bucket id, in one transaction with its audit event. It checks,
// in order: the round open and its funding window, the bucket open, the
// round's per-member cap on this bucket (a *errs.ValidationError), the
// bucket's maximum (errs.ErrConflict: no overfunding) and, through the
// ledger's no-overdraft, her allowance (ledger.ErrInsufficient). A bucket
// that reaches its maximum is funded. created is false for a replay.
func (s *Service) Contribute(ctx context.Context, c *coop.Coop, a auth.Account, id int64, n NewContribution) (out *Contribution, created bool, err error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, false, err
	}
	var v errs.ValidationError
	if money.CheckAmount(n.Amount) != nil {
		v.Add("amount", "give a positive amount in minor units")
	}
	if n.ID != "" && !clientIDRE.MatchString(n.ID) {
		v.Add("id", "1 to 40 letters, digits, _ or -")
	}
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, b, err := s.lockBucket(ctx, tx, c, id)
		if err != nil {
			return err
		}
		var given, count int64
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN reversed_by IS NULL THEN amount ELSE 0 END), 0), COUNT(*)
			FROM budget_contributions WHERE bucket_id = $1 AND member_id = $2`, b.ID, m.ID).Scan(&given, &count)
		if err != nil {
			return fmt.Errorf("budget: her contributions: %w", err)
		}
		tid := fmt.Sprintf("contribution:%d:%d:n%d", b.ID, m.ID, count+1)
		if n.ID != "" {
			tid = fmt.Sprintf("contribution:%d:%d:c-%s", b.ID, m.ID, n.ID)
			if old, err := loadContribution(ctx, tx, c.ID, tid); err == nil {
				if old.Amount != n.Amount {
					return fmt.Errorf("contribution %q was sent before with another amount: %w", n.ID, errs.ErrConflict)
				}
				out, old.Member, old.Unit = old, m.Handle, r.Unit
				return nil
			} else if !errors.Is(err, errs.ErrNotFound) {
				return err
			}
		}
		if r.State != RoundOpen {
			return fmt.Errorf("the round %s is closed: %w", r.Title, errs.ErrConflict)
		}
		if !r.FundingOpen {
			return fmt.Errorf("funding in %s is open from %s to %s only: %w", r.Title,
				r.FundingFrom.Format(time.RFC3339), r.FundingTo.Format(time.RFC3339), errs.ErrConflict)
		}
		if b.State != Open {
			return fmt.Errorf("the bucket is %s, not open for funding: %w", b.State, errs.ErrConflict)
		}
		if r.MemberCap > 0 && given+n.Amount > r.MemberCap {
			return errs.Invalid("amount", fmt.Sprintf("each member may give this bucket at most %d minor units of %s; you may give %d more", r.MemberCap, r.Unit, max(0, r.MemberCap-given)))
		}
		raised, err := raisedTx(ctx, tx, b.ID)
		if err != nil {
			return err
		}
		if raised+n.Amount > b.Max {
			return fmt.Errorf("the bucket needs only %d more minor units of %s to reach its maximum of %d: %w", b.Max-raised, r.Unit, b.Max, errs.ErrConflict)
		}
		pot, err := allowancePot(ctx, tx, r.ID, m.ID)
		if err != nil {
			return err
		}
		_, _, err = s.Ledger.Apply(ctx, tx, c, a.Actor(), []ledger.Request{{ID: tid, Debit: potOwner(pot), Credit: b.Account,
			Amount: n.Amount, Unit: r.Unit, Kind: "contribution", Ref: b.Object()}})
		if errors.Is(err, ledger.ErrInsufficient) {
			left, _ := available(ctx, tx, c.ID, potOwner(pot), r.Unit)
			return fmt.Errorf("your allowance has %d minor units of %s left: %w", left, r.Unit, ledger.ErrInsufficient)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO budget_contributions (coop_id, id, round_id, bucket_id, member_id, amount, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, tid, r.ID, b.ID, m.ID, n.Amount, now)
		if err != nil {
			return fmt.Errorf("budget: record contribution: %w", err)
		}
		out = &Contribution{ID: tid, BucketID: b.ID, Member: m.Handle, Amount: n.Amount, Unit: r.Unit, At: now}
		created = true
		payload := map[string]any{"contribution": out, "raised": raised + n.Amount}
		if raised+n.Amount == b.Max {
			if _, err := tx.ExecContext(ctx, `UPDATE buckets SET state = 'funded', funded_at = $2 WHERE id = $1`, b.ID, now); err != nil {
				return fmt.Errorf("budget: fund bucket: %w", err)
			}
			payload["funded"] = true
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "budget.contributed",
			Object: b.Object(), Payload: payload})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// Withdraw returns every contribution the caller made to bucket id, while
// the bucket is still open, by reversing transfers; it returns the amount
// returned (errs.ErrConflict if there is nothing to return).
func (s *Service) Withdraw(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (int64, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var returned int64
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, b, err := s.lockBucket(ctx, tx, c, id)
		if err != nil {
			return err
		}
		if b.State == Draft {
			return fmt.Errorf("%s has no bucket %d: %w", c.Name, id, errs.ErrNotFound)
		}
		if err := want(r, b, Open); err != nil {
			return err
		}
		if returned, err = s.reverseContributions(ctx, tx, c, a.Actor(), b.ID, m.ID, "withdrawn"); err != nil {
			return err
		}
		if returned == 0 {
			return fmt.Errorf("you have given nothing to this bucket: %w", errs.ErrConflict)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "budget.withdrawn",
			Object: b.Object(), Payload: map[string]any{"member": m.Handle, "returned": returned}})
		return err
	})
	return returned, err
}

// reversalKinds are the ledger kinds of the reversing transfers.
var reversalKinds = map[string]string{"withdrawn": "withdrawal", "cancelled": "cancellation", "refunded": "refund"}

// reverseContributions reverses every contribution to bucket not yet
// returned (of member only, if member is not 0) with a reversing transfer
// "<id>:<reason>", records it and returns the sum. It goes through them
// in the order of the allowance pots, so concurrent reversals on
// PostgreSQL lock the pots' accounts in one order.
func (s *Service) reverseContributions(ctx context.Context, tx *store.Tx, c *coop.Coop, actor string, bucket, member int64, reason string) (int64, error) {
	q := `SELECT bc.id, bc.amount FROM budget_contributions bc
		JOIN budget_pots p ON p.round_id = bc.round_id AND p.member_id = bc.member_id
		WHERE bc.bucket_id = $1 AND bc.reversed_by IS NULL`
	args := []any{bucket}
	if member != 0 {
		q += ` AND bc.member_id = $2`
		args = append(args, member)
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY p.id, bc.at, bc.id`, args...)
	if err != nil {
		return 0, fmt.Errorf("budget: contributions to return: %w", err)
	}
	type due struct {
		id     string
		amount int64
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.amount); err != nil {
			rows.Close()
			return 0, fmt.Errorf("budget: scan contribution: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	now := s.now()
	var sum int64
	for _, d := range list {
		rid := d.id + ":" + reason
		if _, _, err := s.Ledger.Reverse(ctx, tx, c, actor, d.id, rid, reversalKinds[reason]); err != nil {
			return 0, err
		}
		_, err := tx.ExecContext(ctx, `UPDATE budget_contributions SET reversed_by = $3, reversal = $4, reversed_at = $5
			WHERE coop_id = $1 AND id = $2`, c.ID, d.id, rid, reason, now)
		if err != nil {
			return 0, fmt.Errorf("budget: record return: %w", err)
		}
		sum += d.amount
	}
	return sum, nil
}

// allowancePot returns member's allowance pot in round, or
// errs.ErrConflict when she has none (she joined after it began).
func allowancePot(ctx context.Context, tx *store.Tx, round, member int64) (int64, error) {
	var pot int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM budget_pots WHERE round_id = $1 AND member_id = $2`, round, member).Scan(&pot)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("you have no allowance in this round (members get one when it begins): %w", errs.ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("budget: find allowance: %w", err)
	}
	return pot, nil
}

func loadContribution(ctx context.Context, q queryer, coopID int64, id string) (*Contribution, error) {
	var k Contribution
	var rby, rev sql.NullString
	var rat sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT id, bucket_id, amount, at, reversed_by, reversal, reversed_at FROM budget_contributions
		WHERE coop_id = $1 AND id = $2`, coopID, id).Scan(&k.ID, &k.BucketID, &k.Amount, &k.At, &rby, &rev, &rat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no contribution %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("budget: load contribution: %w", err)
	}
	k.At, k.ReversedBy, k.Reversal, k.ReversedAt = k.At.UTC(), rby.String, rev.String, utcp(rat)
	return &k, nil
}

// Allowance is a member's allowance in a round: Granted is her share of
// D, computed from Basis (her contribution in the period, her class's
// weight, or 1); RolledIn what an earlier round carried over; Balance
// what her allowance account (Account) holds now, from the ledger; Given
// what she has in buckets now.
type Allowance struct {
	RoundID  int64  `json:"round_id"`
	Handle   string `json:"handle"`
	Unit     string `json:"unit"`
	Account  string `json:"account"`
	Basis    int64  `json:"basis"`
	Granted  int64  `json:"granted"`
	RolledIn int64  `json:"rolled_in"`
	Balance  int64  `json:"balance"`
	Given    int64  `json:"given"`
}

// Allowance returns the allowance in round roundID of the member with
// handle ("" or "me": the caller's), to herself, a treasurer or a
// secretary.
func (s *Service) Allowance(ctx context.Context, c *coop.Coop, a auth.Account, roundID int64, handle string) (*Allowance, error) {
	me, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	r, err := s.loadRound(ctx, s.DB.Read(), c, roundID, "")
	if err != nil {
		return nil, err
	}
	m := me
	if h := strings.ToLower(handle); h != "" && h != "me" && h != me.Handle {
		if !me.Treasurer && !me.Secretary {
			return nil, fmt.Errorf("only treasurers and secretaries see other members' allowances: %w", errs.ErrForbidden)
		}
		if m, err = s.Coops.MemberByHandle(ctx, c, h); err != nil {
			return nil, err
		}
	}
	al := &Allowance{RoundID: r.ID, Handle: m.Handle, Unit: r.Unit}
	var pot int64
	err = s.DB.Read().QueryRowContext(ctx, `SELECT id, basis, granted, rolled_in FROM budget_pots WHERE round_id = $1 AND member_id = $2`,
		r.ID, m.ID).Scan(&pot, &al.Basis, &al.Granted, &al.RolledIn)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s has no allowance in %s: %w", m.Handle, r.Title, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("budget: load allowance: %w", err)
	}
	al.Account = potOwner(pot)
	if al.Balance, err = s.balance(ctx, c, al.Account, r.Unit); err != nil {
		return nil, err
	}
	err = s.DB.Read().QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM budget_contributions
		WHERE round_id = $1 AND member_id = $2 AND reversed_by IS NULL`, r.ID, m.ID).Scan(&al.Given)
	if err != nil {
		return nil, fmt.Errorf("budget: her contributions: %w", err)
	}
	return al, nil
}
