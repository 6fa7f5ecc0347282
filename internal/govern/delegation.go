// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/record"
	"opencoop/internal/store"
)

// EnsureTopic returns the id of c's topic key, creating it on first use
// (a topic is named by a proposal or a delegation, RULES.md 2.4).
func EnsureTopic(ctx context.Context, tx *store.Tx, coopID int64, key string, now time.Time) (int64, error) {
	const ins = `INSERT INTO topics (coop_id, key, created_at) VALUES ($1, $2, $3) ON CONFLICT (coop_id, key) DO NOTHING`
	if _, err := tx.ExecContext(ctx, ins, coopID, key, now); err != nil {
		return 0, fmt.Errorf("govern: create topic: %w", err)
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM topics WHERE coop_id = $1 AND key = $2`, coopID, key).Scan(&id); err != nil {
		return 0, fmt.Errorf("govern: find topic: %w", err)
	}
	return id, nil
}

// Topics lists c's topics in alphabetical order.
func (s *Service) Topics(ctx context.Context, c *coop.Coop) ([]string, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT key FROM topics WHERE coop_id = $1 ORDER BY key`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("govern: topics: %w", err)
	}
	out := []string{}
	err = scanAll(rows, func() error {
		var k string
		err := rows.Scan(&k)
		out = append(out, k)
		return err
	})
	return out, err
}

// Delegation is one member's delegation for one scope. To is nil for a
// delegation to nobody, which blocks a wider one (RULES.md 2.4).
type Delegation struct {
	From      string    `json:"from"`
	To        *string   `json:"to"`
	Scope     string    `json:"scope"`
	Topic     string    `json:"topic,omitempty"`
	Proposal  int64     `json:"proposal,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// DelegationScope names a scope: "coop", "topic" with Topic, or
// "proposal" with Proposal.
type DelegationScope struct {
	Scope    string `json:"scope"`
	Topic    string `json:"topic"`
	Proposal int64  `json:"proposal"`
}

// SetDelegation is a delegation as a member makes it. To nil (or absent)
// delegates to nobody.
type SetDelegation struct {
	To *string `json:"to"`
	DelegationScope
}

// scopeID checks the scope and returns its scope_id: 0 for the co-op, the
// topic's id (created on first use when create) or the proposal's id.
func (s *Service) scopeID(ctx context.Context, tx *store.Tx, c *coop.Coop, d DelegationScope, create bool) (int64, error) {
	switch d.Scope {
	case record.ScopeCoop:
		if d.Topic != "" || d.Proposal != 0 {
			return 0, errs.Invalid("scope", "a co-op delegation names no topic or proposal")
		}
		return 0, nil
	case record.ScopeTopic:
		if !coop.ValidKey(d.Topic) {
			return 0, errs.Invalid("topic", "give the topic: a lower-case letter, then letters, digits or '_' (up to 32)")
		}
		if d.Proposal != 0 {
			return 0, errs.Invalid("proposal", "a topic delegation names no proposal")
		}
		if create {
			return EnsureTopic(ctx, tx, c.ID, d.Topic, s.now())
		}
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM topics WHERE coop_id = $1 AND key = $2`, c.ID, d.Topic).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("no topic %q: %w", d.Topic, errs.ErrNotFound)
		}
		return id, err
	case record.ScopeProposal:
		if d.Topic != "" {
			return 0, errs.Invalid("topic", "a proposal delegation names no topic")
		}
		if d.Proposal <= 0 {
			return 0, errs.Invalid("proposal", "give the proposal's id")
		}
		if !create {
			return d.Proposal, nil
		}
		p, err := s.load(ctx, tx, c, d.Proposal)
		if err != nil {
			return 0, err
		}
		switch {
		case p.Secret:
			return 0, errs.Invalid("proposal", "secret ballots cannot be delegated")
		case p.MeetingID != 0:
			return 0, errs.Invalid("proposal", "a meeting's resolutions take proxies, not delegations")
		case p.State != StateDraft && p.State != StateOpen:
			return 0, fmt.Errorf("the proposal is %s: %w", p.State, errs.ErrConflict)
		}
		return p.ID, nil
	}
	return 0, errs.Invalid("scope", "use coop, topic or proposal")
}

