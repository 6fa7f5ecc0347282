// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/record"
	"opencoop/internal/store"
)

// The Service answers govern for resolutions.
var _ govern.Meetings = (*Service)(nil)

// MayCast implements [govern.Meetings]: while the meeting is called any
// member of the resolution's electorate votes remotely; in session only
// members recorded present vote, and not one whose hand the show of hands
// has counted already; once closed nobody does.
func (s *Service) MayCast(ctx context.Context, tx *store.Tx, p *govern.Proposal, member int64) error {
	// Read-lock the meeting so the session cannot open, nor totals change,
	// between this check and the ballot (PostgreSQL; SQLite serialises).
	return mayCast(ctx, tx, tx.ForShare(), p, member)
}

// CanVote answers MayCast outside a ballot's transaction, for a page that
// offers the vote form only to those who may use it.
func (s *Service) CanVote(ctx context.Context, p *govern.Proposal, member int64) error {
	return mayCast(ctx, s.DB.Read(), "", p, member)
}

func mayCast(ctx context.Context, tx govern.Querier, lock string, p *govern.Proposal, member int64) error {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT state FROM meetings WHERE id = $1`+lock, p.MeetingID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("resolution %d names meeting %d, which does not exist: %w", p.ID, p.MeetingID, errs.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("meeting: state: %w", err)
	}
	switch state {
	case StateCalled:
		return nil
	case StateInSession:
	case StateClosed:
		return fmt.Errorf("the meeting has closed; its resolutions take no more ballots: %w", errs.ErrConflict)
	default:
		return fmt.Errorf("the meeting is %s: %w", stateWords(state), errs.ErrConflict)
	}
	var present, voted int
	const q = `SELECT
			(SELECT COUNT(*) FROM attendance WHERE meeting_id = $1 AND member_id = $2 AND status = 'present'),
			(SELECT COUNT(*) FROM ballots WHERE proposal_id = $3 AND member_id = $2)`
	if err := tx.QueryRowContext(ctx, q, p.MeetingID, member, p.ID).Scan(&present, &voted); err != nil {
		return fmt.Errorf("meeting: attendance: %w", err)
	}
	if present == 0 {
		return fmt.Errorf("remote voting closed when the session opened; only members recorded present vote now — check in at the meeting: %w", errs.ErrForbidden)
	}
	if voted > 0 {
		return nil // changing a ballot counts nobody anew
	}
	limit, err := handsCap(ctx, tx, p.MeetingID, p.ID, member)
	if err != nil {
		return err
	}
	hands, err := totalsByClass(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	for class, n := range hands {
		if n > limit[class].Total() {
			return fmt.Errorf("the show of hands on this resolution has counted you (or a proxy you hold); the secretary must correct the totals of class %s before you vote in the app: %w", class, errs.ErrConflict)
		}
	}
	return nil
}

func totalsByClass(ctx context.Context, q govern.Querier, p int64) (map[string]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT class_key, SUM(count) FROM meeting_totals WHERE proposal_id = $1 GROUP BY class_key`, p)
	if err != nil {
		return nil, fmt.Errorf("meeting: totals: %w", err)
	}
	out := map[string]int64{}
	err = scanRows(rows, func() error {
		var k string
		var n int64
		err := rows.Scan(&k, &n)
		out[k] = n
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("meeting: totals: %w", err)
	}
	return out, nil
}

