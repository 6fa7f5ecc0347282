// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Close closes meeting id, in session; only a secretary may. In one
// transaction it fixes the quorum, closes and counts every open resolution
// through its decision record (which carries the quorum: a resolution of a
// meeting that was not quorate is never passed), numbers the passed ones
// YYYY/N in the co-op's register, per calendar year of the close, and
// writes the minutes, which it returns.
func (s *Service) Close(ctx context.Context, a auth.Account, id int64) (*Minutes, error) {
	now := s.now()
	var out *Minutes
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		// Lock the resolutions before the meeting: a ballot holds its
		// proposal and then asks for the meeting (MayCast), so a close that
		// took the meeting first could deadlock with it on PostgreSQL.
		if _, err := tx.ExecContext(ctx, `UPDATE proposals SET state = state WHERE meeting_id = $1`, id); err != nil {
			return fmt.Errorf("meeting: lock resolutions: %w", err)
		}
		m, c, err := s.secretaryTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if m.State != StateInSession {
			return fmt.Errorf("only a meeting in session can close; this one is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		q, err := countQuorum(ctx, tx, m)
		if err != nil {
			return err
		}
		// The quorum is stored before the resolutions are counted: their
		// records read it from here.
		const qc = `UPDATE meetings SET state = 'closed', closed_at = $2, eligible = $3, present = $4, proxies = $5,
			remote = $6, required = $7, quorate = $8 WHERE id = $1`
		if _, err := tx.ExecContext(ctx, qc, m.ID, now, q.Eligible, q.Present, q.Proxies, q.Remote, q.Required, q.Quorate); err != nil {
			return fmt.Errorf("meeting: close: %w", err)
		}
		m.State, m.ClosedAt, m.Quorum = StateClosed, &now, &q
		agenda, err := items(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		for _, it := range agenda {
			if it.ProposalID == 0 || it.State != govern.StateOpen {
				continue // no resolution, or one withdrawn before the meeting
			}
			p, err := s.Govern.CloseTx(ctx, tx, it.ProposalID, a.Actor())
			if err != nil {
				return fmt.Errorf("close resolution %d: %w", it.ProposalID, err)
			}
			if p.Result.Outcome == vote.Passed {
				if err := register(ctx, tx, c, m, p.ID); err != nil {
					return err
				}
			}
		}
		if m.Agenda, err = items(ctx, tx, m.ID); err != nil {
			return err
		}
		if out, err = s.writeMinutes(ctx, tx, c, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET minutes = $2 WHERE id = $1`, m.ID, out.Markdown); err != nil {
			return fmt.Errorf("meeting: store minutes: %w", err)
		}
		sum := sha256.Sum256([]byte(out.Markdown))
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "meeting.closed",
			Object: m.Object(), Payload: map[string]any{"quorum": q, "resolutions": out.Resolutions,
				"minutes_sha256": hex.EncodeToString(sum[:])}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// register gives passed resolution p of meeting m the next number of c's
// register in the year m closed. Two closes of one co-op cannot take the
// same number: counting the resolution appended to the co-op's audit
// chain, whose head row stays locked until the transaction ends, and the
// primary key (coop_id, year, seq) would refuse a duplicate anyway.
func register(ctx context.Context, tx *store.Tx, c *coop.Coop, m *Meeting, p int64) error {
	year := m.ClosedAt.Year()
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM resolutions WHERE coop_id = $1 AND year = $2`,
		c.ID, year).Scan(&seq); err != nil {
		return fmt.Errorf("meeting: next register number: %w", err)
	}
	const q = `INSERT INTO resolutions (coop_id, year, seq, proposal_id, meeting_id, passed_at) VALUES ($1, $2, $3, $4, $5, $6)`
	if _, err := tx.ExecContext(ctx, q, c.ID, year, seq, p, m.ID, *m.ClosedAt); err != nil {
		return fmt.Errorf("meeting: register resolution %d: %w", p, err)
	}
	return nil
}

// countQuorum counts m's quorum as it stands (RULES.md 2.6): the members
// of a voting class present, those represented by a standing proxy who did
// not attend, and those neither present nor represented who voted remotely
// on one of its resolutions; and the quorum required of its eligible
// members.
func countQuorum(ctx context.Context, q govern.Querier, m *Meeting) (Quorum, error) {
	const eligible = `SELECT mb.id FROM members mb JOIN classes cl ON cl.id = mb.class_id
		WHERE mb.coop_id = $2 AND mb.state = 'member' AND cl.votes`
	const present = `SELECT member_id FROM attendance WHERE meeting_id = $1 AND status = 'present'`
	const qq = `SELECT
			(SELECT COUNT(*) FROM (` + eligible + `) el),
			(SELECT COUNT(*) FROM attendance t WHERE t.meeting_id = $1 AND t.status = 'present'
				AND t.member_id IN (` + eligible + `)),
			(SELECT COUNT(*) FROM proxies x WHERE x.meeting_id = $1 AND x.member_id IN (` + eligible + `)
				AND x.member_id NOT IN (` + present + `)),
			(SELECT COUNT(DISTINCT b.member_id) FROM ballots b JOIN proposals p ON p.id = b.proposal_id
				WHERE p.meeting_id = $1 AND b.member_id IN (` + eligible + `) AND b.member_id NOT IN (` + present + `)
				AND b.member_id NOT IN (SELECT member_id FROM proxies WHERE meeting_id = $1))`
	var out Quorum
	if err := q.QueryRowContext(ctx, qq, m.ID, m.CoopID).Scan(&out.Eligible, &out.Present, &out.Proxies, &out.Remote); err != nil {
		return out, fmt.Errorf("meeting: count quorum: %w", err)
	}
	out.Required = m.QuorumCount
	if out.Required == 0 {
		out.Required = RequiredQuorum(out.Eligible)
	}
	out.Quorate = out.Counted(m.CountRemote) >= out.Required
	out.Rule = quorumRule(m, out.Eligible)
	return out, nil
}

// quorumRule says how a meeting's quorum is found, for members to read.
func quorumRule(m *Meeting, eligible int64) string {
	var s string
	switch {
	case m.QuorumCount > 0:
		s = fmt.Sprintf("%d members, as set for this meeting", m.QuorumCount)
	case eligible < 3:
		s = fmt.Sprintf("FairShares default for %d eligible members (under 10): half and at least 3, but no more than there are, so %d", eligible, RequiredQuorum(eligible))
	case eligible < 10:
		s = fmt.Sprintf("FairShares default for %d eligible members (under 10): half and at least 3, so %d", eligible, RequiredQuorum(eligible))
	case eligible <= 50:
		s = fmt.Sprintf("FairShares default for %d eligible members (10 to 50): two fifths, so %d", eligible, RequiredQuorum(eligible))
	default:
		s = fmt.Sprintf("FairShares default for %d eligible members (over 50): 20 members", eligible)
	}
	if m.CountRemote {
		return s + "; members present, represented by proxy and voting remotely count"
	}
	return s + "; members present and represented by proxy count, remote voters do not"
}
