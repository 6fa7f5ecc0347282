// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/record"
	"opencoop/internal/store"
)

// Close ends voting on proposal id early and counts it; its author or a
// secretary may.
func (s *Service) Close(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Proposal, error) {
	p, err := s.load(ctx, s.DB.Read(), c, id)
	if err != nil {
		return nil, err
	}
	if err := s.requireAuthor(ctx, c, p, a, true); err != nil {
		return nil, err
	}
	if p.MeetingID != 0 {
		return nil, fmt.Errorf("a resolution closes with its meeting: %w", errs.ErrConflict)
	}
	return s.close(ctx, id, a.Actor())
}

// CloseDue closes every open proposal whose closing time has come; the
// server's scheduler calls it. It returns how many it closed.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	// Resolutions close with their meeting, not on a clock.
	const q = `SELECT id FROM proposals WHERE state = 'open' AND closes_at <= $1 AND meeting_id IS NULL
		ORDER BY closes_at LIMIT 100`
	rows, err := s.DB.Read().QueryContext(ctx, q, s.now())
	if err != nil {
		return 0, fmt.Errorf("govern: find due proposals: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		if _, err := s.close(ctx, id, "system"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// close counts proposal id and stores its result in one transaction.
func (s *Service) close(ctx context.Context, id int64, actor string) (*Proposal, error) {
	var p *Proposal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = s.CloseTx(ctx, tx, id, actor)
		return err
	})
	return p, err
}

// CloseTx closes proposal id inside tx: it first marks it closed so no
// ballot can slip in, keeps the delegations in force, counts its decision
// record with [record.Count] — the very function a recount uses — and
// stores the result. The meeting package calls it for resolutions.
func (s *Service) CloseTx(ctx context.Context, tx *store.Tx, id int64, actor string) (*Proposal, error) {
	now := s.now()
	res, err := tx.ExecContext(ctx, `UPDATE proposals SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open'`, id, now)
	if err != nil {
		return nil, fmt.Errorf("govern: close: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, fmt.Errorf("proposal %d is not open: %w", id, errs.ErrConflict)
	}
	p, err := s.load(ctx, tx, nil, id)
	if err != nil {
		return nil, err
	}
	if err := s.keepDelegations(ctx, tx, p); err != nil {
		return nil, err
	}
	rec, err := s.buildRecord(ctx, tx, p, false)
	if err != nil {
		return nil, err
	}
	r, err := record.Count(rec)
	if err != nil {
		return nil, fmt.Errorf("govern: count proposal %d: %w", id, err)
	}
	p.Result = r
	result, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("govern: encode result: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE proposals SET result = $2 WHERE id = $1`, id, string(result)); err != nil {
		return nil, fmt.Errorf("govern: store result: %w", err)
	}
	if p.Secret {
		// From now on nothing links a secret ballot to its voter.
		if _, err := tx.ExecContext(ctx, `UPDATE secret_ballots SET voter_tag = NULL WHERE proposal_id = $1`, id); err != nil {
			return nil, fmt.Errorf("govern: erase voter tags: %w", err)
		}
	}
	sum := sha256.Sum256(result)
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: p.CoopID, At: now, Actor: actor, Action: "proposal.closed",
		Object: p.Object(), Payload: map[string]any{"outcome": r.Outcome, "winners": r.Winners, "rule": r.Rule,
			"ballots": len(rec.Ballots), "delegations": len(rec.Delegations), "result_sha256": hex.EncodeToString(sum[:])}})
	return p, err
}