// Extend implements [govern.Meetings]: it adds to resolution p's decision
// record the meeting's proxies — directed ones as the appointer's ballot
// cast by the holder, discretionary ones as proposal delegations of kind
// "proxy" — the show-of-hands totals and, once the meeting has closed, its
// quorum. A proxy counts for nothing when its appointer attended or has a
// ballot of her own (a ballot always wins), or was not in p's electorate.
// Everything it reads is fixed when the meeting closes.
func (s *Service) Extend(ctx context.Context, q govern.Querier, p *govern.Proposal, rec *record.Record) error {
	m, err := load(ctx, q, p.MeetingID)
	if err != nil {
		return err
	}
	cps, err := countedProxies(ctx, q, m.ID, p.ID)
	if err != nil {
		return err
	}
	for _, x := range cps {
		switch x.kind {
		case proxyVoid:
		case proxyDirected:
			choice := x.direction
			rec.Ballots = append(rec.Ballots, record.Ballot{Voter: x.Appointer, Proxy: x.Holder, Content: record.Content{Choice: &choice}})
		default:
			holder := x.Holder
			rec.Delegations = append(rec.Delegations, record.Delegation{From: x.Appointer, To: &holder, Scope: record.ScopeProposal,
				Proposal: p.ID, Kind: "proxy"})
		}
	}
	sort.SliceStable(rec.Ballots, func(i, j int) bool { return rec.Ballots[i].Voter < rec.Ballots[j].Voter })
	rows, err := q.QueryContext(ctx, `SELECT class_key, choice, count FROM meeting_totals WHERE proposal_id = $1
		ORDER BY class_key, choice`, p.ID)
	if err != nil {
		return fmt.Errorf("meeting: totals: %w", err)
	}
	err = scanRows(rows, func() error {
		var t record.Total
		err := rows.Scan(&t.Class, &t.Choice, &t.Count)
		rec.Totals = append(rec.Totals, t)
		return err
	})
	if err != nil {
		return fmt.Errorf("meeting: totals: %w", err)
	}
	if qu := m.Quorum; qu != nil {
		rec.Meeting = &record.Meeting{ID: m.ID, Present: qu.Present, Proxies: qu.Proxies, Required: qu.Required, Quorate: qu.Quorate}
		if m.CountRemote {
			rec.Meeting.Remote = qu.Remote
		}
	}
	return nil
}

// How a proxy counts on one resolution.
type proxyKind int

const (
	// proxyVoid: the appointer attended, has her own ballot, or is not in
	// the resolution's electorate.
	proxyVoid proxyKind = iota
	// proxyDirected: a ballot in the record, cast by the holder as directed.
	proxyDirected
	// proxyFollows: discretionary, and the holder has a ballot, which the
	// appointer's vote follows.
	proxyFollows
	// proxyHands: discretionary, and the holder is present with no ballot:
	// she raises her hand for the appointer in the show of hands.
	proxyHands
	// proxyIdle: discretionary, and the holder neither voted nor attended.
	proxyIdle
)

type countedProxy struct {
	Proxy
	kind      proxyKind
	class     string // the appointer's class in the electorate
	direction string
}

// countedProxies says how each standing proxy of meeting counts on
// resolution p.
func countedProxies(ctx context.Context, q govern.Querier, meeting, p int64) ([]countedProxy, error) {
	all, err := proxies(ctx, q, meeting)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	const qs = `SELECT x.member_id, COALESCE(e.class_key, ''),
			EXISTS (SELECT 1 FROM attendance t WHERE t.meeting_id = $1 AND t.member_id = x.member_id AND t.status = 'present'),
			EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = $2 AND b.member_id = x.member_id),
			EXISTS (SELECT 1 FROM attendance t WHERE t.meeting_id = $1 AND t.member_id = x.holder_id AND t.status = 'present'),
			EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = $2 AND b.member_id = x.holder_id)
		FROM proxies x LEFT JOIN electorate e ON e.proposal_id = $2 AND e.member_id = x.member_id
		WHERE x.meeting_id = $1`
	type facts struct {
		class                                      string
		present, voted, holderPresent, holderVoted bool
	}
	byAppointer := map[int64]facts{}
	rows, err := q.QueryContext(ctx, qs, meeting, p)
	if err != nil {
		return nil, fmt.Errorf("meeting: proxy facts: %w", err)
	}
	err = scanRows(rows, func() error {
		var id int64
		var f facts
		err := rows.Scan(&id, &f.class, &f.present, &f.voted, &f.holderPresent, &f.holderVoted)
		byAppointer[id] = f
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("meeting: proxy facts: %w", err)
	}
	out := make([]countedProxy, 0, len(all))
	for _, x := range all {
		f := byAppointer[x.appointerID]
		c := countedProxy{Proxy: x, class: f.class}
		d, directed := x.direction(p)
		switch {
		case f.class == "" || f.present || f.voted:
			c.kind = proxyVoid
		case directed:
			c.kind, c.direction = proxyDirected, d
		case f.holderVoted:
			c.kind = proxyFollows
		case f.holderPresent:
			c.kind = proxyHands
		default:
			c.kind = proxyIdle
		}
		out = append(out, c)
	}
	return out, nil
}
