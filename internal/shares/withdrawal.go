// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Withdrawal request states.
const (
	WithdrawalPending  = "pending"
	WithdrawalApproved = "approved"
	WithdrawalRejected = "rejected"
)

// Withdrawal is a holder's request to have shares of one holding paid
// back at par.
type Withdrawal struct {
	ID         int64  `json:"id"`
	OfferID    int64  `json:"offer_id"`
	OfferTitle string `json:"offer_title"`
	Handle     string `json:"handle"`
	Name       string `json:"name"`
	Shares     int64  `json:"shares"`
	Amount     int64  `json:"amount"`
	Unit       string `json:"unit"`
	State      string `json:"state"`
	// Reason is the board's, for a rejection.
	Reason      string    `json:"reason,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
	// DueAt ends the notice: the board may approve from then.
	DueAt      time.Time  `json:"due_at"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	TransferID string     `json:"transfer_id,omitempty"`
	accountID  int64
}

const selectWithdrawal = `SELECT w.id, w.offer_id, o.title, a.handle, a.name, w.shares, w.amount, o.unit, w.state, w.reason,
		w.requested_at, w.due_at, COALESCE(d.handle, ''), w.decided_at, w.transfer_id, w.account_id
	FROM share_withdrawals w JOIN share_offers o ON o.id = w.offer_id JOIN accounts a ON a.id = w.account_id
		LEFT JOIN accounts d ON d.id = w.decided_by`

func listWithdrawals(ctx context.Context, q queryer, where string, args ...any) ([]Withdrawal, error) {
	rows, err := q.QueryContext(ctx, selectWithdrawal+` WHERE `+where+` ORDER BY w.id DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("shares: list withdrawals: %w", err)
	}
	defer rows.Close()
	out := []Withdrawal{}
	for rows.Next() {
		var w Withdrawal
		var decided sql.NullTime
		if err := rows.Scan(&w.ID, &w.OfferID, &w.OfferTitle, &w.Handle, &w.Name, &w.Shares, &w.Amount, &w.Unit, &w.State,
			&w.Reason, &w.RequestedAt, &w.DueAt, &w.DecidedBy, &decided, &w.TransferID, &w.accountID); err != nil {
			return nil, fmt.Errorf("shares: scan withdrawal: %w", err)
		}
		w.RequestedAt, w.DueAt, w.DecidedAt = w.RequestedAt.UTC(), w.DueAt.UTC(), nullTime(decided)
		out = append(out, w)
	}
	return out, rows.Err()
}

func (s *Service) loadWithdrawal(ctx context.Context, q queryer, c *coop.Coop, id int64) (Withdrawal, error) {
	ws, err := listWithdrawals(ctx, q, `w.id = $1 AND w.coop_id = $2`, id, c.ID)
	if err != nil {
		return Withdrawal{}, err
	}
	if len(ws) == 0 {
		return Withdrawal{}, fmt.Errorf("no withdrawal request %d in %s: %w", id, c.Name, errs.ErrNotFound)
	}
	return ws[0], nil
}

// lockOffer takes offer id's row lock, which orders every change to its
// applications, holdings and withdrawals.
func lockOffer(ctx context.Context, tx *store.Tx, c *coop.Coop, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE share_offers SET state = state WHERE id = $1 AND coop_id = $2`, id, c.ID); err != nil {
		return fmt.Errorf("shares: lock offer: %w", err)
	}
	return nil
}

