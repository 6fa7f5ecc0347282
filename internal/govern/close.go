// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
	"opencoop/internal/vote"
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
	return s.close(ctx, id, a.Actor())
}

// CloseDue closes every open proposal whose closing time has come; the
// server's scheduler calls it. It returns how many it closed.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT id FROM proposals WHERE state = 'open' AND closes_at <= $1 ORDER BY closes_at LIMIT 100`, s.now())
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

// RunScheduler closes due proposals every interval until ctx ends.
func (s *Service) RunScheduler(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.CloseDue(ctx); err != nil {
				logger.Error("closing due proposals", "err", err)
			} else if n > 0 {
				logger.Info("closed due proposals", "count", n)
			}
		}
	}
}

// close counts proposal id and stores its result, in one transaction that
// first marks it closed so no ballot can slip in during the count.
func (s *Service) close(ctx context.Context, id int64, actor string) (*Proposal, error) {
	now := s.now()
	var p *Proposal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE proposals SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open'`, id, now)
		if err != nil {
			return fmt.Errorf("govern: close: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("proposal %d is not open: %w", id, errs.ErrConflict)
		}
		if p, err = s.load(ctx, tx, nil, id); err != nil {
			return err
		}
		in, _, err := s.countInput(ctx, tx, p)
		if err != nil {
			return err
		}
		r, err := vote.Count(in)
		if err != nil {
			return fmt.Errorf("govern: count proposal %d: %w", id, err)
		}
		p.Result = r
		result, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("govern: encode result: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE proposals SET result = $2 WHERE id = $1`, id, string(result)); err != nil {
			return fmt.Errorf("govern: store result: %w", err)
		}
		if p.Secret {
			// From now on nothing links a secret ballot to its voter.
			if _, err := tx.ExecContext(ctx, `UPDATE secret_ballots SET voter_tag = NULL WHERE proposal_id = $1`, id); err != nil {
				return fmt.Errorf("govern: erase voter tags: %w", err)
			}
		}
		sum := sha256.Sum256(result)
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: p.CoopID, At: now, Actor: actor, Action: "proposal.closed",
			Object: p.Object(), Payload: map[string]any{"outcome": r.Outcome, "winners": r.Winners, "rule": r.Rule,
				"voters": len(in.Ballots), "result_sha256": hex.EncodeToString(sum[:])}})
		return err
	})
	return p, err
}

// countInput gathers what vote.Count needs: the frozen classes and
// electorate, and every ballot as cast. It also returns each ballot's
// voter handle, or "" for secret ballots.
func (s *Service) countInput(ctx context.Context, tx querier, p *Proposal) (*vote.Input, []string, error) {
	in := &vote.Input{Method: p.Method, Options: p.Options, Params: p.Params, Weighting: p.Weighting,
		Classes: p.Classes, EmptyClass: p.EmptyClass, ClassMajority: p.ClassMajority, Quorum: p.Quorum, Pass: p.Pass}
	classIdx := make(map[string]int, len(p.Classes))
	for i, c := range p.Classes {
		classIdx[c.Key] = i
	}
	in.Electorate = make([]int64, len(p.Classes))
	rows, err := tx.QueryContext(ctx, `SELECT class_key, SUM(weight), COUNT(*) FROM electorate WHERE proposal_id = $1 GROUP BY class_key`, p.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("govern: electorate: %w", err)
	}
	for rows.Next() {
		var k string
		var w, n int64
		if err := rows.Scan(&k, &w, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if i, ok := classIdx[k]; ok {
			in.Electorate[i] = w
			in.Members += n
		}
	}
	rows.Close()
	q := `SELECT a.handle, e.class_key, e.weight, b.content FROM ballots b
		JOIN electorate e ON e.proposal_id = b.proposal_id AND e.member_id = b.member_id
		JOIN members m ON m.id = b.member_id JOIN accounts a ON a.id = m.account_id
		WHERE b.proposal_id = $1 ORDER BY a.handle`
	if p.Secret {
		// Ordered by content so that not even the export's order follows
		// the order of voting.
		q = `SELECT '', class_key, weight, content FROM secret_ballots WHERE proposal_id = $1 ORDER BY content, class_key`
	}
	rows, err = tx.QueryContext(ctx, q, p.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("govern: ballots: %w", err)
	}
	defer rows.Close()
	var voters []string
	for rows.Next() {
		var voter, k, content string
		var w int64
		if err := rows.Scan(&voter, &k, &w, &content); err != nil {
			return nil, nil, fmt.Errorf("govern: scan ballot: %w", err)
		}
		var bi BallotInput
		if err := json.Unmarshal([]byte(content), &bi); err != nil {
			return nil, nil, fmt.Errorf("govern: read ballot: %w", err)
		}
		_, b, err := bi.normalize(p)
		if err != nil {
			return nil, nil, fmt.Errorf("govern: stored ballot no longer valid: %w", err)
		}
		b.Weight, b.Class = w, classIdx[k]
		in.Ballots = append(in.Ballots, b)
		voters = append(voters, voter)
	}
	return in, voters, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}