// Delegate sets a's delegation for one scope, replacing any she had there
// (RULES.md 2.4). The co-op's settings apply: delegation on, trustee in
// her class under within_class_only, and the cap on delegators per trustee.
func (s *Service) Delegate(ctx context.Context, c *coop.Coop, a auth.Account, in SetDelegation) (*Delegation, error) {
	if !c.Delegation.Enabled {
		return nil, fmt.Errorf("%s does not use delegation: %w", c.Name, errs.ErrForbidden)
	}
	me, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := &Delegation{From: me.Handle, Scope: in.Scope, Topic: in.Topic, Proposal: in.Proposal, CreatedAt: now}
	var trustee sql.NullInt64
	if in.To != nil {
		handle := strings.TrimSpace(*in.To)
		t, err := s.Coops.MemberByHandle(ctx, c, handle)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && t.State != coop.StateMember) {
			return nil, errs.Invalid("to", fmt.Sprintf("%q is not a member of %s", handle, c.Name))
		}
		if err != nil {
			return nil, err
		}
		if t.ID == me.ID {
			return nil, errs.Invalid("to", "you cannot delegate to yourself")
		}
		if c.Delegation.WithinClassOnly && t.ClassID != me.ClassID {
			return nil, errs.Invalid("to", fmt.Sprintf("%s delegates only within a class: %s is a %s, you are a %s",
				c.Name, t.Handle, t.Class, me.Class))
		}
		trustee = sql.NullInt64{Int64: t.ID, Valid: true}
		out.To = &t.Handle
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.scopeID(ctx, tx, c, in.DelegationScope, true)
		if err != nil {
			return err
		}
		if cp := c.Delegation.Cap; cp > 0 && trustee.Valid {
			var n int
			const q = `SELECT COUNT(DISTINCT member_id) FROM delegations WHERE trustee_id = $1 AND member_id <> $2`
			if err := tx.QueryRowContext(ctx, q, trustee.Int64, me.ID).Scan(&n); err != nil {
				return fmt.Errorf("govern: count delegators: %w", err)
			}
			if n >= cp {
				return fmt.Errorf("the cap is reached: a trustee may carry %d, and %s carries %d: %w", cp, *out.To, n, errs.ErrConflict)
			}
		}
		const q = `INSERT INTO delegations (coop_id, member_id, scope, scope_id, trustee_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (member_id, scope, scope_id) DO UPDATE SET trustee_id = excluded.trustee_id, created_at = excluded.created_at`
		if _, err := tx.ExecContext(ctx, q, c.ID, me.ID, in.Scope, id, trustee, now); err != nil {
			return fmt.Errorf("govern: delegate: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "delegation.set",
			Object: "member:" + me.Handle, Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Revoke removes a's delegation for one scope.
func (s *Service) Revoke(ctx context.Context, c *coop.Coop, a auth.Account, in DelegationScope) error {
	me, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		id, err := s.scopeID(ctx, tx, c, in, false)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM delegations WHERE member_id = $1 AND scope = $2 AND scope_id = $3`, me.ID, in.Scope, id)
		if err != nil {
			return fmt.Errorf("govern: revoke: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("you have no %s delegation there: %w", in.Scope, errs.ErrNotFound)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "delegation.revoked",
			Object: "member:" + me.Handle, Payload: in})
		return err
	})
}

// Delegations returns a's delegations in c and those made to her.
func (s *Service) Delegations(ctx context.Context, c *coop.Coop, a auth.Account) (mine, toMe []Delegation, err error) {
	me, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, nil, err
	}
	const q = `SELECT fa.handle, ta.handle, d.scope, COALESCE(t.key, ''), d.scope_id, d.created_at FROM delegations d
		JOIN members fm ON fm.id = d.member_id JOIN accounts fa ON fa.id = fm.account_id
		LEFT JOIN members tm ON tm.id = d.trustee_id LEFT JOIN accounts ta ON ta.id = tm.account_id
		LEFT JOIN topics t ON d.scope = 'topic' AND t.id = d.scope_id
		WHERE d.coop_id = $1 AND %s ORDER BY d.scope, t.key, d.scope_id, fa.handle`
	read := func(where string) ([]Delegation, error) {
		rows, err := s.DB.Read().QueryContext(ctx, fmt.Sprintf(q, where), c.ID, me.ID)
		if err != nil {
			return nil, fmt.Errorf("govern: delegations: %w", err)
		}
		out := []Delegation{}
		err = scanAll(rows, func() error {
			var d Delegation
			var to sql.NullString
			var id int64
			if err := rows.Scan(&d.From, &to, &d.Scope, &d.Topic, &id, &d.CreatedAt); err != nil {
				return err
			}
			if to.Valid {
				d.To = &to.String
			}
			if d.Scope == record.ScopeProposal {
				d.Proposal = id
			}
			d.CreatedAt = d.CreatedAt.UTC()
			out = append(out, d)
			return nil
		})
		return out, err
	}
	if mine, err = read(`d.member_id = $2`); err != nil {
		return nil, nil, err
	}
	toMe, err = read(`d.trustee_id = $2`)
	return mine, toMe, err
}

// Trace says where one member's vote on a proposal goes (RULES.md 2.4):
// before close with the delegations in force now, after close with those
// kept at close.
type Trace struct {
	// Direct: she voted herself.
	Direct bool `json:"direct"`
	// Via are the members her vote passes through, Final the direct voter
	// whose ballot counts for her, and Ballot that voter's ballot.
	Via    []string     `json:"via"`
	Final  string       `json:"final,omitempty"`
	Ballot *BallotInput `json:"ballot,omitempty"`
	Scope  string       `json:"scope,omitempty"`
	// Reason explains a vote that counts for nobody: "none", "blocked",
	// "outside" (the chain left the electorate or her class) or "cycle".
	Reason string `json:"reason,omitempty"`
	// Carries is how many members her own ballot counts for besides her.
	Carries int `json:"carries"`
}

// TraceVote returns where handle's vote on p goes. It follows only her
// own chain, hop by hop, and counts the members she carries with one
// recursive query, so a page view costs her chain and her tree, not the
// whole electorate. It applies the same rules as record.Resolve (a test
// compares the two). Resolutions and secret ballots have no delegation.
func (s *Service) TraceVote(ctx context.Context, p *Proposal, handle string) (*Trace, error) {
	q := s.DB.Read()
	var me int64
	var myClass string
	err := q.QueryRowContext(ctx, `SELECT e.member_id, e.class_key FROM electorate e JOIN members m ON m.id = e.member_id
		JOIN accounts a ON a.id = m.account_id WHERE e.proposal_id = $1 AND a.handle = $2`, p.ID, handle).Scan(&me, &myClass)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s was not in this proposal's electorate: %w", handle, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("govern: trace: %w", err)
	}
	chosen, args, err := s.chosenDelegations(ctx, q, p)
	if err != nil {
		return nil, err
	}
	t := &Trace{Via: []string{}}
	seen := map[int64]bool{}
	for m, class, hop := me, myClass, 0; ; hop++ {
		var voted bool
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ballots WHERE proposal_id = $1 AND member_id = $2)`,
			p.ID, m).Scan(&voted); err != nil {
			return nil, fmt.Errorf("govern: trace: %w", err)
		}
		var name string
		if err := q.QueryRowContext(ctx, `SELECT a.handle FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.id = $1`,
			m).Scan(&name); err != nil {
			return nil, fmt.Errorf("govern: trace: %w", err)
		}
		if voted {
			t.Direct, t.Final = hop == 0, name
			if !p.Secret {
				var content string
				if err := q.QueryRowContext(ctx, `SELECT content FROM ballots WHERE proposal_id = $1 AND member_id = $2`,
					p.ID, m).Scan(&content); err != nil {
					return nil, fmt.Errorf("govern: trace: %w", err)
				}
				t.Ballot = new(BallotInput)
				if err := json.Unmarshal([]byte(content), t.Ballot); err != nil {
					return nil, fmt.Errorf("govern: trace: %w", err)
				}
			}
			break
		}
		if hop > 0 {
			t.Via = append(t.Via, name)
		}
		seen[m] = true
		var scope string
		var to sql.NullInt64
		var toClass sql.NullString
		err := q.QueryRowContext(ctx, `WITH `+chosen+` SELECT c.scope, c.trustee_id, e.class_key FROM chosen c
			LEFT JOIN electorate e ON e.proposal_id = $1 AND e.member_id = c.trustee_id WHERE c.member_id = $4`,
			append(args, m)...).Scan(&scope, &to, &toClass)
		if hop == 0 && err == nil {
			t.Scope = scope
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			t.Reason = "none"
		case err != nil:
			return nil, fmt.Errorf("govern: trace: %w", err)
		case !to.Valid:
			t.Reason = "blocked"
		case !toClass.Valid || (s.withinClass(ctx, p) && toClass.String != class):
			t.Reason = "outside"
		case seen[to.Int64]:
			t.Reason = "cycle"
		}
		if t.Reason != "" {
			break
		}
		m, class = to.Int64, toClass.String
	}
	if t.Direct {
		// Her tree: members without a ballot whose chosen delegation leads
		// to her through others without a ballot.
		hop := ` AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = $1 AND b.member_id = c.member_id)`
		if s.withinClass(ctx, p) {
			hop += ` AND NOT EXISTS (SELECT 1 FROM electorate x, electorate y WHERE x.proposal_id = $1 AND y.proposal_id = $1
				AND x.member_id = c.member_id AND y.member_id = c.trustee_id AND x.class_key <> y.class_key)`
		}
		qc := `WITH RECURSIVE ` + chosen + `, carried(m) AS (
				SELECT c.member_id FROM chosen c WHERE c.trustee_id = $4` + hop + `
				UNION SELECT c.member_id FROM chosen c JOIN carried ON c.trustee_id = carried.m WHERE 1 = 1` + hop + `)
			SELECT COUNT(*) FROM carried`
		if err := q.QueryRowContext(ctx, qc, append(args, me)...).Scan(&t.Carries); err != nil {
			return nil, fmt.Errorf("govern: trace: carried: %w", err)
		}
	}
	return t, nil
}

// withinClass reports whether within_class_only applies to p's count:
// as kept at close, or the co-op's setting now.
func (s *Service) withinClass(ctx context.Context, p *Proposal) bool {
	var kept sql.NullBool
	var now bool
	s.DB.Read().QueryRowContext(ctx, `SELECT p.delegation_within_class, c.delegation_within_class FROM proposals p
		JOIN coops c ON c.id = p.coop_id WHERE p.id = $1`, p.ID).Scan(&kept, &now)
	if p.State == StateClosed && kept.Valid {
		return kept.Bool
	}
	return now
}

// chosenDelegations returns a CTE "chosen(member_id, scope, trustee_id)":
// each electorate member's most specific delegation that applies to p,
// from the delegations kept at close or, while p is open, the live ones.
// Its arguments are $1 = p, $2 = co-op, $3 = topic.
func (s *Service) chosenDelegations(ctx context.Context, q Querier, p *Proposal) (string, []any, error) {
	var on bool
	var topic sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT c.delegation, p.topic_id FROM proposals p JOIN coops c ON c.id = p.coop_id WHERE p.id = $1`,
		p.ID).Scan(&on, &topic)
	if err != nil {
		return "", nil, fmt.Errorf("govern: delegation settings: %w", err)
	}
	// Every source names $1, $2 and $3, so that PostgreSQL knows their types.
	source := `SELECT member_id, scope, trustee_id FROM proposal_delegations WHERE proposal_id = $1
		AND CAST($2 AS BIGINT) = CAST($2 AS BIGINT) AND CAST($3 AS BIGINT) = CAST($3 AS BIGINT)`
	switch {
	case !delegates(p) || (p.State != StateClosed && !on):
		source += ` AND 1 = 0`
	case p.State != StateClosed:
		source = `SELECT member_id, scope, trustee_id FROM delegations WHERE coop_id = $2 AND ((scope = 'coop' AND scope_id = 0)
			OR (scope = 'topic' AND scope_id = $3) OR (scope = 'proposal' AND scope_id = $1))`
	}
	cte := `applicable AS (SELECT a.member_id, a.scope, a.trustee_id,
				CASE a.scope WHEN 'proposal' THEN 3 WHEN 'topic' THEN 2 ELSE 1 END AS rank
			FROM (` + source + `) a JOIN electorate e ON e.proposal_id = $1 AND e.member_id = a.member_id),
		chosen AS (SELECT a.member_id, a.scope, a.trustee_id FROM applicable a
			WHERE NOT EXISTS (SELECT 1 FROM applicable b WHERE b.member_id = a.member_id AND b.rank > a.rank))`
	return cte, []any{p.ID, p.CoopID, topic.Int64}, nil
}
