// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/money"
	"opencoop/internal/store"
)

// Offer states. An open offer takes applications between OpensAt and
// ClosesAt; its close makes it allotted (shares issued) or failed (the
// total applied stayed below the minimum: every reservation voided).
const (
	StateOpen     = "open"
	StateAllotted = "allotted"
	StateFailed   = "failed"
)

// Phases of an offer as members see it: an open offer is upcoming before
// its window, open inside it, and ended after it until it is closed.
const (
	PhaseUpcoming = "upcoming"
	PhaseOpen     = "open"
	PhaseEnded    = "ended"
)

// Limits of an offer.
const (
	// MaxShares bounds an offer's maximum, in shares.
	MaxShares = 1_000_000_000_000
	// MaxLockInDays bounds the lock-in; MaxNoticeDays the notice.
	MaxLockInDays = 36500
	MaxNoticeDays = 3650
	// MaxWindow bounds how far ahead an offer may close.
	MaxWindow = 2 * 366 * 24 * time.Hour
)

// Offer is a community share offer (RULES.md 3.4). Targets and holdings
// count whole shares; the *Amount fields are the same in minor units of
// Unit (shares × Par).
type Offer struct {
	ID          int64  `json:"id"`
	CoopID      int64  `json:"-"`
	Coop        string `json:"coop"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Class is the stakeholder class the shares belong to; holders who are
	// applicants become its members when their shares are issued.
	Class   string `json:"class"`
	ClassID int64  `json:"-"`
	Unit    string `json:"unit"`
	// Par is the price of one share in minor units of Unit.
	Par             int64 `json:"par"`
	MinShares       int64 `json:"min_shares"`
	OptimumShares   int64 `json:"optimum_shares"`
	MaxShares       int64 `json:"max_shares"`
	MemberMinShares int64 `json:"member_min_shares"`
	MemberMaxShares int64 `json:"member_max_shares"`
	MinAmount       int64 `json:"min_amount"`
	OptimumAmount   int64 `json:"optimum_amount"`
	MaxAmount       int64 `json:"max_amount"`
	// OpensAt and ClosesAt are the window for applications.
	OpensAt  time.Time `json:"opens_at"`
	ClosesAt time.Time `json:"closes_at"`
	// Rule scales back an oversubscribed offer: fcfs, pro_rata or cap_largest.
	Rule string `json:"rule"`
	// LockInDays after the issue no share may be withdrawn; a withdrawal
	// is paid NoticeDays after it is asked for at the earliest.
	LockInDays int    `json:"lock_in_days"`
	NoticeDays int    `json:"notice_days"`
	State      string `json:"state"`
	Phase      string `json:"phase"`
	// AppliedShares is the total of the live applications (while open) or
	// of those counted at the close; Applications counts them.
	AppliedShares  int64      `json:"applied_shares"`
	AppliedAmount  int64      `json:"applied_amount"`
	Applications   int64      `json:"applications"`
	AllottedShares int64      `json:"allotted_shares"`
	AllottedAmount int64      `json:"allotted_amount"`
	CreatedBy      string     `json:"created_by"`
	CreatedAt      time.Time  `json:"created_at"`
	ClosedBy       string     `json:"closed_by,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
}

// Accepting reports whether o takes applications at now.
func (o *Offer) Accepting(now time.Time) bool {
	return o.State == StateOpen && !now.Before(o.OpensAt) && now.Before(o.ClosesAt)
}

func (o *Offer) derive(now time.Time) {
	o.MinAmount, o.OptimumAmount, o.MaxAmount = o.MinShares*o.Par, o.OptimumShares*o.Par, o.MaxShares*o.Par
	o.AppliedAmount, o.AllottedAmount = o.AppliedShares*o.Par, o.AllottedShares*o.Par
	o.Phase = o.State
	if o.State == StateOpen {
		switch {
		case now.Before(o.OpensAt):
			o.Phase = PhaseUpcoming
		case now.Before(o.ClosesAt):
			o.Phase = PhaseOpen
		default:
			o.Phase = PhaseEnded
		}
	}
}

// NewOffer is the board's request for an offer. Unit defaults to the
// co-op's currency, OpensAt to now.
type NewOffer struct {
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Class           string     `json:"class"`
	Unit            string     `json:"unit"`
	Par             int64      `json:"par"`
	MinShares       int64      `json:"min_shares"`
	OptimumShares   int64      `json:"optimum_shares"`
	MaxShares       int64      `json:"max_shares"`
	MemberMinShares int64      `json:"member_min_shares"`
	MemberMaxShares int64      `json:"member_max_shares"`
	OpensAt         *time.Time `json:"opens_at"`
	ClosesAt        time.Time  `json:"closes_at"`
	Rule            string     `json:"rule"`
	LockInDays      int        `json:"lock_in_days"`
	NoticeDays      int        `json:"notice_days"`
}

