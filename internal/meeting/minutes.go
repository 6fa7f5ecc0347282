// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Minutes are a closed meeting's minutes: Markdown written at close, with
// attendance, apologies, proxies and every result filled in, and the
// resolutions it decided.
type Minutes struct {
	MeetingID   int64               `json:"meeting_id"`
	Title       string              `json:"title"`
	Markdown    string              `json:"markdown"`
	Quorate     bool                `json:"quorate"`
	Resolutions []MinutesResolution `json:"resolutions"`
	// Approved says when and at which later meeting they were approved.
	Approved *Approval `json:"approved,omitempty"`
}

// MinutesResolution is one resolution's line in the minutes.
type MinutesResolution struct {
	// Number is the register number, for passed resolutions.
	Number     string `json:"number,omitempty"`
	ProposalID int64  `json:"proposal_id"`
	Title      string `json:"title"`
	Kind       string `json:"kind"`
	Outcome    string `json:"outcome"`
}

const dateTime = "2 January 2006, 15:04 UTC"

// writeMinutes writes closed meeting m's minutes from its agenda (with
// results), attendance and proxies.
func (s *Service) writeMinutes(ctx context.Context, q govern.Querier, c *coop.Coop, m *Meeting) (*Minutes, error) {
	att, err := attendance(ctx, q, m.ID)
	if err != nil {
		return nil, err
	}
	all, err := proxies(ctx, q, m.ID)
	if err != nil {
		return nil, err
	}
	out := &Minutes{MeetingID: m.ID, Title: m.Title, Quorate: m.Quorum.Quorate, Resolutions: []MinutesResolution{}}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	kind := "General meeting"
	if m.Kind == KindAnnual {
		kind = "Annual general meeting"
	}
	line("# Minutes: %s", m.Title)
	line("")
	line("%s of %s, called on %s with %d days' notice for %s; opened %s, closed %s.", kind, c.Name,
		m.CalledAt.Format(dateTime), m.NoticeDays, m.StartsAt.Format(dateTime), m.OpenedAt.Format(dateTime), m.ClosedAt.Format(dateTime))
	line("")
	line("## Attendance")
	line("")
	line("- Present (%d): %s", len(att.Present), handles(att.Present))
	line("- Apologies (%d): %s", len(att.Apologies), handles(att.Apologies))
	var ps []string
	for _, p := range all {
		how := "discretionary"
		if p.Directed {
			how = "directed"
		}
		ps = append(ps, fmt.Sprintf("@%s held by @%s (%s)", p.Appointer, p.Holder, how))
	}
	line("- Proxies (%d): %s", len(all), orNone(strings.Join(ps, ", ")))
	qu := m.Quorum
	line("- Members who voted remotely, neither present nor represented: %d", qu.Remote)
	line("")
	line("## Quorum")
	line("")
	verdict := "The meeting was quorate."
	if !qu.Quorate {
		verdict = "The meeting was **not quorate**: no resolution was passed."
	}
	line("%d members eligible to vote. Quorum: %s. Counted: %d present, %d represented by proxy%s — %d of %d required. %s",
		qu.Eligible, quorumRule(m, qu.Eligible), qu.Present, qu.Proxies, remoteWords(m, qu), qu.Counted(m.CountRemote), qu.Required, verdict)
	line("")
	line("## Agenda")
	for _, it := range m.Agenda {
		line("")
		line("### %d. %s", it.Position, it.Title)
		if it.ApprovesMinutes != 0 {
			line("")
			line("The minutes of meeting %d are put for approval.", it.ApprovesMinutes)
		}
		r := it.Resolution
		if r == nil {
			continue
		}
		line("")
		line("%s resolution (proposal %d): **%s**", strings.ToUpper(r.Kind[:1])+r.Kind[1:], it.ProposalID, r.Title)
		if r.Body != "" {
			line("")
			for _, l := range strings.Split(r.Body, "\n") {
				line("> %s", l)
			}
		}
		out.Resolutions = append(out.Resolutions, MinutesResolution{Number: it.Number, ProposalID: it.ProposalID,
			Title: r.Title, Kind: r.Kind, Outcome: it.Outcome})
		line("")
		if it.result == nil {
			line("Withdrawn before the meeting; not put to the vote.")
			continue
		}
		hands, err := totalsByClass(ctx, q, it.ProposalID)
		if err != nil {
			return nil, err
		}
		resultLines(line, it.result, hands)
		switch it.result.Outcome {
		case vote.Passed:
			line("")
			line("**Passed** as resolution %s.", it.Number)
		case vote.NotQuorate:
			line("")
			line("**Not decided**: the meeting was not quorate.")
		default:
			line("")
			line("**Not passed.**")
		}
	}
	out.Markdown = b.String()
	return out, nil
}

// resultLines writes a resolution's for, against and abstain, in all and
// by class, with the show-of-hands share.
func resultLines(line func(string, ...any), r *vote.Result, hands map[string]int64) {
	var yes, no, abstain int64
	var byClass []string
	for _, k := range sortedKeys(r.Classes) {
		cc := r.Classes[k]
		if cc.Electorate == 0 {
			continue // a class without members
		}
		yes, no, abstain = yes+cc.Counts["yes"], no+cc.Counts["no"], abstain+cc.Counts["abstain"]
		s := fmt.Sprintf("%s: for %d, against %d, abstain %d", k, cc.Counts["yes"], cc.Counts["no"], cc.Counts["abstain"])
		if n := hands[k]; n > 0 {
			s += fmt.Sprintf(" (%d by show of hands)", n)
		}
		if cc.Majority != nil && !*cc.Majority {
			s += ", no majority in the class"
		}
		byClass = append(byClass, s)
	}
	line("For %d, against %d, abstain %d.", yes, no, abstain)
	line("")
	line("- By class: %s", orNone(strings.Join(byClass, "; ")))
	line("- Rule applied: %s", r.Rule)
}

