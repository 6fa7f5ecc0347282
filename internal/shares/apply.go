// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Application states.
const (
	AppPending   = "pending"   // money reserved in escrow
	AppWithdrawn = "withdrawn" // voided by the applicant before the close
	AppAllotted  = "allotted"  // posted: AllottedShares issued, the rest released
	AppRefunded  = "refunded"  // voided at the close (below the minimum, or scaled to nothing)
)

// Application is one person's application to an offer.
type Application struct {
	ID         int64  `json:"id"`
	OfferID    int64  `json:"offer_id"`
	OfferTitle string `json:"offer_title,omitempty"`
	Handle     string `json:"handle"`
	Name       string `json:"name,omitempty"`
	Shares     int64  `json:"shares"`
	// Amount is what was reserved (Shares × par), in minor units of Unit.
	Amount         int64      `json:"amount"`
	Unit           string     `json:"unit"`
	State          string     `json:"state"`
	AllottedShares int64      `json:"allotted_shares"`
	AllottedAmount int64      `json:"allotted_amount"`
	TransferID     string     `json:"transfer_id"`
	AppliedAt      time.Time  `json:"applied_at"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
}

const selectApplication = `SELECT p.id, p.offer_id, o.title, a.handle, a.name, p.shares, p.amount, o.unit, p.state,
		p.allotted_shares, o.par, p.transfer_id, p.applied_at, p.resolved_at, p.account_id
	FROM share_applications p JOIN share_offers o ON o.id = p.offer_id JOIN accounts a ON a.id = p.account_id`

// application is an Application with what the package needs besides.
type application struct {
	Application
	accountID int64
}

func scanApplication(row interface{ Scan(...any) error }) (application, error) {
	var p application
	var par int64
	var resolved sql.NullTime
	err := row.Scan(&p.ID, &p.OfferID, &p.OfferTitle, &p.Handle, &p.Name, &p.Shares, &p.Amount, &p.Unit, &p.State,
		&p.AllottedShares, &par, &p.TransferID, &p.AppliedAt, &resolved, &p.accountID)
	p.AllottedAmount = p.AllottedShares * par
	p.AppliedAt = p.AppliedAt.UTC()
	p.ResolvedAt = nullTime(resolved)
	return p, err
}

func listApplications(ctx context.Context, q queryer, where string, args ...any) ([]application, error) {
	rows, err := q.QueryContext(ctx, selectApplication+` WHERE `+where+` ORDER BY p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("shares: list applications: %w", err)
	}
	defer rows.Close()
	var out []application
	for rows.Next() {
		p, err := scanApplication(rows)
		if err != nil {
			return nil, fmt.Errorf("shares: scan application: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func public(ps []application) []Application {
	out := make([]Application, len(ps))
	for i, p := range ps {
		out[i] = p.Application
	}
	return out
}

// RegisterApplicant makes a, who is not a member of c, an applicant of
// the class of offer offerID (membership state applicant), so that the
// co-op's books may hold money for her: a treasurer records what she paid
// from external to member:<handle>, and she applies with it. A member,
// or an applicant already, is answered with her membership unchanged
// (created false); a suspended member is refused. The offer must still be
// open (before or inside its window).
func (s *Service) RegisterApplicant(ctx context.Context, c *coop.Coop, a auth.Account, offerID int64) (m coop.Member, created bool, err error) {
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		o, err := s.loadOffer(ctx, tx, c, offerID)
		if err != nil {
			return err
		}
		if o.State != StateOpen || !now.Before(o.ClosesAt) {
			return fmt.Errorf("offer %d has closed: %w", o.ID, errs.ErrConflict)
		}
		var state string
		err = tx.QueryRowContext(ctx, `SELECT state FROM members WHERE coop_id = $1 AND account_id = $2`, c.ID, a.ID).Scan(&state)
		switch {
		case errors.Is(err, sql.ErrNoRows) || state == coop.StateLeft:
		case err != nil:
			return fmt.Errorf("shares: find membership: %w", err)
		case state == coop.StateSuspended:
			return fmt.Errorf("your membership of %s is suspended: %w", c.Name, errs.ErrForbidden)
		default:
			return nil // a member or an applicant already
		}
		// An applicant: one who left comes back as one.
		applicant := coop.Member{AccountID: a.ID, ClassID: o.ClassID, Handle: a.Handle, Class: o.Class,
			State: coop.StateApplicant, Weight: 1, JoinedAt: now}
		err = coop.AddMemberTx(ctx, tx, c, &applicant, a.Actor(), "member.applied", map[string]any{"class": o.Class, "offer": o.ID})
		created = err == nil
		return err
	})
	if err != nil {
		return m, false, err
	}
	m, err = s.Coops.MemberOf(ctx, c, a.ID)
	return m, created, err
}

