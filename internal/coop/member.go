// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package coop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Membership states (RULES.md 1).
const (
	StateApplicant = "applicant"
	StateMember    = "member"
	StateSuspended = "suspended"
	StateLeft      = "left"
)

// Member is one person's membership of one co-op.
type Member struct {
	ID        int64  `json:"-"`
	CoopID    int64  `json:"-"`
	AccountID int64  `json:"-"`
	ClassID   int64  `json:"-"`
	Handle    string `json:"handle"`
	Name      string `json:"name"`
	Class     string `json:"class"`
	State     string `json:"state"`
	Weight    int64  `json:"weight"`
	Secretary bool   `json:"secretary"`
	// Treasurer may move the co-op's own accounts (RULES.md 3.1).
	Treasurer bool       `json:"treasurer"`
	JoinedAt  time.Time  `json:"joined_at"`
	LeftAt    *time.Time `json:"left_at,omitempty"`
}

// Actor names the member's account in audit events.
func (m Member) Actor() string { return fmt.Sprintf("account:%d", m.AccountID) }

// Active reports whether m is a member in good standing.
func (m Member) Active() bool { return m.State == StateMember }

// AddMemberTx adds m inside tx, the transaction of what brings her in
// (founding, an invitation, an application for shares), or brings back a
// member who had left, and records action with payload in the co-op's
// audit chain. One membership per person and co-op: anyone else already
// there is a conflict.
func AddMemberTx(ctx context.Context, tx *store.Tx, c *Coop, m *Member, actor, action string, payload any) error {
	const q = `INSERT INTO members (coop_id, account_id, class_id, state, weight, is_secretary, is_treasurer, joined_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (coop_id, account_id) DO UPDATE SET class_id = excluded.class_id, state = excluded.state,
			is_secretary = excluded.is_secretary, is_treasurer = excluded.is_treasurer, joined_at = excluded.joined_at, left_at = NULL
		WHERE members.state = 'left'
		RETURNING id`
	err := tx.QueryRowContext(ctx, q, c.ID, m.AccountID, m.ClassID, m.State, m.Weight, m.Secretary, m.Treasurer, m.JoinedAt).Scan(&m.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("you are a member of %s already: %w", c.Name, errs.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("coop: add member: %w", err)
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: m.JoinedAt, Actor: actor, Action: action,
		Object: "member:" + m.Handle, Payload: payload})
	return err
}

// insertMember adds m as she joins (founding, an invitation).
func insertMember(ctx context.Context, tx *store.Tx, c *Coop, m *Member, actor, action string) error {
	return AddMemberTx(ctx, tx, c, m, actor, action, map[string]any{"class": m.Class, "secretary": m.Secretary})
}

