// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package coop

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Invitation is a code that lets people join a co-op in one class.
type Invitation struct {
	Code      string     `json:"code"`
	Class     string     `json:"class"`
	MaxUses   int        `json:"uses"`
	Used      int        `json:"used"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// NewInvitation asks for an invitation; Uses defaults to 1 (single use).
type NewInvitation struct {
	Class     string     `json:"class"`
	Uses      *int       `json:"uses"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// MaxInvitationUses bounds a multi-use code.
const MaxInvitationUses = 100000

// Invite creates an invitation to c. Only secretaries may invite.
func (s *Service) Invite(ctx context.Context, c *Coop, by auth.Account, n NewInvitation) (Invitation, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	var v errs.ValidationError
	cl, ok := c.ClassByKey(n.Class)
	if !ok {
		v.Add("class", "name one of the co-op's classes")
	}
	uses := 1
	if n.Uses != nil {
		uses = *n.Uses
	}
	if uses < 1 || uses > MaxInvitationUses {
		v.Add("uses", fmt.Sprintf("give 1 to %d uses", MaxInvitationUses))
	}
	if n.ExpiresAt != nil && !n.ExpiresAt.After(now) {
		v.Add("expires_at", "must be in the future")
	}
	if err := v.Err(); err != nil {
		return Invitation{}, err
	}
	sec, err := s.RequireSecretary(ctx, c, by.ID)
	if err != nil {
		return Invitation{}, err
	}
	b := make([]byte, 10)
	rand.Read(b)
	inv := Invitation{Code: strings.ToLower(base32.StdEncoding.EncodeToString(b)), Class: cl.Key, MaxUses: uses,
		ExpiresAt: n.ExpiresAt, CreatedAt: now}
	if inv.ExpiresAt != nil {
		t := inv.ExpiresAt.UTC().Truncate(time.Microsecond)
		inv.ExpiresAt = &t
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `INSERT INTO invitations (coop_id, code, class_id, max_uses, expires_at, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`
		if _, err := tx.ExecContext(ctx, q, c.ID, inv.Code, cl.ID, uses, inv.ExpiresAt, sec.ID, now); err != nil {
			return fmt.Errorf("coop: invite: %w", err)
		}
		// The code itself stays out of the log: it is a credential.
		_, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: by.Actor(), Action: "invitation.created",
			Object: "coop:" + c.Slug, Payload: map[string]any{"class": cl.Key, "uses": uses, "expires_at": inv.ExpiresAt}})
		return err
	})
	return inv, err
}

// Invitations lists c's invitations, newest first; secretaries only.
func (s *Service) Invitations(ctx context.Context, c *Coop, by auth.Account) ([]Invitation, error) {
	if _, err := s.RequireSecretary(ctx, c, by.ID); err != nil {
		return nil, err
	}
	const q = `SELECT i.code, cl.key, i.max_uses, i.uses, i.expires_at, i.created_at
		FROM invitations i JOIN classes cl ON cl.id = i.class_id WHERE i.coop_id = $1 ORDER BY i.id DESC LIMIT 200`
	rows, err := s.DB.Read().QueryContext(ctx, q, c.ID)
	if err != nil {
		return nil, fmt.Errorf("coop: list invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var inv Invitation
		var exp sql.NullTime
		if err := rows.Scan(&inv.Code, &inv.Class, &inv.MaxUses, &inv.Used, &exp, &inv.CreatedAt); err != nil {
			return nil, fmt.Errorf("coop: scan invitation: %w", err)
		}
		if exp.Valid {
			t := exp.Time.UTC()
			inv.ExpiresAt = &t
		}
		inv.CreatedAt = inv.CreatedAt.UTC()
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InvitationByCode returns the co-op and class an invitation code admits
// to, checking it is still usable; for the join page.
func (s *Service) InvitationByCode(ctx context.Context, code string) (*Coop, Invitation, error) {
	const q = `SELECT i.coop_id, cl.key, i.max_uses, i.uses, i.expires_at, i.created_at
		FROM invitations i JOIN classes cl ON cl.id = i.class_id WHERE i.code = $1`
	inv := Invitation{Code: strings.ToLower(strings.TrimSpace(code))}
	var coopID int64
	var exp sql.NullTime
	err := s.DB.Read().QueryRowContext(ctx, q, inv.Code).Scan(&coopID, &inv.Class, &inv.MaxUses, &inv.Used, &exp, &inv.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, inv, fmt.Errorf("no such invitation: %w", errs.ErrNotFound)
	}
	if err != nil {
		return nil, inv, fmt.Errorf("coop: load invitation: %w", err)
	}
	if exp.Valid {
		t := exp.Time.UTC()
		inv.ExpiresAt = &t
	}
	if err := inv.usable(s.Now()); err != nil {
		return nil, inv, err
	}
	c, err := s.CoopByID(ctx, coopID)
	return c, inv, err
}

func (inv Invitation) usable(now time.Time) error {
	if inv.ExpiresAt != nil && !now.Before(*inv.ExpiresAt) {
		return errs.Invalid("code", "this invitation has expired")
	}
	if inv.Used >= inv.MaxUses {
		return errs.Invalid("code", "this invitation has been used up")
	}
	return nil
}

// Join makes a a member of c in the class of the invitation code. The code
// must belong to c, be unexpired and have uses left; using it and joining
// are one transaction, so two people cannot share the last use.
func (s *Service) Join(ctx context.Context, c *Coop, a auth.Account, code string) (Member, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	var m Member
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `UPDATE invitations SET uses = uses + 1
			WHERE code = $1 AND coop_id = $2 AND uses < max_uses AND (expires_at IS NULL OR expires_at > $3)
			RETURNING class_id`
		var classID int64
		err := tx.QueryRowContext(ctx, q, strings.ToLower(strings.TrimSpace(code)), c.ID, now).Scan(&classID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Invalid("code", "this invitation is unknown, used up or expired")
		}
		if err != nil {
			return fmt.Errorf("coop: use invitation: %w", err)
		}
		m = Member{CoopID: c.ID, AccountID: a.ID, ClassID: classID, Handle: a.Handle, Name: a.Name,
			State: StateMember, Weight: 1, JoinedAt: now}
		for _, cl := range c.Classes {
			if cl.ID == classID {
				m.Class = cl.Key
			}
		}
		return insertMember(ctx, tx, c, &m, a.Actor(), "member.joined")
	})
	return m, err
}
