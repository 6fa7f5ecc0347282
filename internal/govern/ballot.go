// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/record"
	"opencoop/internal/store"
)

// BallotInput is a ballot as a member fills it in (record.Content).
type BallotInput = record.Content

// Ranking is a ranked ballot's groups of option keys, best first.
type Ranking = record.Ranking

// voter is a member of a proposal's frozen electorate.
type voter struct {
	member int64
	class  string
	weight int64
}

// Cast records a's ballot on proposal id, replacing any earlier one
// (RULES.md 2.1). Only members of the frozen electorate may vote, and only
// while the proposal is open.
func (s *Service) Cast(ctx context.Context, a auth.Account, id int64, in BallotInput) (BallotInput, error) {
	now := s.now()
	var out BallotInput
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		p, err := s.load(ctx, tx, nil, id)
		if err != nil {
			return err
		}
		// Read-lock the proposal so a concurrent close either waits for this
		// ballot or is seen to have closed (PostgreSQL; SQLite serialises).
		var state string
		var closes time.Time
		if err := tx.QueryRowContext(ctx, `SELECT state, closes_at FROM proposals WHERE id = $1`+tx.ForShare(), id).Scan(&state, &closes); err != nil {
			return fmt.Errorf("govern: lock proposal: %w", err)
		}
		var v voter
		const qv = `SELECT e.member_id, e.class_key, e.weight FROM electorate e JOIN members m ON m.id = e.member_id
			WHERE e.proposal_id = $1 AND m.account_id = $2`
		err = tx.QueryRowContext(ctx, qv, id, a.ID).Scan(&v.member, &v.class, &v.weight)
		if errors.Is(err, sql.ErrNoRows) {
			c, cerr := s.Coops.CoopByID(ctx, p.CoopID)
			if cerr != nil {
				return cerr
			}
			if _, merr := s.Coops.RequireMember(ctx, c, a.ID); merr != nil {
				return merr
			}
			return fmt.Errorf("you were not in this proposal's electorate when it opened: %w", errs.ErrForbidden)
		}
		if err != nil {
			return fmt.Errorf("govern: find voter: %w", err)
		}
		if state != StateOpen || (p.MeetingID == 0 && !now.Before(closes.UTC())) {
			return fmt.Errorf("the proposal is %s: ballots are no longer accepted: %w", state, errs.ErrConflict)
		}
		if p.MeetingID != 0 {
			// A resolution's meeting says who may vote when (RULES.md 2.6).
			if s.Meetings == nil {
				return fmt.Errorf("govern: proposal %d is a resolution, but no meetings are wired in", p.ID)
			}
			if err := s.Meetings.MayCast(ctx, tx, p, v.member); err != nil {
				return err
			}
		}
		norm, _, err := in.Normalize(p.Method, p.Options, p.Params)
		if err != nil {
			return err
		}
		out = norm
		content, _ := json.Marshal(norm)
		stored := sql.NullString{String: string(content), Valid: !p.Secret}
		const qb = `INSERT INTO ballots (proposal_id, member_id, content, cast_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (proposal_id, member_id) DO UPDATE SET content = excluded.content, cast_at = excluded.cast_at,
				changes = ballots.changes + 1`
		if _, err := tx.ExecContext(ctx, qb, id, v.member, stored, now); err != nil {
			return fmt.Errorf("govern: cast: %w", err)
		}
		entry := audit.Entry{Chain: p.CoopID, At: now, Actor: a.Actor(), Action: "ballot.cast", Object: p.Object(),
			Payload: map[string]any{"ballot": norm}}
		if p.Secret {
			if err := s.castSecret(ctx, tx, p, v, content); err != nil {
				return err
			}
			// The log says a secret ballot was cast, never by whom: who voted
			// is shown only after close (RULES.md 2.1).
			entry.Actor, entry.Payload = "secret", nil
		}
		_, err = audit.Record(ctx, tx, entry)
		return err
	})
	return out, err
}

// castSecret stores a secret ballot under a random id. The voter tag is an
// HMAC of proposal and member under a key kept outside the database, so
// the database alone cannot link a ballot to its voter even while the
// proposal is open; closing erases the tags.
func (s *Service) castSecret(ctx context.Context, tx *store.Tx, p *Proposal, v voter, content []byte) error {
	if len(s.BallotKey) == 0 {
		return errors.New("govern: no ballot key configured for secret ballots")
	}
	mac := hmac.New(sha256.New, s.BallotKey)
	binary.Write(mac, binary.BigEndian, [2]int64{p.ID, v.member})
	tag := hex.EncodeToString(mac.Sum(nil))
	var rnd [8]byte
	rand.Read(rnd[:])
	rid := int64(binary.BigEndian.Uint64(rnd[:]) >> 1)
	const q = `INSERT INTO secret_ballots (id, proposal_id, voter_tag, class_key, weight, content) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (voter_tag) DO UPDATE SET content = excluded.content`
	if _, err := tx.ExecContext(ctx, q, rid, p.ID, tag, v.class, v.weight, string(content)); err != nil {
		return fmt.Errorf("govern: cast secret ballot: %w", err)
	}
	return nil
}

