// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"opencoop/internal/errs"
	"opencoop/internal/record"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Record returns closed proposal p's decision record with its stored
// result: `opencoop tally --format record` on it gives that result again.
func (s *Service) Record(ctx context.Context, p *Proposal) (*record.Record, error) {
	if p.State != StateClosed {
		return nil, fmt.Errorf("a decision record exists once the proposal has closed: %w", errs.ErrConflict)
	}
	rec, err := s.buildRecord(ctx, s.DB.Read(), p, false)
	if err != nil {
		return nil, err
	}
	rec.Result = p.Result
	return rec, nil
}

// delegates reports whether liquid delegation applies to p: open ballots
// only, and not to a meeting's resolutions, where proxies do instead
// (RULES.md 2.4, 2.6).
func delegates(p *Proposal) bool { return !p.Secret && p.MeetingID == 0 }

// keepDelegations copies the delegations that apply to p from the
// co-op's live ones, as they stand at close, so its record never changes.
func (s *Service) keepDelegations(ctx context.Context, tx *store.Tx, p *Proposal) error {
	if !delegates(p) {
		return nil
	}
	var on, within bool
	if err := tx.QueryRowContext(ctx, `SELECT delegation, delegation_within_class FROM coops WHERE id = $1`, p.CoopID).Scan(&on, &within); err != nil {
		return fmt.Errorf("govern: delegation settings: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE proposals SET delegation_within_class = $2 WHERE id = $1`, p.ID, within); err != nil {
		return fmt.Errorf("govern: keep delegation settings: %w", err)
	}
	if !on {
		return nil
	}
	const q = `INSERT INTO proposal_delegations (proposal_id, member_id, scope, trustee_id)
		SELECT $1, d.member_id, d.scope, d.trustee_id FROM delegations d
		JOIN electorate e ON e.proposal_id = $1 AND e.member_id = d.member_id
		WHERE d.coop_id = $2 AND ((d.scope = 'coop' AND d.scope_id = 0)
			OR (d.scope = 'topic' AND d.scope_id = (SELECT topic_id FROM proposals WHERE id = $1))
			OR (d.scope = 'proposal' AND d.scope_id = $1))`
	if _, err := tx.ExecContext(ctx, q, p.ID, p.CoopID); err != nil {
		return fmt.Errorf("govern: keep delegations: %w", err)
	}
	return nil
}

// buildRecord reads p's decision record without its result: the frozen
// electorate and classes, the open ballots (secret ones without voter),
// and the delegations — those kept at close, or with live the ones in
// force now, for showing where a vote would go before close.
func (s *Service) buildRecord(ctx context.Context, q Querier, p *Proposal, live bool) (*record.Record, error) {
	pass := p.Pass
	rec := &record.Record{Format: record.Format, Proposal: p.ID, Coop: p.Coop, Title: p.Title, Method: p.Method,
		Params: p.Params, Weighting: p.Weighting, EmptyClass: p.EmptyClass, ClassMajority: p.ClassMajority,
		Quorum: p.Quorum, Pass: &pass, Classes: p.Classes, Topic: p.Topic, Options: p.Options,
		Electorate: []record.Voter{}, Ballots: []record.Ballot{}}
	rows, err := q.QueryContext(ctx, `SELECT a.handle, e.class_key, e.weight FROM electorate e
		JOIN members m ON m.id = e.member_id JOIN accounts a ON a.id = m.account_id
		WHERE e.proposal_id = $1 ORDER BY a.handle`, p.ID)
	if err != nil {
		return nil, fmt.Errorf("govern: electorate: %w", err)
	}
	err = scanAll(rows, func() error {
		var v record.Voter
		err := rows.Scan(&v.Voter, &v.Class, &v.Weight)
		rec.Electorate = append(rec.Electorate, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("govern: electorate: %w", err)
	}

	qb := `SELECT a.handle, '', 0, b.content FROM ballots b
		JOIN members m ON m.id = b.member_id JOIN accounts a ON a.id = m.account_id
		WHERE b.proposal_id = $1 ORDER BY a.handle`
	if p.Secret {
		// Ordered by content so that not even the record's order follows
		// the order of voting.
		qb = `SELECT '', class_key, weight, content FROM secret_ballots WHERE proposal_id = $1 ORDER BY content, class_key, weight`
	}
	if rows, err = q.QueryContext(ctx, qb, p.ID); err != nil {
		return nil, fmt.Errorf("govern: ballots: %w", err)
	}
	err = scanAll(rows, func() error {
		var b record.Ballot
		var content string
		if err := rows.Scan(&b.Voter, &b.Class, &b.Weight, &content); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(content), &b.Content); err != nil {
			return err
		}
		rec.Ballots = append(rec.Ballots, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("govern: ballots: %w", err)
	}

	if err := s.recordDelegations(ctx, q, p, rec, live); err != nil {
		return nil, err
	}
	if p.MeetingID != 0 {
		if s.Meetings == nil {
			return nil, fmt.Errorf("govern: proposal %d is a resolution, but no meetings are wired in", p.ID)
		}
		if err := s.Meetings.Extend(ctx, q, p, rec); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

func (s *Service) recordDelegations(ctx context.Context, q Querier, p *Proposal, rec *record.Record, live bool) error {
	if !delegates(p) {
		return nil
	}
	var within sql.NullBool
	var on bool
	err := q.QueryRowContext(ctx, `SELECT p.delegation_within_class, c.delegation_within_class, c.delegation
		FROM proposals p JOIN coops c ON c.id = p.coop_id WHERE p.id = $1`, p.ID).Scan(&within, &rec.WithinClassOnly, &on)
	if err != nil {
		return fmt.Errorf("govern: delegation settings: %w", err)
	}
	if !live && within.Valid {
		rec.WithinClassOnly = within.Bool
	}
	qd := `SELECT fa.handle, ta.handle, pd.scope FROM proposal_delegations pd
		JOIN members fm ON fm.id = pd.member_id JOIN accounts fa ON fa.id = fm.account_id
		LEFT JOIN members tm ON tm.id = pd.trustee_id LEFT JOIN accounts ta ON ta.id = tm.account_id
		WHERE pd.proposal_id = $1 ORDER BY fa.handle, pd.scope`
	args := []any{p.ID}
	if live {
		if !on {
			return nil
		}
		qd = `SELECT fa.handle, ta.handle, d.scope FROM delegations d
			JOIN electorate e ON e.proposal_id = $1 AND e.member_id = d.member_id
			JOIN members fm ON fm.id = d.member_id JOIN accounts fa ON fa.id = fm.account_id
			LEFT JOIN members tm ON tm.id = d.trustee_id LEFT JOIN accounts ta ON ta.id = tm.account_id
			WHERE d.coop_id = $2 AND ((d.scope = 'coop' AND d.scope_id = 0)
				OR (d.scope = 'topic' AND d.scope_id = (SELECT topic_id FROM proposals WHERE id = $1))
				OR (d.scope = 'proposal' AND d.scope_id = $1))
			ORDER BY fa.handle, d.scope`
		args = append(args, p.CoopID)
	}
	rows, err := q.QueryContext(ctx, qd, args...)
	if err != nil {
		return fmt.Errorf("govern: delegations: %w", err)
	}
	return scanAll(rows, func() error {
		var d record.Delegation
		var to sql.NullString
		if err := rows.Scan(&d.From, &to, &d.Scope); err != nil {
			return fmt.Errorf("govern: scan delegation: %w", err)
		}
		if to.Valid {
			d.To = &to.String
		}
		switch d.Scope {
		case record.ScopeTopic:
			d.Topic = p.Topic
		case record.ScopeProposal:
			d.Proposal = p.ID
		}
		rec.Delegations = append(rec.Delegations, d)
		return nil
	})
}

// scanAll calls scan for every row and closes rows.
func scanAll(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// countInput is p's count as vote.Count takes it, with each ballot's
// voter handle ("" for secret ballots and totals), for ballot files.
func (s *Service) countInput(ctx context.Context, q Querier, p *Proposal) (*vote.Input, []string, error) {
	rec, err := s.buildRecord(ctx, q, p, false)
	if err != nil {
		return nil, nil, err
	}
	in, res, err := rec.Input()
	if err != nil {
		return nil, nil, err
	}
	voters := make([]string, 0, len(in.Ballots))
	for i, t := range res.Target {
		if t >= 0 {
			voters = append(voters, rec.Electorate[i].Voter)
		}
	}
	for len(voters) < len(in.Ballots) {
		voters = append(voters, "")
	}
	return in, voters, nil
}