func remoteWords(m *Meeting, q *Quorum) string {
	if m.CountRemote {
		return fmt.Sprintf(", %d voting remotely", q.Remote)
	}
	return " (remote voters do not count at this meeting)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func handles(hs []string) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = "@" + h
	}
	return orNone(strings.Join(out, ", "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Minutes returns closed meeting id's minutes, for a member of its co-op;
// once approved they say so at the end.
func (s *Service) Minutes(ctx context.Context, a auth.Account, id int64) (*Minutes, error) {
	var out *Minutes
	err := s.DB.ReadTx(ctx, func(tx *sql.Tx) error {
		m, _, _, err := s.access(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if m.State != StateClosed {
			return fmt.Errorf("the minutes are written when the meeting closes; it is %s: %w", stateWords(m.State), errs.ErrConflict)
		}
		out = &Minutes{MeetingID: m.ID, Title: m.Title, Quorate: m.Quorum.Quorate, Approved: m.MinutesApproved, Resolutions: []MinutesResolution{}}
		if err := tx.QueryRowContext(ctx, `SELECT minutes FROM meetings WHERE id = $1`, m.ID).Scan(&out.Markdown); err != nil {
			return fmt.Errorf("meeting: read minutes: %w", err)
		}
		agenda, err := items(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		for _, it := range agenda {
			if r := it.Resolution; r != nil {
				out.Resolutions = append(out.Resolutions, MinutesResolution{Number: it.Number, ProposalID: it.ProposalID,
					Title: r.Title, Kind: r.Kind, Outcome: it.Outcome})
			}
		}
		if ap := m.MinutesApproved; ap != nil {
			later, err := load(ctx, tx, ap.MeetingID)
			if err != nil {
				return err
			}
			out.Markdown += fmt.Sprintf("\n---\n\nApproved at %s (meeting %d) on %s.\n", later.Title, later.ID, ap.At.Format(dateTime))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ApproveMinutes approves closed meeting id's minutes at the co-op's later
// meeting now in session, which it records; only a secretary may, once.
func (s *Service) ApproveMinutes(ctx context.Context, a auth.Account, id int64) (*Approval, error) {
	now := s.now()
	var out *Approval
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		m, c, err := s.secretaryTx(ctx, tx, a, id)
		if err != nil {
			return err
		}
		switch {
		case m.State != StateClosed:
			return fmt.Errorf("minutes exist once the meeting has closed; it is %s: %w", stateWords(m.State), errs.ErrConflict)
		case m.MinutesApproved != nil:
			return fmt.Errorf("these minutes were approved on %s: %w", m.MinutesApproved.At.Format(dateTime), errs.ErrConflict)
		}
		var later int64
		const ql = `SELECT id FROM meetings WHERE coop_id = $1 AND state = 'in_session' AND starts_at > $2
			ORDER BY starts_at DESC, id DESC LIMIT 1`
		err = tx.QueryRowContext(ctx, ql, c.ID, m.StartsAt).Scan(&later)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("minutes are approved at a later meeting, while it is in session: %w", errs.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("meeting: find the approving meeting: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE meetings SET minutes_approved_at = $2, minutes_approved_in = $3 WHERE id = $1`,
			m.ID, now, later); err != nil {
			return fmt.Errorf("meeting: approve minutes: %w", err)
		}
		out = &Approval{At: now, MeetingID: later}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "meeting.minutes_approved",
			Object: m.Object(), Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Registered is one line of a co-op's register of resolutions.
type Registered struct {
	// Number is YYYY/N for passed resolutions, empty otherwise.
	Number     string     `json:"number,omitempty"`
	Title      string     `json:"title"`
	Kind       string     `json:"kind"`
	Outcome    string     `json:"outcome"`
	MeetingID  int64      `json:"meeting_id"`
	ProposalID int64      `json:"proposal_id"`
	PassedAt   *time.Time `json:"passed_at,omitempty"`
}

// Register returns c's register of resolutions, for a member: the passed
// resolutions in number order, or with all every resolution its closed
// meetings decided, in the order they were decided.
func (s *Service) Register(ctx context.Context, c *coop.Coop, a auth.Account, all bool) ([]Registered, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	q := `SELECT i.proposal_id, p.title, i.resolution_kind, i.meeting_id, p.state, p.result, r.year, r.seq, r.passed_at
		FROM agenda_items i JOIN meetings m ON m.id = i.meeting_id JOIN proposals p ON p.id = i.proposal_id
		LEFT JOIN resolutions r ON r.proposal_id = i.proposal_id
		WHERE m.coop_id = $1 AND m.state = 'closed'`
	if !all {
		q += ` AND r.seq IS NOT NULL`
	}
	rows, err := s.DB.Read().QueryContext(ctx, q+` ORDER BY m.closed_at, m.id, i.position`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("meeting: register: %w", err)
	}
	out := []Registered{}
	err = scanRows(rows, func() error {
		var r Registered
		var state string
		var result sql.NullString
		var year, seq sql.NullInt64
		var passed sql.NullTime
		if err := rows.Scan(&r.ProposalID, &r.Title, &r.Kind, &r.MeetingID, &state, &result, &year, &seq, &passed); err != nil {
			return err
		}
		r.Outcome = state
		if result.Valid {
			var res vote.Result
			if err := json.Unmarshal([]byte(result.String), &res); err != nil {
				return err
			}
			r.Outcome = string(res.Outcome)
		}
		if seq.Valid {
			r.Number = number(year.Int64, seq.Int64)
		}
		r.PassedAt = timeOf(passed)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("meeting: register: %w", err)
	}
	return out, nil
}
