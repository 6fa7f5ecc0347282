// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Meeting states (RULES.md 2.6). Remote voting runs while a meeting is
// called, from the call until the session opens.
const (
	StateDraft     = "draft"
	StateCalled    = "called"
	StateInSession = "in_session"
	StateClosed    = "closed"
)

// Kinds of meeting.
const (
	KindGeneral = "general"
	KindAnnual  = "annual"
)

// Kinds of resolution (RULES.md 2.5).
const (
	Ordinary = "ordinary"
	Special  = "special"
)

// Limits on a meeting's size.
const (
	MaxItems = 100
	// MaxAhead is how far ahead a meeting may be called: its resolutions'
	// closing time, a day after the start, must lie within govern.MaxOpen.
	MaxAhead = govern.MaxOpen - 48*time.Hour
)

// Meeting is a general meeting with its agenda and, once it has met, its
// attendance, proxies and quorum.
type Meeting struct {
	ID     int64  `json:"id"`
	CoopID int64  `json:"-"`
	Coop   string `json:"coop"`
	Title  string `json:"title"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	// StartsAt is when the session is due to open.
	StartsAt time.Time `json:"starts_at"`
	// NoticeDays is the notice period in force when the meeting was called.
	NoticeDays int `json:"notice_days"`
	// QuorumCount is an explicit quorum in members; 0 means the FairShares
	// default (see [RequiredQuorum]).
	QuorumCount int64 `json:"quorum_count"`
	// CountRemote makes members who voted remotely count towards the quorum.
	CountRemote bool       `json:"count_remote"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	CalledAt    *time.Time `json:"called_at,omitempty"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	// Quorum is fixed at close; before, Meeting reports it as it stands.
	Quorum *Quorum `json:"quorum,omitempty"`
	// MinutesApproved says when and at which meeting the minutes were approved.
	MinutesApproved *Approval `json:"minutes_approved,omitempty"`

	Agenda     []Item      `json:"agenda"`
	Attendance *Attendance `json:"attendance,omitempty"`
	Proxies    []Proxy     `json:"proxies,omitempty"`
	// You is the caller's part in the meeting.
	You *Part `json:"you,omitempty"`

	createdByID int64
}

// Object names the meeting in audit events.
func (m *Meeting) Object() string { return fmt.Sprintf("meeting:%d", m.ID) }

// Item is one agenda item.
type Item struct {
	ID       int64  `json:"id"`
	Position int    `json:"position"`
	Title    string `json:"title"`
	// Resolution is the resolution the item carries, if any, and ProposalID
	// the proposal it became when the meeting was called.
	Resolution *Resolution `json:"resolution,omitempty"`
	ProposalID int64       `json:"proposal_id,omitempty"`
	// ApprovesMinutes is the earlier meeting whose minutes this item approves.
	ApprovesMinutes int64 `json:"approves_minutes,omitempty"`
	// Outcome and Number (YYYY/N, passed resolutions only) once closed.
	Outcome string `json:"outcome,omitempty"`
	Number  string `json:"number,omitempty"`
	// State is the resolution proposal's state.
	State string `json:"state,omitempty"`

	result *vote.Result
}

// Resolution is a motion put to the meeting.
type Resolution struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	Kind  string `json:"kind"`
}

// Quorum is who counted towards a meeting's quorum (RULES.md 2.6).
type Quorum struct {
	// Eligible is the number of members in a voting class.
	Eligible int64 `json:"eligible"`
	Present  int64 `json:"present"`
	Proxies  int64 `json:"proxies"`
	// Remote is the number of members neither present nor represented who
	// voted remotely; they count only with CountRemote.
	Remote   int64 `json:"remote"`
	Required int64 `json:"required"`
	Quorate  bool  `json:"quorate"`
	// Rule says how Required was found.
	Rule string `json:"rule"`
}

// Counted is the number of members counted towards the quorum.
func (q Quorum) Counted(remote bool) int64 {
	if remote {
		return q.Present + q.Proxies + q.Remote
	}
	return q.Present + q.Proxies
}

// Approval records the approval of a meeting's minutes.
type Approval struct {
	At time.Time `json:"at"`
	// MeetingID is the later meeting at which they were approved.
	MeetingID int64 `json:"meeting_id"`
}

// Attendance lists the members recorded present and those who sent apologies.
type Attendance struct {
	Present   []string `json:"present"`
	Apologies []string `json:"apologies"`
}

// Part is the caller's part in a meeting.
type Part struct {
	Secretary bool `json:"secretary"`
	Present   bool `json:"present"`
	// Proxy is the proxy she appointed, with its directions.
	Proxy *Proxy `json:"proxy,omitempty"`
	// Holds are the proxies she holds, with their directions.
	Holds []Proxy `json:"holds"`
}

// RequiredQuorum is the FairShares default quorum of a meeting of a co-op
// with eligible members (RULES.md 2.6): under 10 members half and at least
// 3 (never more than there are), 10 to 50 two fifths, over 50 twenty
// members. Halves and fifths round up.
func RequiredQuorum(eligible int64) int64 {
	switch {
	case eligible < 10:
		return min(max((eligible+1)/2, 3), eligible)
	case eligible <= 50:
		return (2*eligible + 4) / 5
	}
	return 20
}

// Service manages general meetings.
type Service struct {
	DB     *store.DB
	Coops  *coop.Service
	Govern *govern.Service
	Now    func() time.Time
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// NewMeeting is a meeting as a secretary calls it.
type NewMeeting struct {
	Title    string    `json:"title"`
	Kind     string    `json:"kind"`
	StartsAt time.Time `json:"starts_at"`
	Agenda   []NewItem `json:"agenda"`
	// QuorumCount sets an explicit quorum in members; 0 keeps the
	// FairShares default.
	QuorumCount int64 `json:"quorum_count"`
	// CountRemote (default true) counts remote voters towards the quorum.
	CountRemote *bool `json:"count_remote"`
	// Draft keeps the meeting as a draft, to be called later.
	Draft bool `json:"draft"`
}

// NewItem is an agenda item as written; Resolution makes it a motion.
type NewItem struct {
	Title      string      `json:"title"`
	Resolution *Resolution `json:"resolution"`
}

func (n *NewMeeting) validate() (*Meeting, error) {
	var v errs.ValidationError
	m := &Meeting{Title: strings.TrimSpace(n.Title), Kind: n.Kind, StartsAt: n.StartsAt.UTC().Truncate(time.Microsecond),
		QuorumCount: n.QuorumCount, CountRemote: n.CountRemote == nil || *n.CountRemote}
	if m.Title == "" || utf8.RuneCountInString(m.Title) > 200 {
		v.Add("title", "give a title of 1 to 200 characters")
	}
	switch m.Kind {
	case "":
		m.Kind = KindGeneral
	case KindGeneral, KindAnnual:
	default:
		v.Add("kind", "use general or annual")
	}
	if m.StartsAt.IsZero() {
		v.Add("starts_at", "give the time the meeting starts")
	}
	if m.QuorumCount < 0 || m.QuorumCount > 1<<40 {
		v.Add("quorum_count", "give a number of members, or 0 for the FairShares default")
	}
	if len(n.Agenda) == 0 || len(n.Agenda) > MaxItems {
		v.Add("agenda", fmt.Sprintf("give 1 to %d agenda items", MaxItems))
	}
	for i, it := range n.Agenda {
		field := fmt.Sprintf("agenda[%d]", i)
		item := Item{Position: i + 1, Title: strings.TrimSpace(it.Title)}
		if r := it.Resolution; r != nil {
			res := Resolution{Title: strings.TrimSpace(r.Title), Body: strings.TrimSpace(r.Body), Kind: r.Kind}
			if res.Title == "" {
				res.Title = item.Title
			}
			if item.Title == "" {
				item.Title = res.Title
			}
			if res.Kind == "" {
				res.Kind = Ordinary
			}
			if res.Kind != Ordinary && res.Kind != Special {
				v.Add(field+".resolution.kind", "use ordinary or special")
			}
			if utf8.RuneCountInString(res.Title) > 200 {
				v.Add(field+".resolution.title", "at most 200 characters")
			}
			if utf8.RuneCountInString(res.Body) > govern.MaxBody {
				v.Add(field+".resolution.body", fmt.Sprintf("keep the text under %d characters", govern.MaxBody))
			}
			item.Resolution = &res
		}
		if item.Title == "" || utf8.RuneCountInString(item.Title) > 200 {
			v.Add(field+".title", "give a title of 1 to 200 characters")
		}
		m.Agenda = append(m.Agenda, item)
	}
	return m, v.Err()
}

// Create puts a new meeting of c on record; only a secretary may. Unless
// n.Draft it is called at once (see [Service.Call]).
func (s *Service) Create(ctx context.Context, c *coop.Coop, a auth.Account, n NewMeeting) (*Meeting, error) {
	m, err := n.validate()
	if err != nil {
		return nil, err
	}
	sec, err := s.Coops.RequireSecretary(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	m.CoopID, m.Coop, m.State, m.CreatedBy, m.createdByID, m.CreatedAt = c.ID, c.Slug, StateDraft, sec.Handle, sec.ID, now
	m.NoticeDays = c.NoticeDays
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `INSERT INTO meetings (coop_id, title, kind, state, starts_at, notice_days, quorum_count, count_remote,
				created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`
		err := tx.QueryRowContext(ctx, q, c.ID, m.Title, m.Kind, m.State, m.StartsAt, m.NoticeDays, m.QuorumCount,
			m.CountRemote, sec.ID, now).Scan(&m.ID)
		if err != nil {
			return fmt.Errorf("meeting: create: %w", err)
		}
		if err := insertItems(ctx, tx, m); err != nil {
			return err
		}
		if _, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "meeting.created",
			Object: m.Object(), Payload: m}); err != nil {
			return err
		}
		if n.Draft {
			return nil
		}
		return s.call(ctx, tx, c, a, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func insertItems(ctx context.Context, tx *store.Tx, m *Meeting) error {
	for i := range m.Agenda {
		it := &m.Agenda[i]
		var kind, title, body sql.NullString
		if r := it.Resolution; r != nil {
			kind, title, body = sql.NullString{String: r.Kind, Valid: true}, sql.NullString{String: r.Title, Valid: true},
				sql.NullString{String: r.Body, Valid: true}
		}
		var approves sql.NullInt64
		if it.ApprovesMinutes != 0 {
			approves = sql.NullInt64{Int64: it.ApprovesMinutes, Valid: true}
		}
		const q = `INSERT INTO agenda_items (meeting_id, position, title, resolution_kind, resolution_title, resolution_body,
				approves_minutes)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
		if err := tx.QueryRowContext(ctx, q, m.ID, it.Position, it.Title, kind, title, body, approves).Scan(&it.ID); err != nil {
			return fmt.Errorf("meeting: add agenda item: %w", err)
		}
	}
	return nil
}

