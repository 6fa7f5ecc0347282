// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/store"
)

// Proxy is a member's appointment of another to act for her at one
// meeting (RULES.md 2.6). With Directions it is directed: on each
// resolution named there the holder votes as directed, and the record
// counts it as the appointer's ballot; on every other resolution, and
// without directions, the holder acts at her discretion, and the appointer's
// vote follows the holder's.
type Proxy struct {
	Appointer string `json:"appointer"`
	Holder    string `json:"holder"`
	Directed  bool   `json:"directed"`
	// Directions map resolution (proposal) ids to yes, no or abstain.
	Directions  map[string]string `json:"directions,omitempty"`
	AppointedAt time.Time         `json:"appointed_at"`

	appointerID, holderID int64
}

// direction returns the appointer's direction on resolution id, if any.
func (p Proxy) direction(id int64) (string, bool) {
	d, ok := p.Directions[strconv.FormatInt(id, 10)]
	return d, ok
}

// proxies reads the standing proxies of a meeting, by appointer.
func proxies(ctx context.Context, q govern.Querier, meeting int64) ([]Proxy, error) {
	const qp = `SELECT fa.handle, ha.handle, x.directions, x.appointed_at, x.member_id, x.holder_id
		FROM proxies x JOIN members fm ON fm.id = x.member_id JOIN accounts fa ON fa.id = fm.account_id
		JOIN members hm ON hm.id = x.holder_id JOIN accounts ha ON ha.id = hm.account_id
		WHERE x.meeting_id = $1 ORDER BY fa.handle`
	rows, err := q.QueryContext(ctx, qp, meeting)
	if err != nil {
		return nil, fmt.Errorf("meeting: proxies: %w", err)
	}
	defer rows.Close()
	var out []Proxy
	for rows.Next() {
		var p Proxy
		var dirs string
		if err := rows.Scan(&p.Appointer, &p.Holder, &dirs, &p.AppointedAt, &p.appointerID, &p.holderID); err != nil {
			return nil, fmt.Errorf("meeting: scan proxy: %w", err)
		}
		p.AppointedAt = p.AppointedAt.UTC()
		if err := json.Unmarshal([]byte(dirs), &p.Directions); err != nil {
			return nil, fmt.Errorf("meeting: proxy directions: %w", err)
		}
		p.Directed = len(p.Directions) > 0
		out = append(out, p)
	}
	return out, rows.Err()
}

// NewProxy is an appointment as the appointer makes it.
type NewProxy struct {
	// Holder is the handle of the member who will hold the proxy.
	Holder string `json:"holder"`
	// Directions, if any, map resolution ids of this meeting to yes, no or
	// abstain.
	Directions map[string]string `json:"directions"`
}

// AppointProxy appoints n.Holder as the caller's proxy for meeting id,
// until the session opens. A member has one proxy per meeting: a second
// appointment while one stands is errs.ErrConflict (revoke first), as is a
// holder who already carries the co-op's proxy limit, or one who has
// appointed a proxy herself (proxies do not chain).
func (s *Service) AppointProxy(ctx context.Context, a auth.Account, id int64, n NewProxy) (*Proxy, error) {
	now := s.now()
	var out *Proxy
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, me, err := s.memberTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if m.State != StateCalled {
			return fmt.Errorf("proxies are appointed from the call until the session opens; the meeting is %s: %w",
				stateWords(m.State), errs.ErrConflict)
		}
		holder, err := s.Coops.MemberByHandle(ctx, c, strings.TrimPrefix(strings.TrimSpace(n.Holder), "@"))
		if err != nil || !holder.Active() {
			return errs.Invalid("holder", "name a member of "+c.Name)
		}
		if holder.ID == me.ID {
			return errs.Invalid("holder", "appoint another member; you hold your own vote")
		}
		items, err := items(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		resolutions := map[string]bool{}
		for _, it := range items {
			if it.ProposalID != 0 {
				resolutions[strconv.FormatInt(it.ProposalID, 10)] = true
			}
		}
		dirs := map[string]string{}
		for k, d := range n.Directions {
			if !resolutions[k] {
				return errs.Invalid("directions", fmt.Sprintf("%q is not a resolution of this meeting", k))
			}
			if d != "yes" && d != "no" && d != "abstain" {
				return errs.Invalid("directions", fmt.Sprintf("direct yes, no or abstain, not %q", d))
			}
			dirs[k] = d
		}
		var mine, held, appointedByHolder, heldByMe int
		const qc = `SELECT
				(SELECT COUNT(*) FROM proxies WHERE meeting_id = $1 AND member_id = $2),
				(SELECT COUNT(*) FROM proxies WHERE meeting_id = $1 AND holder_id = $3),
				(SELECT COUNT(*) FROM proxies WHERE meeting_id = $1 AND member_id = $3),
				(SELECT COUNT(*) FROM proxies WHERE meeting_id = $1 AND holder_id = $2)`
		if err := tx.QueryRowContext(ctx, qc, m.ID, me.ID, holder.ID).Scan(&mine, &held, &appointedByHolder, &heldByMe); err != nil {
			return fmt.Errorf("meeting: count proxies: %w", err)
		}
		switch {
		case mine > 0:
			return fmt.Errorf("you have appointed a proxy for this meeting already; revoke it first: %w", errs.ErrConflict)
		case c.ProxyLimit == 0:
			return fmt.Errorf("the rules of %s allow no proxies: %w", c.Name, errs.ErrConflict)
		case held >= c.ProxyLimit:
			return fmt.Errorf("@%s carries %d proxies already, the most the rules allow: %w", holder.Handle, held, errs.ErrConflict)
		case appointedByHolder > 0:
			return fmt.Errorf("@%s has appointed a proxy herself; proxies do not pass on: %w", holder.Handle, errs.ErrConflict)
		case heldByMe > 0:
			return fmt.Errorf("you hold another member's proxy; a holder cannot pass it on by appointing one: %w", errs.ErrConflict)
		}
		raw, _ := json.Marshal(dirs)
		const qi = `INSERT INTO proxies (meeting_id, member_id, holder_id, directions, appointed_at) VALUES ($1, $2, $3, $4, $5)`
		if _, err := tx.ExecContext(ctx, qi, m.ID, me.ID, holder.ID, string(raw), now); err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("you have appointed a proxy for this meeting already: %w", errs.ErrConflict)
			}
			return fmt.Errorf("meeting: appoint proxy: %w", err)
		}
		out = &Proxy{Appointer: me.Handle, Holder: holder.Handle, Directed: len(dirs) > 0, Directions: dirs, AppointedAt: now}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "proxy.appointed",
			Object: m.Object(), Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeProxy revokes the caller's proxy for meeting id; allowed until the
// session opens.
func (s *Service) RevokeProxy(ctx context.Context, a auth.Account, id int64) error {
	now := s.now()
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, me, err := s.memberTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if m.State != StateCalled {
			return fmt.Errorf("a proxy can be revoked only until the session opens; the meeting is %s: %w",
				stateWords(m.State), errs.ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM proxies WHERE meeting_id = $1 AND member_id = $2`, m.ID, me.ID)
		if err != nil {
			return fmt.Errorf("meeting: revoke proxy: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("you have no proxy for this meeting: %w", errs.ErrNotFound)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "proxy.revoked",
			Object: m.Object(), Payload: map[string]any{"appointer": me.Handle}})
		return err
	})
}

// stateWords says a meeting state as a sentence does.
func stateWords(state string) string {
	switch state {
	case StateInSession:
		return "in session"
	case StateCalled:
		return "called"
	}
	return state
}
