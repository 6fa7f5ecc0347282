// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
)

// Holding is what one person holds of one offer's issue: the shares
// issued at its close less those withdrawn since.
type Holding struct {
	OfferID    int64  `json:"offer_id"`
	OfferTitle string `json:"offer_title"`
	Class      string `json:"class"`
	Unit       string `json:"unit"`
	Par        int64  `json:"par"`
	Shares     int64  `json:"shares"`
	// Amount is Shares × Par, what the shares are worth at par.
	Amount   int64     `json:"amount"`
	IssuedAt time.Time `json:"issued_at"`
	// UnlocksAt ends the lock-in: withdrawals may be asked for from then.
	UnlocksAt  time.Time `json:"unlocks_at"`
	NoticeDays int       `json:"notice_days"`
	// Requested counts the shares in withdrawal requests still pending;
	// Withdrawable what may be asked for now (0 while locked in).
	Requested    int64 `json:"requested"`
	Withdrawable int64 `json:"withdrawable"`
}

func unlocksAt(issued time.Time, lockInDays int) time.Time {
	return issued.AddDate(0, 0, lockInDays)
}

// holdings lists the holdings of account in c (one offer's if offerID is
// not 0) read in q, as they stand at now.
func holdings(ctx context.Context, q queryer, c *coop.Coop, account, offerID int64, now time.Time) ([]Holding, error) {
	where, args := `r.coop_id = $1 AND r.account_id = $2`, []any{c.ID, account}
	if offerID != 0 {
		where, args = where+` AND r.offer_id = $3`, append(args, offerID)
	}
	rows, err := q.QueryContext(ctx, `SELECT r.offer_id, o.title, cl.key, o.unit, o.par, o.lock_in_days, o.notice_days, o.closed_at,
			SUM(r.shares),
			COALESCE((SELECT SUM(w.shares) FROM share_withdrawals w WHERE w.offer_id = r.offer_id AND w.account_id = r.account_id
				AND w.state = 'pending'), 0)
		FROM share_register r JOIN share_offers o ON o.id = r.offer_id JOIN classes cl ON cl.id = r.class_id
		WHERE `+where+`
		GROUP BY r.offer_id, r.account_id, o.title, cl.key, o.unit, o.par, o.lock_in_days, o.notice_days, o.closed_at
		HAVING SUM(r.shares) > 0
		ORDER BY r.offer_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("shares: holdings: %w", err)
	}
	defer rows.Close()
	out := []Holding{}
	for rows.Next() {
		var h Holding
		var lockIn int
		var issued sql.NullTime
		if err := rows.Scan(&h.OfferID, &h.OfferTitle, &h.Class, &h.Unit, &h.Par, &lockIn, &h.NoticeDays, &issued,
			&h.Shares, &h.Requested); err != nil {
			return nil, fmt.Errorf("shares: scan holding: %w", err)
		}
		// Shares are issued at the close, so the offer's close is their date.
		h.IssuedAt = issued.Time.UTC()
		h.UnlocksAt = unlocksAt(h.IssuedAt, lockIn)
		h.Amount = h.Shares * h.Par
		if !now.Before(h.UnlocksAt) {
			h.Withdrawable = max(0, h.Shares-h.Requested)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Portfolio is one person's part in a co-op's share offers.
type Portfolio struct {
	// Member is her membership (nil: none); an applicant becomes a member
	// when shares are issued to her.
	Member       *coop.Member  `json:"member"`
	Applications []Application `json:"applications"`
	Holdings     []Holding     `json:"holdings"`
	Withdrawals  []Withdrawal  `json:"withdrawals"`
	Suspension   Suspension    `json:"suspension"`
}

// Mine returns a's applications, holdings and withdrawal requests in c.
func (s *Service) Mine(ctx context.Context, c *coop.Coop, a auth.Account) (*Portfolio, error) {
	out := &Portfolio{}
	m, err := s.Coops.MemberOf(ctx, c, a.ID)
	switch {
	case err == nil:
		out.Member = &m
	case !errors.Is(err, errs.ErrNotFound):
		return nil, err
	}
	ps, err := listApplications(ctx, s.DB.Read(), `p.coop_id = $1 AND p.account_id = $2`, c.ID, a.ID)
	if err != nil {
		return nil, err
	}
	out.Applications = public(ps)
	if out.Holdings, err = holdings(ctx, s.DB.Read(), c, a.ID, 0, s.now()); err != nil {
		return nil, err
	}
	if out.Withdrawals, err = listWithdrawals(ctx, s.DB.Read(), `w.coop_id = $1 AND w.account_id = $2`, c.ID, a.ID); err != nil {
		return nil, err
	}
	out.Suspension, err = s.suspension(ctx, s.DB.Read(), c)
	return out, err
}

// Holder is one line of the share register: what one person holds of one
// class, in one unit.
type Holder struct {
	Handle string `json:"handle"`
	Name   string `json:"name"`
	// State is her membership's (member, applicant, suspended, left).
	State  string `json:"state"`
	Class  string `json:"class"`
	Unit   string `json:"unit"`
	Shares int64  `json:"shares"`
	Amount int64  `json:"amount"`
}

// ClassTotal sums the register for one class and unit.
type ClassTotal struct {
	Class   string `json:"class"`
	Unit    string `json:"unit"`
	Holders int64  `json:"holders"`
	Shares  int64  `json:"shares"`
	Amount  int64  `json:"amount"`
}

// Register is the share register: every holder, by class.
type Register struct {
	Holders []Holder     `json:"holders"`
	Totals  []ClassTotal `json:"totals"`
}

// ShareRegister returns c's share register; members may read it.
func (s *Service) ShareRegister(ctx context.Context, c *coop.Coop, a auth.Account) (*Register, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT a.handle, a.name, COALESCE(m.state, ''), cl.key, o.unit, SUM(r.shares),
			SUM(r.shares * o.par)
		FROM share_register r JOIN accounts a ON a.id = r.account_id JOIN classes cl ON cl.id = r.class_id
			JOIN share_offers o ON o.id = r.offer_id
			LEFT JOIN members m ON m.coop_id = r.coop_id AND m.account_id = r.account_id
		WHERE r.coop_id = $1
		GROUP BY a.handle, a.name, m.state, cl.key, cl.position, o.unit
		HAVING SUM(r.shares) > 0
		ORDER BY cl.position, a.handle, o.unit`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("shares: register: %w", err)
	}
	defer rows.Close()
	out := &Register{Holders: []Holder{}, Totals: []ClassTotal{}}
	at := map[[2]string]int{}
	for rows.Next() {
		var h Holder
		if err := rows.Scan(&h.Handle, &h.Name, &h.State, &h.Class, &h.Unit, &h.Shares, &h.Amount); err != nil {
			return nil, fmt.Errorf("shares: scan register: %w", err)
		}
		out.Holders = append(out.Holders, h)
		k := [2]string{h.Class, h.Unit}
		i, ok := at[k]
		if !ok {
			i = len(out.Totals)
			at[k] = i
			out.Totals = append(out.Totals, ClassTotal{Class: h.Class, Unit: h.Unit})
		}
		t := &out.Totals[i]
		t.Holders++
		t.Shares += h.Shares
		t.Amount += h.Amount
	}
	return out, rows.Err()
}