func (n *NewOffer) validate(c *coop.Coop, now time.Time) (coop.Class, error) {
	var v errs.ValidationError
	n.Title = strings.TrimSpace(n.Title)
	n.Description = strings.TrimSpace(n.Description)
	if n.Title == "" || utf8.RuneCountInString(n.Title) > 200 {
		v.Add("title", "give a title of 1 to 200 characters")
	}
	if utf8.RuneCountInString(n.Description) > 20000 {
		v.Add("description", "at most 20000 characters")
	}
	cl, ok := c.ClassByKey(n.Class)
	if !ok {
		v.Add("class", "name one of the co-op's classes: the holders join it")
	}
	if n.Unit == "" {
		n.Unit = c.Currency
	}
	if !money.ValidUnit(n.Unit) {
		v.Add("unit", "give a unit code such as EUR")
	}
	if n.Par < 1 || n.Par > money.MaxAmount {
		v.Add("par", "give the price of one share in minor units (100 is 1.00 EUR)")
	}
	switch {
	case n.MaxShares < 1 || n.MaxShares > MaxShares:
		v.Add("max_shares", fmt.Sprintf("give 1 to %d shares", int64(MaxShares)))
	case n.Par >= 1 && n.MaxShares > money.MaxAmount/n.Par:
		v.Add("max_shares", "the maximum times the par value is more money than opencoop counts")
	}
	if n.MinShares < 0 {
		v.Add("min_shares", "give 0 or more shares")
	}
	if n.OptimumShares < n.MinShares || n.OptimumShares > n.MaxShares {
		v.Add("optimum_shares", "the targets must be min_shares ≤ optimum_shares ≤ max_shares")
	}
	if n.MemberMinShares < 1 {
		v.Add("member_min_shares", "a member applies for at least 1 share")
	}
	if n.MemberMaxShares < n.MemberMinShares || n.MemberMaxShares > n.MaxShares {
		v.Add("member_max_shares", "give member_min_shares to max_shares")
	}
	// Scaling back never allots below the per-member minimum, so an
	// allotted offer may fall short of its maximum by up to member_min − 1
	// shares; the minimum must stay reachable.
	if n.MinShares >= 0 && n.MemberMinShares >= 1 && n.MinShares > n.MaxShares-n.MemberMinShares+1 {
		v.Add("min_shares", "leave room: min_shares ≤ max_shares − member_min_shares + 1")
	}
	opens := now
	if n.OpensAt != nil {
		opens = n.OpensAt.UTC().Truncate(time.Microsecond)
	}
	n.OpensAt = &opens
	n.ClosesAt = n.ClosesAt.UTC().Truncate(time.Microsecond)
	switch {
	case !n.ClosesAt.After(now):
		v.Add("closes_at", "the window must close in the future")
	case !n.ClosesAt.After(opens):
		v.Add("closes_at", "the window must close after it opens")
	case n.ClosesAt.Sub(now) > MaxWindow:
		v.Add("closes_at", "close the window within two years")
	}
	if !slices.Contains(Rules, n.Rule) {
		v.Add("rule", "choose fcfs, pro_rata or cap_largest")
	}
	if n.LockInDays < 0 || n.LockInDays > MaxLockInDays {
		v.Add("lock_in_days", fmt.Sprintf("give 0 to %d days", MaxLockInDays))
	}
	if n.NoticeDays < 0 || n.NoticeDays > MaxNoticeDays {
		v.Add("notice_days", fmt.Sprintf("give 0 to %d days", MaxNoticeDays))
	}
	return cl, v.Err()
}

