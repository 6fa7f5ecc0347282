// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"context"
	"fmt"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Closed is an offer after its close with every application it counted
// (the withdrawn ones left out), in the order they were made.
type Closed struct {
	Offer        *Offer        `json:"offer"`
	Applications []Application `json:"applications"`
}

// Close closes offer id of c: secretaries and treasurers once its window
// has ended, only secretaries (the board) before. See [Service.closeOffer]
// for what the close does. Closing a closed offer answers with the result
// (created false) and changes nothing.
func (s *Service) Close(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Closed, bool, error) {
	m, err := s.requireBoard(ctx, c, a.ID)
	if err != nil {
		return nil, false, err
	}
	o, err := s.Offer(ctx, c, id)
	if err != nil {
		return nil, false, err
	}
	if o.State == StateOpen && s.now().Before(o.ClosesAt) && !m.Secretary {
		return nil, false, fmt.Errorf("before the window ends only the board (a secretary) closes an offer: %w", errs.ErrForbidden)
	}
	created := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		created, err = s.closeOffer(ctx, tx, c, a.Actor(), id)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	out, err := s.closed(ctx, c, id)
	return out, created, err
}

func (s *Service) closed(ctx context.Context, c *coop.Coop, id int64) (*Closed, error) {
	o, err := s.Offer(ctx, c, id)
	if err != nil {
		return nil, err
	}
	ps, err := listApplications(ctx, s.DB.Read(), `p.offer_id = $1 AND p.state <> 'withdrawn'`, id)
	return &Closed{Offer: o, Applications: public(ps)}, err
}

// closeOffer closes offer id inside tx, as RULES.md 3.4 says: a total
// applied below the offer's minimum (or nothing at all) fails the offer
// and voids every reservation; otherwise each application is allotted its
// shares — all of them up to the maximum, above it by the offer's rule
// (see [Allot]) — posting shares × par of its reservation and releasing
// the rest, or voiding it when it gets none. Issued shares enter the
// share register; an applicant who gets shares becomes a member of the
// offer's class (votes stay one member one vote: a holding carries no
// weight); the escrow moves to the co-op's capital. It reports false,
// having changed nothing, when the offer is closed already.
func (s *Service) closeOffer(ctx context.Context, tx *store.Tx, c *coop.Coop, actor string, id int64) (bool, error) {
	now := s.now()
	// Take the offer's lock before reading anything, so that no
	// application or withdrawal lands between the count and the close.
	if _, err := tx.ExecContext(ctx, `UPDATE share_offers SET state = state WHERE id = $1 AND coop_id = $2`, id, c.ID); err != nil {
		return false, fmt.Errorf("shares: lock offer: %w", err)
	}
	o, err := s.loadOffer(ctx, tx, c, id)
	if err != nil {
		return false, err
	}
	if o.State != StateOpen {
		return false, nil
	}
	apps, err := listApplications(ctx, tx, `p.offer_id = $1 AND p.state = 'pending'`, o.ID)
	if err != nil {
		return false, err
	}
	applied := make([]int64, len(apps))
	var total int64
	for i, p := range apps {
		applied[i] = p.Shares
		total += p.Shares
	}
	if total != o.AppliedShares {
		return false, fmt.Errorf("shares: offer %d counts %d shares applied, its applications %d", o.ID, o.AppliedShares, total)
	}
	state, allot := StateFailed, make([]int64, len(apps))
	if total > 0 && total >= o.MinShares {
		state = StateAllotted
		if allot, err = Allot(o.Rule, applied, o.MaxShares, o.MemberMinShares); err != nil {
			return false, err
		}
	}
	var issued int64
	type line struct {
		Application int64  `json:"application"`
		Handle      string `json:"handle"`
		Applied     int64  `json:"applied"`
		Allotted    int64  `json:"allotted"`
	}
	lines := make([]line, len(apps))
	for i, p := range apps {
		lines[i] = line{p.ID, p.Handle, p.Shares, allot[i]}
		if allot[i] == 0 {
			if _, _, err := s.Ledger.Resolve(ctx, tx, c, actor, p.TransferID, ledger.ActVoid, 0); err != nil {
				return false, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE share_applications SET state = 'refunded', resolved_at = $2 WHERE id = $1`, p.ID, now); err != nil {
				return false, fmt.Errorf("shares: refund application: %w", err)
			}
			continue
		}
		if _, _, err := s.Ledger.Resolve(ctx, tx, c, actor, p.TransferID, ledger.ActPost, allot[i]*o.Par); err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE share_applications SET state = 'allotted', allotted_shares = $2, resolved_at = $3 WHERE id = $1`,
			p.ID, allot[i], now); err != nil {
			return false, fmt.Errorf("shares: allot application: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO share_register (coop_id, class_id, offer_id, account_id, shares, application_id, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, o.ClassID, o.ID, p.accountID, allot[i], p.ID, now); err != nil {
			return false, fmt.Errorf("shares: issue shares: %w", err)
		}
		if err := admit(ctx, tx, c, o, p, allot[i], actor, now); err != nil {
			return false, err
		}
		issued += allot[i]
	}
	if issued > 0 {
		_, _, err := s.Ledger.Apply(ctx, tx, c, actor, []ledger.Request{{ID: capitalTransfer(o.ID), Debit: Owner(o.ID), Credit: Capital,
			Amount: issued * o.Par, Unit: o.Unit, Kind: KindCapital, Ref: Owner(o.ID)}})
		if err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE share_offers SET state = $2, allotted_shares = $3, closed_by = $4, closed_at = $5 WHERE id = $1`,
		o.ID, state, issued, actor, now); err != nil {
		return false, fmt.Errorf("shares: close offer: %w", err)
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "shares.offer_closed", Object: Owner(o.ID),
		Payload: map[string]any{"state": state, "rule": o.Rule, "min_shares": o.MinShares, "max_shares": o.MaxShares,
			"applied_shares": total, "allotted_shares": issued, "par": o.Par, "unit": o.Unit, "capital": issued * o.Par,
			"allotments": lines}})
	return true, err
}

// admit makes the holder of application p a member of o's class if she
// is an applicant, as coop.Join would: state member, joined now.
func admit(ctx context.Context, tx *store.Tx, c *coop.Coop, o *Offer, p application, shares int64, actor string, now time.Time) error {
	admitted, err := coop.AdmitTx(ctx, tx, c, p.accountID, o.ClassID, now)
	if err != nil || !admitted {
		return err
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "member.admitted",
		Object: "member:" + p.Handle, Payload: map[string]any{"class": o.Class, "offer": o.ID, "shares": shares}})
	return err
}

// CloseDue closes every offer whose window has ended, each in its own
// transaction as "system"; the scheduler calls it. It returns how many it
// closed.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT id, coop_id FROM share_offers WHERE state = 'open' AND closes_at <= $1
		ORDER BY closes_at, id LIMIT 100`, s.now())
	if err != nil {
		return 0, fmt.Errorf("shares: due offers: %w", err)
	}
	type due struct{ id, coop int64 }
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.coop); err != nil {
			rows.Close()
			return 0, fmt.Errorf("shares: due offers: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("shares: due offers: %w", err)
	}
	n := 0
	for _, d := range list {
		c, err := s.Coops.CoopByID(ctx, d.coop)
		if err != nil {
			return n, err
		}
		var created bool
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			created, err = s.closeOffer(ctx, tx, c, "system", d.id)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("shares: close offer %d: %w", d.id, err)
		}
		if created {
			n++
		}
	}
	return n, nil
}