// AdmitTx makes the applicant accountID a member of class classID as of
// now, inside tx, as joining would; it reports false, changing nothing,
// if she is not an applicant. The caller records why (an allotment of
// shares, RULES.md 3.4).
func AdmitTx(ctx context.Context, tx *store.Tx, c *Coop, accountID, classID int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE members SET state = 'member', class_id = $3, joined_at = $4
		WHERE coop_id = $1 AND account_id = $2 AND state = 'applicant'`, c.ID, accountID, classID, now)
	if err != nil {
		return false, fmt.Errorf("coop: admit member: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

const selectMember = `SELECT m.id, m.coop_id, m.account_id, m.class_id, a.handle, a.name, cl.key, m.state,
		m.weight, m.is_secretary, m.is_treasurer, m.joined_at, m.left_at
	FROM members m JOIN accounts a ON a.id = m.account_id JOIN classes cl ON cl.id = m.class_id`

func scanMember(row interface{ Scan(...any) error }) (Member, error) {
	var m Member
	var left sql.NullTime
	err := row.Scan(&m.ID, &m.CoopID, &m.AccountID, &m.ClassID, &m.Handle, &m.Name, &m.Class, &m.State,
		&m.Weight, &m.Secretary, &m.Treasurer, &m.JoinedAt, &left)
	m.JoinedAt = m.JoinedAt.UTC()
	if left.Valid {
		t := left.Time.UTC()
		m.LeftAt = &t
	}
	return m, err
}

// MemberOf returns account's membership of c in any state, or
// errs.ErrNotFound.
func (s *Service) MemberOf(ctx context.Context, c *Coop, account int64) (Member, error) {
	return s.memberWhere(ctx, s.DB, c, memberByAccount, account)
}

// MemberByHandle returns the membership of the account with handle h.
func (s *Service) MemberByHandle(ctx context.Context, c *Coop, h string) (Member, error) {
	return s.memberWhere(ctx, s.DB, c, memberByHandle, h)
}

// The two ways memberWhere finds a member, kept as whole texts so that
// each is prepared once.
const (
	memberByAccount = selectMember + ` WHERE m.coop_id = $1 AND m.account_id = $2`
	memberByHandle  = selectMember + ` WHERE m.coop_id = $1 AND a.handle = $2`
)

// queryer is the read pool (*store.DB) or a write transaction (*store.Tx).
type queryer interface {
	QueryRowPrepared(ctx context.Context, q string, args ...any) *sql.Row
}

// memberWhere runs q, memberByAccount or memberByHandle, for c and arg.
func (s *Service) memberWhere(ctx context.Context, db queryer, c *Coop, q string, arg any) (Member, error) {
	m, err := scanMember(db.QueryRowPrepared(ctx, q, c.ID, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("%v is not a member of %s: %w", arg, c.Name, errs.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("coop: load member: %w", err)
	}
	return m, nil
}

// RequireMember returns account's membership of c if she is a member in
// good standing, else errs.ErrForbidden.
func (s *Service) RequireMember(ctx context.Context, c *Coop, account int64) (Member, error) {
	m, err := s.MemberOf(ctx, c, account)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !m.Active()) {
		return m, fmt.Errorf("only members of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, err
}

// RequireTreasurer is RequireMember for treasurers.
func (s *Service) RequireTreasurer(ctx context.Context, c *Coop, account int64) (Member, error) {
	m, err := s.RequireMember(ctx, c, account)
	if err == nil && !m.Treasurer {
		return m, fmt.Errorf("only a treasurer of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, err
}

// RequireSecretary is RequireMember for secretaries.
func (s *Service) RequireSecretary(ctx context.Context, c *Coop, account int64) (Member, error) {
	m, err := s.RequireMember(ctx, c, account)
	if err == nil && !m.Secretary {
		return m, fmt.Errorf("only a secretary of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, err
}

// Members lists c's members (those who left only with withLeft), by class
// and name.
func (s *Service) Members(ctx context.Context, c *Coop, withLeft bool) ([]Member, error) {
	q := selectMember + ` WHERE m.coop_id = $1`
	if !withLeft {
		q += ` AND m.state <> 'left'`
	}
	q += ` ORDER BY cl.position, a.handle`
	rows, err := s.DB.Read().QueryContext(ctx, q, c.ID)
	if err != nil {
		return nil, fmt.Errorf("coop: list members: %w", err)
	}
	defer rows.Close()
	var ms []Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("coop: scan member: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// Leave ends account's membership of c. The last secretary of a co-op with
// other members must appoint another first (errs.ErrConflict).
func (s *Service) Leave(ctx context.Context, c *Coop, a auth.Account) error {
	now := s.Now().UTC().Truncate(time.Microsecond)
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, err := s.memberWhere(ctx, tx, c, memberByAccount, a.ID)
		if err != nil || m.State == StateLeft {
			return fmt.Errorf("you are not a member of %s: %w", c.Name, errs.ErrNotFound)
		}
		if m.Secretary {
			var others, secretaries int
			tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_secretary THEN 1 ELSE 0 END), 0)
				FROM members WHERE coop_id = $1 AND state = 'member' AND id <> $2`, c.ID, m.ID).Scan(&others, &secretaries)
			if others > 0 && secretaries == 0 {
				return fmt.Errorf("you are the last secretary: appoint another before you leave: %w", errs.ErrConflict)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET state = 'left', is_secretary = FALSE, is_treasurer = FALSE, left_at = $2 WHERE id = $1`, m.ID, now); err != nil {
			return fmt.Errorf("coop: leave: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "member.left",
			Object: "member:" + m.Handle})
		return err
	})
}

// MemberUpdate is a secretary's change to a membership; nil fields stay.
type MemberUpdate struct {
	Class     *string `json:"class"`
	State     *string `json:"state"`
	Secretary *bool   `json:"secretary"`
	Treasurer *bool   `json:"treasurer"`
}

// UpdateMember lets a secretary move a member to another class, suspend or
// reinstate her, or appoint or remove a secretary or treasurer. A co-op
// always keeps one secretary.
func (s *Service) UpdateMember(ctx context.Context, c *Coop, by auth.Account, handle string, u MemberUpdate) (Member, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	var out Member
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		sec, err := s.memberWhere(ctx, tx, c, memberByAccount, by.ID)
		if err != nil || !sec.Active() || !sec.Secretary {
			return fmt.Errorf("only a secretary of %s may change members: %w", c.Name, errs.ErrForbidden)
		}
		m, err := s.memberWhere(ctx, tx, c, memberByHandle, handle)
		if err != nil {
			return err
		}
		var v errs.ValidationError
		if u.Class != nil {
			cl, ok := c.ClassByKey(*u.Class)
			if !ok {
				v.Add("class", "no such class")
			}
			m.Class, m.ClassID = cl.Key, cl.ID
		}
		if u.State != nil {
			switch *u.State {
			case StateMember, StateSuspended, StateLeft:
				m.State = *u.State
			default:
				v.Add("state", "use member, suspended or left")
			}
		}
		if u.Secretary != nil {
			m.Secretary = *u.Secretary
		}
		if u.Treasurer != nil {
			m.Treasurer = *u.Treasurer
		}
		if err := v.Err(); err != nil {
			return err
		}
		if m.State != StateMember {
			m.Secretary, m.Treasurer = false, false
		}
		var leftAt *time.Time
		if m.State == StateLeft {
			leftAt = &now
		}
		const q = `UPDATE members SET class_id = $2, state = $3, is_secretary = $4, is_treasurer = $5, left_at = $6 WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, m.ID, m.ClassID, m.State, m.Secretary, m.Treasurer, leftAt); err != nil {
			return fmt.Errorf("coop: update member: %w", err)
		}
		var secretaries int
		tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE coop_id = $1 AND state = 'member' AND is_secretary`, c.ID).Scan(&secretaries)
		if secretaries == 0 {
			return fmt.Errorf("a co-op keeps at least one secretary: %w", errs.ErrConflict)
		}
		out = m
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: by.Actor(), Action: "member.updated",
			Object: "member:" + m.Handle, Payload: map[string]any{"class": m.Class, "state": m.State, "secretary": m.Secretary,
				"treasurer": m.Treasurer}})
		return err
	})
	return out, err
}