// Update replaces a draft's title, kind, start, quorum rules and agenda;
// only a secretary may.
func (s *Service) Update(ctx context.Context, a auth.Account, id int64, n NewMeeting) (*Meeting, error) {
	upd, err := n.validate()
	if err != nil {
		return nil, err
	}
	var m *Meeting
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		var c *coop.Coop
		var err error
		if m, c, err = s.secretaryTx(ctx, tx, a, id); err != nil {
			return err
		}
		if m.State != StateDraft {
			return fmt.Errorf("the meeting has been called; its agenda is fixed: %w", errs.ErrConflict)
		}
		const q = `UPDATE meetings SET title = $2, kind = $3, starts_at = $4, quorum_count = $5, count_remote = $6 WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, m.ID, upd.Title, upd.Kind, upd.StartsAt, upd.QuorumCount, upd.CountRemote); err != nil {
			return fmt.Errorf("meeting: update: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agenda_items WHERE meeting_id = $1`, m.ID); err != nil {
			return fmt.Errorf("meeting: clear agenda: %w", err)
		}
		m.Title, m.Kind, m.StartsAt, m.QuorumCount, m.CountRemote, m.Agenda = upd.Title, upd.Kind, upd.StartsAt,
			upd.QuorumCount, upd.CountRemote, upd.Agenda
		if err := insertItems(ctx, tx, m); err != nil {
			return err
		}
		if _, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: s.now(), Actor: a.Actor(), Action: "meeting.updated",
			Object: m.Object(), Payload: m}); err != nil {
			return err
		}
		if !n.Draft {
			return s.call(ctx, tx, c, a, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Call sends notice of a draft meeting; only a secretary may.
func (s *Service) Call(ctx context.Context, a auth.Account, id int64) (*Meeting, error) {
	var m *Meeting
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var c *coop.Coop
		var err error
		if m, c, err = s.secretaryTx(ctx, tx, a, id); err != nil {
			return err
		}
		if m.State != StateDraft {
			return fmt.Errorf("the meeting is %s, not a draft: %w", m.State, errs.ErrConflict)
		}
		if m.Agenda, err = items(ctx, tx, m.ID); err != nil {
			return err
		}
		return s.call(ctx, tx, c, a, m)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// call fixes the agenda and opens remote voting: it checks the notice
// period, adds the approval of the last meeting's minutes when they are
// still unapproved, and creates every resolution as a proposal bound to the
// meeting, which opens at once and so freezes its electorate.
func (s *Service) call(ctx context.Context, tx *store.Tx, c *coop.Coop, a auth.Account, m *Meeting) error {
	now := s.now()
	earliest := now.Add(time.Duration(c.NoticeDays) * 24 * time.Hour)
	if m.StartsAt.Before(earliest) || !m.StartsAt.After(now) {
		return errs.Invalid("starts_at", fmt.Sprintf("give at least %d days' notice: the meeting may start %s at the earliest",
			c.NoticeDays, earliest.Format("2 Jan 2006 15:04 UTC")))
	}
	if m.StartsAt.Sub(now) > MaxAhead {
		return errs.Invalid("starts_at", "call a meeting at most a year ahead")
	}
	// The minutes of the last meeting are approved at the next one.
	var last int64
	var title string
	var started time.Time
	var approved sql.NullTime
	const qlast = `SELECT id, title, starts_at, minutes_approved_at FROM meetings WHERE coop_id = $1 AND state = 'closed'
		ORDER BY closed_at DESC, id DESC LIMIT 1`
	err := tx.QueryRowContext(ctx, qlast, c.ID).Scan(&last, &title, &started, &approved)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("meeting: find the last meeting: %w", err)
	case !approved.Valid:
		item := Item{Position: 0, Title: fmt.Sprintf("Approve the minutes of %s (%s)", title, started.UTC().Format("2 Jan 2006")),
			ApprovesMinutes: last}
		mm := &Meeting{ID: m.ID, Agenda: []Item{item}}
		if err := insertItems(ctx, tx, mm); err != nil {
			return err
		}
		m.Agenda = append([]Item{mm.Agenda[0]}, m.Agenda...)
	}
	for i := range m.Agenda {
		it := &m.Agenda[i]
		r := it.Resolution
		if r == nil {
			continue
		}
		// Pass is "ordinary" or "special", which govern.ParsePass reads as
		// yes > 1/2 and yes ≥ 3/4 of cast (RULES.md 2.5).
		p, err := s.Govern.CreateTx(ctx, tx, c, a, govern.NewProposal{Title: r.Title, Body: r.Body, Method: vote.YesNo,
			Pass: r.Kind, ClassMajority: r.Kind == Special && c.Preset == "fairshares", MeetingID: m.ID,
			ClosesAt: m.StartsAt.Add(24 * time.Hour)})
		if err != nil {
			return fmt.Errorf("agenda item %d (%s): %w", it.Position, it.Title, err)
		}
		it.ProposalID, it.State = p.ID, p.State
		if _, err := tx.ExecContext(ctx, `UPDATE agenda_items SET proposal_id = $2 WHERE id = $1`, it.ID, p.ID); err != nil {
			return fmt.Errorf("meeting: link resolution: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE meetings SET state = 'called', called_at = $2, notice_days = $3 WHERE id = $1 AND state = 'draft'`,
		m.ID, now, c.NoticeDays)
	if err != nil {
		return fmt.Errorf("meeting: call: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("meeting %d is not a draft: %w", m.ID, errs.ErrConflict)
	}
	m.State, m.CalledAt, m.NoticeDays = StateCalled, &now, c.NoticeDays
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "meeting.called",
		Object: m.Object(), Payload: map[string]any{"starts_at": m.StartsAt, "notice_days": c.NoticeDays, "agenda": m.Agenda}})
	return err
}

const selectMeeting = `SELECT m.id, m.coop_id, c.slug, m.title, m.kind, m.state, m.starts_at, m.notice_days, m.quorum_count,
		m.count_remote, a.handle, m.created_by, m.created_at, m.called_at, m.opened_at, m.closed_at,
		m.eligible, m.present, m.proxies, m.remote, m.required, m.quorate, m.minutes_approved_at, m.minutes_approved_in
	FROM meetings m JOIN coops c ON c.id = m.coop_id JOIN members mb ON mb.id = m.created_by
	JOIN accounts a ON a.id = mb.account_id`

func scanMeeting(row interface{ Scan(...any) error }) (*Meeting, error) {
	var m Meeting
	var called, opened, closed, approvedAt sql.NullTime
	var eligible, present, proxies, remote, required, approvedIn sql.NullInt64
	var quorate sql.NullBool
	err := row.Scan(&m.ID, &m.CoopID, &m.Coop, &m.Title, &m.Kind, &m.State, &m.StartsAt, &m.NoticeDays, &m.QuorumCount,
		&m.CountRemote, &m.CreatedBy, &m.createdByID, &m.CreatedAt, &called, &opened, &closed,
		&eligible, &present, &proxies, &remote, &required, &quorate, &approvedAt, &approvedIn)
	if err != nil {
		return nil, err
	}
	m.StartsAt, m.CreatedAt = m.StartsAt.UTC(), m.CreatedAt.UTC()
	m.CalledAt, m.OpenedAt, m.ClosedAt = timeOf(called), timeOf(opened), timeOf(closed)
	if quorate.Valid {
		m.Quorum = &Quorum{Eligible: eligible.Int64, Present: present.Int64, Proxies: proxies.Int64, Remote: remote.Int64,
			Required: required.Int64, Quorate: quorate.Bool}
		m.Quorum.Rule = quorumRule(&m, m.Quorum.Eligible)
	}
	if approvedAt.Valid {
		m.MinutesApproved = &Approval{At: approvedAt.Time.UTC(), MeetingID: approvedIn.Int64}
	}
	return &m, nil
}

func timeOf(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// load returns meeting id, or errs.ErrNotFound.
func load(ctx context.Context, q govern.Querier, id int64) (*Meeting, error) {
	m, err := scanMeeting(q.QueryRowContext(ctx, selectMeeting+` WHERE m.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no meeting %d: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("meeting: load %d: %w", id, err)
	}
	return m, nil
}

// access loads meeting id for a member of its co-op. To anyone else the
// meeting does not exist: errs.ErrNotFound, so ids of other co-ops' meetings
// tell nothing.
func (s *Service) access(ctx context.Context, q govern.Querier, a auth.Account, id int64) (*Meeting, *coop.Coop, coop.Member, error) {
	m, err := load(ctx, q, id)
	if err != nil {
		return nil, nil, coop.Member{}, err
	}
	c, err := s.Coops.CoopByID(ctx, m.CoopID)
	if err != nil {
		return nil, nil, coop.Member{}, err
	}
	mem, err := s.Coops.RequireMember(ctx, c, a.ID)
	if errors.Is(err, errs.ErrForbidden) {
		return nil, nil, mem, fmt.Errorf("no meeting %d: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, nil, mem, err
	}
	if m.State == StateDraft && !mem.Secretary {
		return nil, nil, mem, fmt.Errorf("no meeting %d: %w", id, errs.ErrNotFound)
	}
	return m, c, mem, nil
}

// lock takes meeting id's row for the rest of tx, so that changes to one
// meeting (a proxy against the limit, the session opening, totals) happen
// one after another. An UPDATE locks the row on PostgreSQL; SQLite's one
// writer serialises already. Ballots read-lock it (see MayCast).
func lock(ctx context.Context, tx *store.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE meetings SET state = state WHERE id = $1`, id); err != nil {
		return fmt.Errorf("meeting: lock %d: %w", id, err)
	}
	return nil
}

// memberTx is access inside tx, with the meeting's row locked.
func (s *Service) memberTx(ctx context.Context, tx *store.Tx, a auth.Account, id int64) (*Meeting, *coop.Coop, coop.Member, error) {
	if err := lock(ctx, tx, id); err != nil {
		return nil, nil, coop.Member{}, err
	}
	return s.access(ctx, tx, a, id)
}

// secretaryTx is memberTx for a secretary: errs.ErrForbidden for other members.
func (s *Service) secretaryTx(ctx context.Context, tx *store.Tx, a auth.Account, id int64) (*Meeting, *coop.Coop, error) {
	m, c, mem, err := s.memberTx(ctx, tx, a, id)
	if err != nil {
		return nil, nil, err
	}
	if !mem.Secretary {
		return nil, nil, fmt.Errorf("only a secretary of %s may do this: %w", c.Name, errs.ErrForbidden)
	}
	return m, c, nil
}

// items reads a meeting's agenda with each resolution's state, outcome and
// register number.
func items(ctx context.Context, q govern.Querier, meeting int64) ([]Item, error) {
	const qi = `SELECT i.id, i.position, i.title, COALESCE(i.resolution_kind, ''), COALESCE(i.resolution_title, ''),
			COALESCE(i.resolution_body, ''), COALESCE(i.proposal_id, 0), COALESCE(i.approves_minutes, 0),
			COALESCE(p.state, ''), p.result, r.year, r.seq
		FROM agenda_items i LEFT JOIN proposals p ON p.id = i.proposal_id
		LEFT JOIN resolutions r ON r.proposal_id = i.proposal_id
		WHERE i.meeting_id = $1 ORDER BY i.position`
	rows, err := q.QueryContext(ctx, qi, meeting)
	if err != nil {
		return nil, fmt.Errorf("meeting: agenda: %w", err)
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		var it Item
		var kind, title, body string
		var result sql.NullString
		var year, seq sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Position, &it.Title, &kind, &title, &body, &it.ProposalID, &it.ApprovesMinutes,
			&it.State, &result, &year, &seq); err != nil {
			return nil, fmt.Errorf("meeting: scan agenda item: %w", err)
		}
		if kind != "" {
			it.Resolution = &Resolution{Title: title, Body: body, Kind: kind}
		}
		if result.Valid {
			it.result = new(vote.Result)
			if err := json.Unmarshal([]byte(result.String), it.result); err != nil {
				return nil, fmt.Errorf("meeting: read result of proposal %d: %w", it.ProposalID, err)
			}
			it.Outcome = string(it.result.Outcome)
		} else if it.State == govern.StateCancelled {
			it.Outcome = govern.StateCancelled
		}
		if year.Valid {
			it.Number = number(year.Int64, seq.Int64)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func number(year, seq int64) string { return fmt.Sprintf("%d/%d", year, seq) }

// Meeting returns meeting id with its agenda, attendance, proxies, quorum
// (as it stands, until close fixes it) and the caller's part, for a member
// of its co-op.
func (s *Service) Meeting(ctx context.Context, a auth.Account, id int64) (*Meeting, error) {
	var m *Meeting
	err := s.DB.ReadTx(ctx, func(tx *sql.Tx) error {
		var mem coop.Member
		var err error
		if m, _, mem, err = s.access(ctx, tx, a, id); err != nil {
			return err
		}
		if m.Agenda, err = items(ctx, tx, m.ID); err != nil {
			return err
		}
		if m.Attendance, err = attendance(ctx, tx, m.ID); err != nil {
			return err
		}
		all, err := proxies(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		you := &Part{Secretary: mem.Secretary, Holds: []Proxy{}}
		for _, h := range m.Attendance.Present {
			you.Present = you.Present || h == mem.Handle
		}
		m.Proxies = make([]Proxy, 0, len(all))
		for _, p := range all {
			switch mem.Handle {
			case p.Appointer:
				mine := p
				you.Proxy = &mine
			case p.Holder:
				you.Holds = append(you.Holds, p)
			}
			// Who holds whose proxy is on record; the directions are the
			// appointer's and her holder's to see.
			p.Directions = nil
			m.Proxies = append(m.Proxies, p)
		}
		m.You = you
		if m.Quorum == nil && m.State != StateDraft {
			q, err := countQuorum(ctx, tx, m)
			if err != nil {
				return err
			}
			m.Quorum = &q
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// List returns c's meetings, the latest start first, without their
// agendas; drafts only to secretaries.
func (s *Service) List(ctx context.Context, c *coop.Coop, a auth.Account) ([]*Meeting, error) {
	mem, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	q := selectMeeting + ` WHERE m.coop_id = $1`
	if !mem.Secretary {
		q += ` AND m.state <> 'draft'`
	}
	rows, err := s.DB.Read().QueryContext(ctx, q+` ORDER BY m.starts_at DESC, m.id DESC LIMIT 500`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("meeting: list: %w", err)
	}
	defer rows.Close()
	out := []*Meeting{}
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("meeting: scan: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