// RequestWithdrawal asks for shares of a's holding from offer offerID
// back at par. The holding's lock-in must have ended; shares may not
// exceed what she holds less what she has asked for already. The request
// is due after the offer's notice period. Requests may be made while
// withdrawals are suspended: the notice runs, the payment waits.
func (s *Service) RequestWithdrawal(ctx context.Context, c *coop.Coop, a auth.Account, offerID, shares int64) (*Withdrawal, error) {
	now := s.now()
	if shares < 1 || shares > MaxShares {
		return nil, errs.Invalid("shares", "ask for a whole number of shares, 1 or more")
	}
	var out Withdrawal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOffer(ctx, tx, c, offerID); err != nil {
			return err
		}
		o, err := s.loadOffer(ctx, tx, c, offerID)
		if err != nil {
			return err
		}
		hs, err := holdings(ctx, tx, c, a.ID, o.ID, now)
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return errs.Invalid("offer_id", fmt.Sprintf("you hold no shares of offer %d", o.ID))
		}
		h := hs[0]
		if now.Before(h.UnlocksAt) {
			return fmt.Errorf("these shares are locked in until %s: %w", h.UnlocksAt.Format(time.RFC3339), errs.ErrConflict)
		}
		if shares > h.Withdrawable {
			return errs.Invalid("shares", fmt.Sprintf("you may ask for at most %d shares (%d held, %d asked for already)", h.Withdrawable, h.Shares, h.Requested))
		}
		out = Withdrawal{OfferID: o.ID, OfferTitle: o.Title, Handle: a.Handle, Name: a.Name, Shares: shares, Amount: shares * o.Par,
			Unit: o.Unit, State: WithdrawalPending, RequestedAt: now, DueAt: now.AddDate(0, 0, o.NoticeDays)}
		err = tx.QueryRowContext(ctx, `INSERT INTO share_withdrawals (coop_id, offer_id, account_id, shares, amount, state, requested_at, due_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id`, c.ID, o.ID, a.ID, shares, out.Amount, now, out.DueAt).Scan(&out.ID)
		if err != nil {
			return fmt.Errorf("shares: request withdrawal: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.withdrawal_requested",
			Object: fmt.Sprintf("share_withdrawal:%d", out.ID), Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Book is the withdrawal requests a caller may see with the board's
// decisions on suspending them.
type Book struct {
	Suspension  Suspension   `json:"suspension"`
	Decisions   []Suspension `json:"decisions"`
	Withdrawals []Withdrawal `json:"withdrawals"`
	// All is true when Withdrawals are everyone's (the caller is a
	// secretary or treasurer), false when only her own.
	All bool `json:"all"`
}

// Withdrawals lists the withdrawal requests of c, newest first:
// everyone's to secretaries and treasurers, her own to anyone else.
func (s *Service) Withdrawals(ctx context.Context, c *coop.Coop, a auth.Account) (*Book, error) {
	out := &Book{}
	m, err := s.Coops.MemberOf(ctx, c, a.ID)
	out.All = err == nil && m.Active() && (m.Secretary || m.Treasurer)
	if out.All {
		out.Withdrawals, err = listWithdrawals(ctx, s.DB.Read(), `w.coop_id = $1`, c.ID)
	} else {
		out.Withdrawals, err = listWithdrawals(ctx, s.DB.Read(), `w.coop_id = $1 AND w.account_id = $2`, c.ID, a.ID)
	}
	if err != nil {
		return nil, err
	}
	if out.Decisions, err = s.decisions(ctx, s.DB.Read(), c, 100); err != nil {
		return nil, err
	}
	if len(out.Decisions) > 0 {
		out.Suspension = out.Decisions[0]
	}
	return out, nil
}

// decide is the common part of approving and rejecting: the secretary,
// the request locked with its offer, and a replay of the same decision.
func (s *Service) decide(ctx context.Context, c *coop.Coop, a auth.Account, id int64, state string,
	fn func(tx *store.Tx, w *Withdrawal, now time.Time) error) (*Withdrawal, bool, error) {
	if _, err := s.Coops.RequireSecretary(ctx, c, a.ID); err != nil {
		return nil, false, fmt.Errorf("the board (a secretary) decides withdrawals: %w", err)
	}
	w, err := s.loadWithdrawal(ctx, s.DB.Read(), c, id)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	created := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOffer(ctx, tx, c, w.OfferID); err != nil {
			return err
		}
		if w, err = s.loadWithdrawal(ctx, tx, c, id); err != nil {
			return err
		}
		switch w.State {
		case state:
			return nil
		case WithdrawalPending:
		default:
			return fmt.Errorf("withdrawal request %d is %s already: %w", id, w.State, errs.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `UPDATE share_withdrawals SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND state = 'pending'`,
			id, state, a.ID, now)
		if err != nil {
			return fmt.Errorf("shares: decide withdrawal: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("withdrawal request %d was decided meanwhile: %w", id, errs.ErrConflict)
		}
		w.State, w.DecidedBy, w.DecidedAt, created = state, a.Handle, &now, true
		return fn(tx, &w, now)
	})
	if err != nil {
		return nil, false, err
	}
	return &w, created, nil
}

// ApproveWithdrawal approves request id (secretaries): once its notice
// has run and while withdrawals are not suspended, shares × par move from
// the co-op's capital to the holder and the shares are cancelled in the
// register. Capital short of the amount refuses it (ledger.ErrInsufficient)
// and nothing changes. Approving it again answers with it (created false).
func (s *Service) ApproveWithdrawal(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Withdrawal, bool, error) {
	return s.decide(ctx, c, a, id, WithdrawalApproved, func(tx *store.Tx, w *Withdrawal, now time.Time) error {
		sus, err := s.suspension(ctx, tx, c)
		if err != nil {
			return err
		}
		if sus.Suspended {
			return fmt.Errorf("the board suspended withdrawals on %s: %s: %w", sus.DecidedAt.Format("2 Jan 2006"), sus.Reason, errs.ErrConflict)
		}
		if now.Before(w.DueAt) {
			return fmt.Errorf("the notice runs until %s: %w", w.DueAt.Format(time.RFC3339), errs.ErrConflict)
		}
		var held int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(shares), 0) FROM share_register WHERE offer_id = $1 AND account_id = $2`,
			w.OfferID, w.accountID).Scan(&held); err != nil {
			return fmt.Errorf("shares: holding: %w", err)
		}
		if held < w.Shares {
			return fmt.Errorf("%s holds %d shares of offer %d, not %d: %w", w.Handle, held, w.OfferID, w.Shares, errs.ErrConflict)
		}
		var classID int64
		if err := tx.QueryRowContext(ctx, `SELECT class_id FROM share_offers WHERE id = $1`, w.OfferID).Scan(&classID); err != nil {
			return fmt.Errorf("shares: offer class: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO share_register (coop_id, class_id, offer_id, account_id, shares, withdrawal_id, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, classID, w.OfferID, w.accountID, -w.Shares, w.ID, now); err != nil {
			return fmt.Errorf("shares: cancel shares: %w", err)
		}
		w.TransferID = withdrawalTransfer(w.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE share_withdrawals SET transfer_id = $2 WHERE id = $1`, w.ID, w.TransferID); err != nil {
			return fmt.Errorf("shares: withdrawal transfer: %w", err)
		}
		_, _, err = s.Ledger.Apply(ctx, tx, c, a.Actor(), []ledger.Request{{ID: w.TransferID, Debit: Capital, Credit: "member:" + w.Handle,
			Amount: w.Amount, Unit: w.Unit, Kind: KindWithdrawal, Ref: Owner(w.OfferID)}})
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.withdrawal_approved",
			Object: fmt.Sprintf("share_withdrawal:%d", w.ID), Payload: w})
		return err
	})
}