// requireBoard returns account's membership of c if she is a secretary or
// a treasurer, the officers who run share offers.
func (s *Service) requireBoard(ctx context.Context, c *coop.Coop, account int64) (coop.Member, error) {
	m, err := s.Coops.RequireMember(ctx, c, account)
	if err == nil && !m.Secretary && !m.Treasurer {
		return m, fmt.Errorf("only a secretary or treasurer of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, err
}

// CreateOffer opens a share offer in c; secretaries and treasurers may.
// Bad fields are a *errs.ValidationError and nothing is written.
func (s *Service) CreateOffer(ctx context.Context, c *coop.Coop, a auth.Account, n NewOffer) (*Offer, error) {
	now := s.now()
	cl, err := n.validate(c, now)
	if err != nil {
		return nil, err
	}
	if _, err := s.requireBoard(ctx, c, a.ID); err != nil {
		return nil, err
	}
	o := &Offer{CoopID: c.ID, Coop: c.Slug, Title: n.Title, Description: n.Description, Class: cl.Key, ClassID: cl.ID,
		Unit: n.Unit, Par: n.Par, MinShares: n.MinShares, OptimumShares: n.OptimumShares, MaxShares: n.MaxShares,
		MemberMinShares: n.MemberMinShares, MemberMaxShares: n.MemberMaxShares, OpensAt: *n.OpensAt, ClosesAt: n.ClosesAt,
		Rule: n.Rule, LockInDays: n.LockInDays, NoticeDays: n.NoticeDays, State: StateOpen, CreatedBy: a.Handle, CreatedAt: now}
	o.derive(now)
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `INSERT INTO share_offers (coop_id, class_id, title, description, unit, par, min_shares, optimum_shares,
				max_shares, member_min_shares, member_max_shares, opens_at, closes_at, rule, lock_in_days, notice_days, state,
				created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`
		if err := tx.QueryRowContext(ctx, q, c.ID, cl.ID, o.Title, o.Description, o.Unit, o.Par, o.MinShares, o.OptimumShares,
			o.MaxShares, o.MemberMinShares, o.MemberMaxShares, o.OpensAt, o.ClosesAt, o.Rule, o.LockInDays, o.NoticeDays,
			o.State, a.ID, now).Scan(&o.ID); err != nil {
			return fmt.Errorf("shares: create offer: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "shares.offer_created",
			Object: Owner(o.ID), Payload: o})
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

const selectOffer = `SELECT o.id, o.coop_id, o.title, o.description, cl.key, o.class_id, o.unit, o.par, o.min_shares,
		o.optimum_shares, o.max_shares, o.member_min_shares, o.member_max_shares, o.opens_at, o.closes_at, o.rule,
		o.lock_in_days, o.notice_days, o.state, o.applied_shares, o.allotted_shares, a.handle, o.created_at,
		COALESCE(o.closed_by, ''), o.closed_at,
		(SELECT COUNT(*) FROM share_applications p WHERE p.offer_id = o.id AND p.state IN ('pending', 'allotted', 'refunded'))
	FROM share_offers o JOIN classes cl ON cl.id = o.class_id JOIN accounts a ON a.id = o.created_by`

func scanOffer(row interface{ Scan(...any) error }, c *coop.Coop, now time.Time) (*Offer, error) {
	o := &Offer{Coop: c.Slug}
	var closed sql.NullTime
	err := row.Scan(&o.ID, &o.CoopID, &o.Title, &o.Description, &o.Class, &o.ClassID, &o.Unit, &o.Par, &o.MinShares,
		&o.OptimumShares, &o.MaxShares, &o.MemberMinShares, &o.MemberMaxShares, &o.OpensAt, &o.ClosesAt, &o.Rule,
		&o.LockInDays, &o.NoticeDays, &o.State, &o.AppliedShares, &o.AllottedShares, &o.CreatedBy, &o.CreatedAt,
		&o.ClosedBy, &closed, &o.Applications)
	if err != nil {
		return nil, err
	}
	o.OpensAt, o.ClosesAt, o.CreatedAt = o.OpensAt.UTC(), o.ClosesAt.UTC(), o.CreatedAt.UTC()
	o.ClosedAt = nullTime(closed)
	o.derive(now)
	return o, nil
}

// loadOffer reads offer id of c in q; an offer of another co-op is
// errs.ErrNotFound like one that does not exist.
func (s *Service) loadOffer(ctx context.Context, q queryer, c *coop.Coop, id int64) (*Offer, error) {
	o, err := scanOffer(q.QueryRowContext(ctx, selectOffer+` WHERE o.id = $1 AND o.coop_id = $2`, id, c.ID), c, s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no share offer %d in %s: %w", id, c.Name, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("shares: load offer %d: %w", id, err)
	}
	return o, nil
}

// Offer returns c's offer id with its totals; offers are public.
func (s *Service) Offer(ctx context.Context, c *coop.Coop, id int64) (*Offer, error) {
	return s.loadOffer(ctx, s.DB.Read(), c, id)
}

// Offers lists c's offers with their totals, newest first.
func (s *Service) Offers(ctx context.Context, c *coop.Coop) ([]*Offer, error) {
	rows, err := s.DB.Read().QueryContext(ctx, selectOffer+` WHERE o.coop_id = $1 ORDER BY o.id DESC LIMIT 500`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("shares: list offers: %w", err)
	}
	defer rows.Close()
	now := s.now()
	out := []*Offer{}
	for rows.Next() {
		o, err := scanOffer(rows, c, now)
		if err != nil {
			return nil, fmt.Errorf("shares: scan offer: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