// Apply applies for shares of offer offerID for a, reserving shares × par
// from member:<handle> to the offer's escrow in one transaction. She must
// be a member of c or an applicant (see [Service.RegisterApplicant]) with
// that much available; the window must be open; shares must lie between
// the offer's per-member minimum and its maximum less the shares of the
// class she holds already. One live application per person and offer:
// the same request again answers with it (created false), a different one
// is refused until she withdraws the first.
func (s *Service) Apply(ctx context.Context, c *coop.Coop, a auth.Account, offerID, shares int64) (*Application, bool, error) {
	now := s.now()
	if shares < 1 || shares > MaxShares {
		return nil, false, errs.Invalid("shares", "apply for a whole number of shares, 1 or more")
	}
	m, err := s.Coops.MemberOf(ctx, c, a.ID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && m.State == coop.StateLeft) {
		return nil, false, fmt.Errorf("only members and applicants of %s apply: register as an applicant first: %w", c.Name, errs.ErrForbidden)
	}
	if err != nil {
		return nil, false, err
	}
	if m.State == coop.StateSuspended {
		return nil, false, fmt.Errorf("your membership of %s is suspended: %w", c.Name, errs.ErrForbidden)
	}
	var out application
	created := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		o, err := s.loadOffer(ctx, tx, c, offerID)
		if err != nil {
			return err
		}
		live, err := listApplications(ctx, tx, `p.offer_id = $1 AND p.account_id = $2 AND p.state = 'pending'`, o.ID, a.ID)
		if err != nil {
			return err
		}
		if len(live) > 0 {
			if live[0].Shares == shares {
				out = live[0]
				return nil
			}
			return fmt.Errorf("you have applied for %d shares already: withdraw that application first: %w", live[0].Shares, errs.ErrConflict)
		}
		var held int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(shares), 0) FROM share_register WHERE coop_id = $1 AND class_id = $2 AND account_id = $3`,
			c.ID, o.ClassID, a.ID).Scan(&held); err != nil {
			return fmt.Errorf("shares: holding: %w", err)
		}
		switch most := o.MemberMaxShares - held; {
		case shares < o.MemberMinShares || shares > o.MemberMaxShares:
			return errs.Invalid("shares", fmt.Sprintf("apply for %d to %d shares", o.MemberMinShares, o.MemberMaxShares))
		case shares > most:
			return errs.Invalid("shares", fmt.Sprintf("you hold %d shares of this class; a holding is at most %d, so apply for at most %d", held, o.MemberMaxShares, most))
		}
		// The offer's row is the lock every application, withdrawal and
		// the close take first: an application lands before the close
		// counts them, or finds the offer closed.
		res, err := tx.ExecContext(ctx, `UPDATE share_offers SET applied_shares = applied_shares + $3
			WHERE id = $1 AND coop_id = $2 AND state = 'open' AND opens_at <= $4 AND closes_at > $4`, o.ID, c.ID, shares, now)
		if err != nil {
			return fmt.Errorf("shares: count application: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return notAccepting(o, now)
		}
		out = application{Application: Application{OfferID: o.ID, OfferTitle: o.Title, Handle: a.Handle, Name: a.Name, Shares: shares,
			Amount: shares * o.Par, Unit: o.Unit, State: AppPending, AppliedAt: now}, accountID: a.ID}
		err = tx.QueryRowContext(ctx, `INSERT INTO share_applications (coop_id, offer_id, account_id, shares, amount, transfer_id, state, applied_at)
			VALUES ($1, $2, $3, $4, $5, '', 'pending', $6) RETURNING id`, c.ID, o.ID, a.ID, shares, out.Amount, now).Scan(&out.ID)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("you have applied to this offer already: %w", errs.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("shares: insert application: %w", err)
		}
		out.TransferID = applicationTransfer(o.ID, out.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE share_applications SET transfer_id = $2 WHERE id = $1`, out.ID, out.TransferID); err != nil {
			return fmt.Errorf("shares: application transfer: %w", err)
		}
		_, _, err = s.Ledger.Apply(ctx, tx, c, a.Actor(), []ledger.Request{{ID: out.TransferID, Debit: "member:" + a.Handle,
			Credit: Owner(o.ID), Amount: out.Amount, Unit: o.Unit, Kind: KindApplication, Ref: Owner(o.ID), Pending: true}})
		if err != nil {
			return err
		}
		created = true
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.applied",
			Object: Owner(o.ID), Payload: out.Application})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return &out.Application, created, nil
}