// RejectWithdrawal rejects request id with the board's reason
// (secretaries). Rejecting it again answers with it (created false).
func (s *Service) RejectWithdrawal(ctx context.Context, c *coop.Coop, a auth.Account, id int64, reason string) (*Withdrawal, bool, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, false, err
	}
	return s.decide(ctx, c, a, id, WithdrawalRejected, func(tx *store.Tx, w *Withdrawal, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `UPDATE share_withdrawals SET reason = $2 WHERE id = $1`, w.ID, reason); err != nil {
			return fmt.Errorf("shares: reject withdrawal: %w", err)
		}
		w.Reason = reason
		_, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.withdrawal_rejected",
			Object: fmt.Sprintf("share_withdrawal:%d", w.ID), Payload: w})
		return err
	})
}

func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 2000 {
		return "", errs.Invalid("reason", "give the board's reason, or the resolution that decided it, in 1 to 2000 characters")
	}
	return reason, nil
}

// Suspension is the board's decision in force on withdrawals: suspended
// or not, why, by whom and when (zero: never suspended).
type Suspension struct {
	Suspended bool       `json:"suspended"`
	Reason    string     `json:"reason,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

func (s *Service) decisions(ctx context.Context, q queryer, c *coop.Coop, limit int) ([]Suspension, error) {
	rows, err := q.QueryContext(ctx, `SELECT x.suspended, x.reason, a.handle, x.decided_at FROM share_suspensions x
		JOIN accounts a ON a.id = x.decided_by WHERE x.coop_id = $1 ORDER BY x.id DESC LIMIT $2`, c.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("shares: suspensions: %w", err)
	}
	defer rows.Close()
	out := []Suspension{}
	for rows.Next() {
		var x Suspension
		var at time.Time
		if err := rows.Scan(&x.Suspended, &x.Reason, &x.DecidedBy, &at); err != nil {
			return nil, fmt.Errorf("shares: scan suspension: %w", err)
		}
		at = at.UTC()
		x.DecidedAt = &at
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *Service) suspension(ctx context.Context, q queryer, c *coop.Coop) (Suspension, error) {
	xs, err := s.decisions(ctx, q, c, 1)
	if err != nil || len(xs) == 0 {
		return Suspension{}, err
	}
	return xs[0], nil
}

// SuspendWithdrawals records the board's decision (secretaries) to
// suspend withdrawals (suspend true) or resume them, with its reason:
// while suspended no withdrawal is approved. Deciding what is in force
// already is refused (errs.ErrConflict).
func (s *Service) SuspendWithdrawals(ctx context.Context, c *coop.Coop, a auth.Account, suspend bool, reason string) (*Suspension, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if _, err := s.Coops.RequireSecretary(ctx, c, a.ID); err != nil {
		return nil, fmt.Errorf("the board (a secretary) suspends withdrawals: %w", err)
	}
	now := s.now()
	out := &Suspension{Suspended: suspend, Reason: reason, DecidedBy: a.Handle, DecidedAt: &now}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		cur, err := s.suspension(ctx, tx, c)
		if err != nil {
			return err
		}
		if cur.Suspended == suspend {
			word := map[bool]string{true: "suspended", false: "running"}[suspend]
			return fmt.Errorf("withdrawals are %s already: %w", word, errs.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO share_suspensions (coop_id, suspended, reason, decided_by, decided_at)
			VALUES ($1, $2, $3, $4, $5)`, c.ID, suspend, reason, a.ID, now); err != nil {
			return fmt.Errorf("shares: record suspension: %w", err)
		}
		action := map[bool]string{true: "shares.withdrawals_suspended", false: "shares.withdrawals_resumed"}[suspend]
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: action,
			Object: "coop:" + c.Slug, Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
