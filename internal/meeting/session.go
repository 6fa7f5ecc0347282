// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Open opens the session of meeting id; only a secretary may, and not
// before the time it was called for. Remote voting and proxy appointments
// end: from now on only members recorded present vote in the app.
func (s *Service) Open(ctx context.Context, a auth.Account, id int64) (*Meeting, error) {
	now := s.now()
	var m *Meeting
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var c *coop.Coop
		var err error
		if m, c, err = s.secretaryTx(ctx, tx, a, id); err != nil {
			return err
		}
		if m.State != StateCalled {
			return fmt.Errorf("only a called meeting can open; this one is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		if now.Before(m.StartsAt) {
			return fmt.Errorf("the meeting was called for %s; it cannot open before: %w",
				m.StartsAt.Format("2 Jan 2006 15:04 UTC"), errs.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET state = 'in_session', opened_at = $2 WHERE id = $1`, m.ID, now); err != nil {
			return fmt.Errorf("meeting: open: %w", err)
		}
		m.State, m.OpenedAt = StateInSession, &now
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "meeting.opened", Object: m.Object()})
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// attendance reads a meeting's attendance, by handle.
func attendance(ctx context.Context, q govern.Querier, meeting int64) (*Attendance, error) {
	rows, err := q.QueryContext(ctx, `SELECT ac.handle, t.status FROM attendance t JOIN members mb ON mb.id = t.member_id
		JOIN accounts ac ON ac.id = mb.account_id WHERE t.meeting_id = $1 ORDER BY ac.handle`, meeting)
	if err != nil {
		return nil, fmt.Errorf("meeting: attendance: %w", err)
	}
	defer rows.Close()
	out := &Attendance{Present: []string{}, Apologies: []string{}}
	for rows.Next() {
		var h, status string
		if err := rows.Scan(&h, &status); err != nil {
			return nil, fmt.Errorf("meeting: scan attendance: %w", err)
		}
		if status == "present" {
			out.Present = append(out.Present, h)
		} else {
			out.Apologies = append(out.Apologies, h)
		}
	}
	return out, rows.Err()
}

// RecordAttendance records members present (in session only) and members
// who sent apologies (from the call until close); only a secretary may.
// Recording is additive: a member recorded present stays present.
func (s *Service) RecordAttendance(ctx context.Context, a auth.Account, id int64, in Attendance) (*Attendance, error) {
	var out *Attendance
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, err := s.secretaryTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if len(in.Present) > 0 && m.State != StateInSession {
			return fmt.Errorf("attendance is recorded while the meeting is in session; it is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		if m.State != StateCalled && m.State != StateInSession {
			return fmt.Errorf("the meeting is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		present, err := s.members(ctx, c, "present", in.Present)
		if err != nil {
			return err
		}
		apologies, err := s.members(ctx, c, "apologies", in.Apologies)
		if err != nil {
			return err
		}
		for _, mem := range present {
			if err := s.mark(ctx, tx, m, mem, "present"); err != nil {
				return err
			}
		}
		for _, mem := range apologies {
			if err := s.mark(ctx, tx, m, mem, "apologies"); err != nil {
				return err
			}
		}
		if out, err = attendance(ctx, tx, m.ID); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: s.now(), Actor: a.Actor(), Action: "meeting.attendance",
			Object: m.Object(), Payload: map[string]any{"present": in.Present, "apologies": in.Apologies}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CheckIn records the caller present at meeting id, while it is in session.
func (s *Service) CheckIn(ctx context.Context, a auth.Account, id int64) (*Attendance, error) {
	var out *Attendance
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, me, err := s.memberTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if m.State != StateInSession {
			return fmt.Errorf("check in while the meeting is in session; it is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		if err := s.mark(ctx, tx, m, me, "present"); err != nil {
			return err
		}
		if out, err = attendance(ctx, tx, m.ID); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: s.now(), Actor: a.Actor(), Action: "meeting.checked_in",
			Object: m.Object(), Payload: map[string]any{"member": me.Handle}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// members looks up handles among c's active members; field names the
// request field for errors.
func (s *Service) members(ctx context.Context, c *coop.Coop, field string, handles []string) ([]coop.Member, error) {
	var out []coop.Member
	for _, h := range handles {
		h = strings.TrimPrefix(strings.TrimSpace(h), "@")
		mem, err := s.Coops.MemberByHandle(ctx, c, h)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && !mem.Active()) {
			return nil, errs.Invalid(field, fmt.Sprintf("@%s is not a member of %s", h, c.Name))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, mem)
	}
	return out, nil
}

// mark records mem's status at m. Present wins over apologies: a member
// who sent apologies and came after all is present; one recorded present
// cannot be turned into an apology.
func (s *Service) mark(ctx context.Context, tx *store.Tx, m *Meeting, mem coop.Member, status string) error {
	const q = `INSERT INTO attendance (meeting_id, member_id, status, recorded_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (meeting_id, member_id) DO UPDATE SET status = excluded.status, recorded_at = excluded.recorded_at
		WHERE attendance.status = 'apologies'`
	if _, err := tx.ExecContext(ctx, q, m.ID, mem.ID, status, s.now()); err != nil {
		return fmt.Errorf("meeting: record attendance: %w", err)
	}
	return nil
}

// Totals are the show-of-hands counts of one class on one resolution.
type Totals struct {
	ProposalID int64  `json:"proposal_id"`
	Class      string `json:"class"`
	Yes        int64  `json:"yes"`
	No         int64  `json:"no"`
	Abstain    int64  `json:"abstain"`
}

// EnterTotals records a show of hands on a resolution of meeting id for
// the attendees who have no ballot in the app, replacing earlier totals of
// that class; only a secretary may, in session. Class may be left out when
// only one class votes. Nobody is counted twice: the hands of a class may
// not exceed [Service.Hands] (a *errs.ValidationError otherwise).
func (s *Service) EnterTotals(ctx context.Context, a auth.Account, id int64, t Totals) (*Totals, error) {
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, err := s.secretaryTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		var classes string
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(classes, '') FROM proposals WHERE id = $1 AND meeting_id = $2`, t.ProposalID, m.ID).Scan(&classes)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no resolution %d at this meeting: %w", t.ProposalID, errs.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("meeting: load resolution: %w", err)
		}
		if m.State != StateInSession {
			return fmt.Errorf("totals are entered while the meeting is in session; it is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		keys, err := classKeys(classes)
		if err != nil {
			return err
		}
		var v errs.ValidationError
		switch {
		case t.Class == "" && len(keys) == 1:
			t.Class = keys[0]
		case t.Class == "":
			v.Add("class", "name the class the hands were counted in: "+strings.Join(keys, ", "))
		case !slices.Contains(keys, t.Class):
			v.Add("class", "name one of the voting classes: "+strings.Join(keys, ", "))
		}
		for _, n := range []struct {
			field string
			n     int64
		}{{"yes", t.Yes}, {"no", t.No}, {"abstain", t.Abstain}} {
			if n.n < 0 || n.n > 1<<40 {
				v.Add(n.field, "give a number of hands")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		limit, err := handsCap(ctx, tx, m.ID, t.ProposalID, 0)
		if err != nil {
			return err
		}
		if sum := t.Yes + t.No + t.Abstain; sum > limit[t.Class].Total() {
			return errs.Invalid("yes", fmt.Sprintf("%d hands in class %s, but only %s may vote by hand: nobody is counted twice",
				sum, t.Class, limit[t.Class]))
		}
		for choice, n := range map[string]int64{"yes": t.Yes, "no": t.No, "abstain": t.Abstain} {
			const q = `INSERT INTO meeting_totals (proposal_id, class_key, choice, count) VALUES ($1, $2, $3, $4)
				ON CONFLICT (proposal_id, class_key, choice) DO UPDATE SET count = excluded.count`
			if _, err := tx.ExecContext(ctx, q, t.ProposalID, t.Class, choice, n); err != nil {
				return fmt.Errorf("meeting: enter totals: %w", err)
			}
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: s.now(), Actor: a.Actor(), Action: "meeting.totals",
			Object: m.Object(), Payload: t})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// classKeys reads the keys of a proposal's frozen classes.
func classKeys(classes string) ([]string, error) {
	var cs []vote.Class
	if err := json.Unmarshal([]byte(classes), &cs); err != nil {
		return nil, fmt.Errorf("meeting: resolution classes: %w", err)
	}
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.Key
	}
	return keys, nil
}

// Hands is how many hands a show of hands in one class may count.
type Hands struct {
	// Attendees present, in the class, with no ballot in the app.
	Attendees int64 `json:"attendees"`
	// Proxies are the discretionary proxies those attendees hold for
	// members of the class who neither attended nor voted.
	Proxies int64 `json:"proxies"`
}

// Total is the most hands the class may count.
func (h Hands) Total() int64 { return h.Attendees + h.Proxies }

func (h Hands) String() string {
	return fmt.Sprintf("%d (%d attendees without a ballot and %d proxies they hold)", h.Total(), h.Attendees, h.Proxies)
}

// handsCap returns, per class of resolution p's electorate, how many
// hands a show of hands may count at meeting (RULES.md 2.6: nobody is
// counted twice). A member with a ballot in the app, a directed proxy on
// p (a ballot in the record) and a proxy whose holder has a ballot (it
// follows that ballot) are never hands. voter, if not 0, is counted as
// having a ballot: a member about to vote in the app.
func handsCap(ctx context.Context, q govern.Querier, meeting, p, voter int64) (map[string]Hands, error) {
	out := map[string]Hands{}
	const qa = `SELECT e.class_key, COUNT(*) FROM attendance t
		JOIN electorate e ON e.proposal_id = $2 AND e.member_id = t.member_id
		WHERE t.meeting_id = $1 AND t.status = 'present' AND t.member_id <> $3
			AND NOT EXISTS (SELECT 1 FROM ballots b WHERE b.proposal_id = $2 AND b.member_id = t.member_id)
		GROUP BY e.class_key`
	rows, err := q.QueryContext(ctx, qa, meeting, p, voter)
	if err != nil {
		return nil, fmt.Errorf("meeting: count attendees: %w", err)
	}
	err = scanRows(rows, func() error {
		var k string
		var n int64
		err := rows.Scan(&k, &n)
		h := out[k]
		h.Attendees = n
		out[k] = h
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("meeting: count attendees: %w", err)
	}
	counted, err := countedProxies(ctx, q, meeting, p)
	if err != nil {
		return nil, err
	}
	for _, x := range counted {
		if x.kind != proxyHands || x.holderID == voter {
			continue
		}
		h := out[x.class]
		h.Proxies++
		out[x.class] = h
	}
	return out, nil
}

// scanRows calls scan for every row and closes rows.
func scanRows(rows *sql.Rows, scan func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := scan(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// HandsLine is the show of hands on one resolution in one class: how many
// hands it may count now, and what was entered.
type HandsLine struct {
	ProposalID int64  `json:"proposal_id"`
	Title      string `json:"title"`
	Class      string `json:"class"`
	Limit      Hands  `json:"limit"`
	Entered    bool   `json:"entered"`
	Yes        int64  `json:"yes"`
	No         int64  `json:"no"`
	Abstain    int64  `json:"abstain"`
}

// ShowOfHands returns, for every open resolution of meeting id and every
// voting class, the hands counted and the most that may be, for a member
// of its co-op.
func (s *Service) ShowOfHands(ctx context.Context, a auth.Account, id int64) ([]HandsLine, error) {
	out := []HandsLine{}
	err := s.DB.ReadTx(ctx, func(tx *sql.Tx) error {
		m, _, _, err := s.access(ctx, tx, a, id)
		if err != nil {
			return err
		}
		agenda, err := items(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		for _, it := range agenda {
			if it.ProposalID == 0 || it.State != govern.StateOpen {
				continue
			}
			var classes string
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(classes, '') FROM proposals WHERE id = $1`, it.ProposalID).Scan(&classes); err != nil {
				return fmt.Errorf("meeting: resolution classes: %w", err)
			}
			keys, err := classKeys(classes)
			if err != nil {
				return err
			}
			limit, err := handsCap(ctx, tx, m.ID, it.ProposalID, 0)
			if err != nil {
				return err
			}
			entered := map[string]map[string]int64{}
			rows, err := tx.QueryContext(ctx, `SELECT class_key, choice, count FROM meeting_totals WHERE proposal_id = $1`, it.ProposalID)
			if err != nil {
				return fmt.Errorf("meeting: totals: %w", err)
			}
			err = scanRows(rows, func() error {
				var k, choice string
				var n int64
				err := rows.Scan(&k, &choice, &n)
				if entered[k] == nil {
					entered[k] = map[string]int64{}
				}
				entered[k][choice] = n
				return err
			})
			if err != nil {
				return fmt.Errorf("meeting: totals: %w", err)
			}
			for _, k := range keys {
				e := entered[k]
				out = append(out, HandsLine{ProposalID: it.ProposalID, Title: it.Title, Class: k, Limit: limit[k],
					Entered: e != nil, Yes: e["yes"], No: e["no"], Abstain: e["abstain"]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