// notAccepting says why o takes no applications at now.
func notAccepting(o *Offer, now time.Time) error {
	switch {
	case o.State != StateOpen:
		return fmt.Errorf("offer %d is closed (%s): %w", o.ID, o.State, errs.ErrConflict)
	case now.Before(o.OpensAt):
		return fmt.Errorf("offer %d opens at %s: %w", o.ID, o.OpensAt.Format(time.RFC3339), errs.ErrConflict)
	}
	return fmt.Errorf("offer %d stopped taking applications at %s: %w", o.ID, o.ClosesAt.Format(time.RFC3339), errs.ErrConflict)
}

// WithdrawApplication withdraws a's application appID to offer offerID
// while the window is open, voiding its reservation. Withdrawing it again
// answers with it (created false).
func (s *Service) WithdrawApplication(ctx context.Context, c *coop.Coop, a auth.Account, offerID, appID int64) (*Application, bool, error) {
	now := s.now()
	var out application
	created := false
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		o, err := s.loadOffer(ctx, tx, c, offerID)
		if err != nil {
			return err
		}
		ps, err := listApplications(ctx, tx, `p.id = $1 AND p.offer_id = $2`, appID, o.ID)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return fmt.Errorf("no application %d to offer %d: %w", appID, o.ID, errs.ErrNotFound)
		}
		out = ps[0]
		switch {
		case out.accountID != a.ID:
			return fmt.Errorf("only the applicant withdraws an application: %w", errs.ErrForbidden)
		case out.State == AppWithdrawn:
			return nil
		case out.State != AppPending:
			return fmt.Errorf("application %d is %s already: %w", appID, out.State, errs.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `UPDATE share_offers SET applied_shares = applied_shares - $3
			WHERE id = $1 AND coop_id = $2 AND state = 'open' AND closes_at > $4`, o.ID, c.ID, out.Shares, now)
		if err != nil {
			return fmt.Errorf("shares: uncount application: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("offer %d has stopped taking applications; its close settles them: %w", o.ID, errs.ErrConflict)
		}
		res, err = tx.ExecContext(ctx, `UPDATE share_applications SET state = 'withdrawn', resolved_at = $2 WHERE id = $1 AND state = 'pending'`, out.ID, now)
		if err != nil {
			return fmt.Errorf("shares: withdraw application: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("application %d was settled meanwhile: %w", appID, errs.ErrConflict)
		}
		if _, _, err := s.Ledger.Resolve(ctx, tx, c, a.Actor(), out.TransferID, ledger.ActVoid, 0); err != nil {
			return err
		}
		out.State, out.ResolvedAt, created = AppWithdrawn, &now, true
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.application_withdrawn",
			Object: Owner(o.ID), Payload: out.Application})
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return &out.Application, created, nil
}

// Applications lists every application to offer offerID, in the order
// they were made; secretaries and treasurers only.
func (s *Service) Applications(ctx context.Context, c *coop.Coop, a auth.Account, offerID int64) ([]Application, error) {
	if _, err := s.requireBoard(ctx, c, a.ID); err != nil {
		return nil, err
	}
	o, err := s.Offer(ctx, c, offerID)
	if err != nil {
		return nil, err
	}
	ps, err := listApplications(ctx, s.DB.Read(), `p.offer_id = $1`, o.ID)
	return public(ps), err
}