// Vote is one line of a proposal's ballot list: who voted and, for open
// ballots, what.
type Vote struct {
	Handle string       `json:"handle"`
	Class  string       `json:"class"`
	CastAt time.Time    `json:"cast_at"`
	Ballot *BallotInput `json:"ballot,omitempty"`
}

// Votes lists who voted on p, and what for open ballots. For a secret
// ballot the list is empty until the proposal closes, and never says what.
func (s *Service) Votes(ctx context.Context, p *Proposal) ([]Vote, error) {
	if p.Secret && p.State != StateClosed {
		return []Vote{}, nil
	}
	const q = `SELECT a.handle, e.class_key, b.cast_at, b.content FROM ballots b
		JOIN electorate e ON e.proposal_id = b.proposal_id AND e.member_id = b.member_id
		JOIN members m ON m.id = b.member_id JOIN accounts a ON a.id = m.account_id
		WHERE b.proposal_id = $1 ORDER BY a.handle`
	rows, err := s.DB.Read().QueryContext(ctx, q, p.ID)
	if err != nil {
		return nil, fmt.Errorf("govern: list votes: %w", err)
	}
	defer rows.Close()
	out := []Vote{}
	for rows.Next() {
		var v Vote
		var content sql.NullString
		if err := rows.Scan(&v.Handle, &v.Class, &v.CastAt, &content); err != nil {
			return nil, fmt.Errorf("govern: scan vote: %w", err)
		}
		v.CastAt = v.CastAt.UTC()
		if content.Valid && !p.Secret {
			v.Ballot = new(BallotInput)
			if err := json.Unmarshal([]byte(content.String), v.Ballot); err != nil {
				return nil, fmt.Errorf("govern: read ballot: %w", err)
			}
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MyBallot returns a's current ballot on p, or errs.ErrNotFound. A secret
// ballot can be read back by its voter only while the proposal is open.
func (s *Service) MyBallot(ctx context.Context, a auth.Account, p *Proposal) (BallotInput, error) {
	var in BallotInput
	var member int64
	var content sql.NullString
	const q = `SELECT b.member_id, b.content FROM ballots b JOIN members m ON m.id = b.member_id
		WHERE b.proposal_id = $1 AND m.account_id = $2`
	err := s.DB.Read().QueryRowContext(ctx, q, p.ID, a.ID).Scan(&member, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("you have not voted: %w", errs.ErrNotFound)
	}
	if err != nil {
		return in, fmt.Errorf("govern: my ballot: %w", err)
	}
	if p.Secret {
		if p.State != StateOpen || len(s.BallotKey) == 0 {
			return in, fmt.Errorf("secret ballots cannot be read back after close: %w", errs.ErrNotFound)
		}
		mac := hmac.New(sha256.New, s.BallotKey)
		binary.Write(mac, binary.BigEndian, [2]int64{p.ID, member})
		var c string
		err := s.DB.Read().QueryRowContext(ctx, `SELECT content FROM secret_ballots WHERE voter_tag = $1`,
			hex.EncodeToString(mac.Sum(nil))).Scan(&c)
		if err != nil {
			return in, fmt.Errorf("govern: my secret ballot: %w", err)
		}
		content = sql.NullString{String: c, Valid: true}
	}
	err = json.NewDecoder(bytes.NewReader([]byte(content.String))).Decode(&in)
	return in, err
}

// InElectorate reports whether the account was in p's electorate when it
// opened, so a page can offer the vote form only to those who may vote.
func (s *Service) InElectorate(ctx context.Context, p *Proposal, account int64) (bool, error) {
	var n int
	const q = `SELECT COUNT(*) FROM electorate e JOIN members m ON m.id = e.member_id
		WHERE e.proposal_id = $1 AND m.account_id = $2`
	if err := s.DB.Read().QueryRowContext(ctx, q, p.ID, account).Scan(&n); err != nil {
		return false, fmt.Errorf("govern: in electorate: %w", err)
	}
	return n > 0, nil
}
