// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/meeting"
)

// registerMeetings adds the general-meeting pages (RULES.md 2.6).
func (h *handler) registerMeetings(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/meetings", h.listMeetings)
	handle("POST /coops/{slug}/meetings", h.createMeeting)
	handle("GET /coops/{slug}/resolutions", h.listResolutions)
	handle("GET /meetings/{id}", h.showMeeting)
	handle("GET /meetings/{id}/minutes", h.showMinutes)
	handle("POST /meetings/{id}/call", h.callMeeting)
	handle("POST /meetings/{id}/proxy", h.appointProxy)
	handle("POST /meetings/{id}/proxy/revoke", h.revokeProxy)
	handle("POST /meetings/{id}/open", h.openMeeting)
	handle("POST /meetings/{id}/attendance", h.recordAttendance)
	handle("POST /meetings/{id}/checkin", h.checkIn)
	handle("POST /meetings/{id}/totals", h.enterTotals)
	handle("POST /meetings/{id}/close", h.closeMeeting)
	handle("POST /meetings/{id}/minutes/approve", h.approveMinutes)
}

// agendaRows is how many agenda rows the call form offers.
const agendaRows = 8

type meetingsPage struct {
	Coop     *coop.Coop
	Member   coop.Member
	Meetings []*meeting.Meeting
	Form     meetingForm
	Errors   map[string]string
}

// meetingForm is the call form, every field as typed.
type meetingForm struct {
	Title, Kind, StartsAt, QuorumCount string
	CountRemote, Draft                 bool
	Items                              []itemRow
}

// itemRow is one agenda row: a title, and a resolution kind ("" for a
// plain item) with its text.
type itemRow struct {
	Index             int
	Title, Kind, Body string
}

func (h *handler) listMeetings(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	f := meetingForm{Kind: meeting.KindGeneral, CountRemote: true,
		StartsAt: h.now().Add(time.Duration(c.NoticeDays+1) * 24 * time.Hour).Truncate(time.Hour).Format(localInput)}
	for i := range agendaRows {
		f.Items = append(f.Items, itemRow{Index: i})
	}
	f.Items[0].Title = "Welcome and apologies"
	d, err := h.meetingsPage(r, me, c, f)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "meeting_list", "General meetings", d)
}

func (h *handler) meetingsPage(r *http.Request, me auth.Account, c *coop.Coop, f meetingForm) (*meetingsPage, error) {
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return nil, err
	}
	ms, err := h.Meetings.List(r.Context(), c, me)
	if err != nil {
		return nil, err
	}
	return &meetingsPage{Coop: c, Member: m, Meetings: ms, Form: f}, nil
}

func (h *handler) createMeeting(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := meetingForm{Title: pf.Get("title"), Kind: pf.Get("kind"), StartsAt: strings.TrimSpace(pf.Get("starts_at")),
		QuorumCount: strings.TrimSpace(pf.Get("quorum_count")), CountRemote: pf.Get("count_remote") != "", Draft: pf.Get("draft") != ""}
	n := meeting.NewMeeting{Title: f.Title, Kind: f.Kind, CountRemote: &f.CountRemote, Draft: f.Draft}
	var v errs.ValidationError
	if t, err := time.Parse(localInput, f.StartsAt); err == nil {
		n.StartsAt = t
	} else {
		v.Add("starts_at", "give a date and time")
	}
	if f.QuorumCount != "" {
		q, err := strconv.ParseInt(f.QuorumCount, 10, 64)
		if err != nil {
			v.Add("quorum_count", "give a whole number of members")
		}
		n.QuorumCount = q
	}
	// rows maps the agenda's items back to the form's rows for errors.
	var rows []int
	for i := range agendaRows {
		s := strconv.Itoa(i)
		row := itemRow{Index: i, Title: pf.Get("item_title_" + s), Kind: pf.Get("item_kind_" + s), Body: pf.Get("item_body_" + s)}
		f.Items = append(f.Items, row)
		if strings.TrimSpace(row.Title) == "" && strings.TrimSpace(row.Body) == "" && row.Kind == "" {
			continue
		}
		it := meeting.NewItem{Title: row.Title}
		if row.Kind != "" {
			it.Resolution = &meeting.Resolution{Body: row.Body, Kind: row.Kind}
		}
		n.Agenda = append(n.Agenda, it)
		rows = append(rows, i)
	}
	var m *meeting.Meeting
	if err = v.Err(); err == nil {
		m, err = h.Meetings.Create(r.Context(), c, me, n)
	}
	if fields, ok := fieldErrors(err); ok {
		d, derr := h.meetingsPage(r, me, c, f)
		if derr != nil {
			return derr
		}
		d.Errors = rowErrors(fields, rows)
		return h.render(w, r, http.StatusUnprocessableEntity, "meeting_list", "General meetings", d)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/meetings/%d", m.ID))
}

// rowErrors files the agenda's field errors ("agenda[2].title") under
// the form row they came from ("item_5").
func rowErrors(fields map[string]string, rows []int) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		msg := fields[k]
		var i int
		var rest string
		if n, _ := fmt.Sscanf(k, "agenda[%d]%s", &i, &rest); n >= 1 && i >= 0 && i < len(rows) {
			k = fmt.Sprintf("item_%d", rows[i])
		}
		if _, ok := out[k]; !ok {
			out[k] = msg
		}
	}
	return out
}

type resolutionsPage struct {
	Coop        *coop.Coop
	All         bool
	Resolutions []meeting.Registered
}

func (h *handler) listResolutions(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	all := r.URL.Query().Get("all") != ""
	rs, err := h.Meetings.Register(r.Context(), c, me, all)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "resolutions", "Register of resolutions", resolutionsPage{Coop: c, All: all, Resolutions: rs})
}

type meetingPage struct {
	M      *meeting.Meeting
	Coop   *coop.Coop
	Member coop.Member
	// Holders are the members who may hold the viewer's proxy; Members
	// every active member, for the attendance form.
	Holders []choice
	Members []coop.Member
	// Resolutions are the agenda items that carry one; Present and
	// Apologies index the attendance by handle.
	Resolutions []meeting.Item
	Present     map[string]bool
	Apologies   map[string]bool
	// Hands is the show of hands so far, for the secretary's totals forms.
	Hands []meeting.HandsLine
	// Counted is the number counted towards the quorum now.
	Counted int64
	// Proxy is the appointment form as typed.
	Proxy   proxyForm
	Errors  map[string]string
	Problem string
	Done    string
}

type proxyForm struct {
	Holder     string
	Directions map[string]string
}

// meetingID reads the path's meeting id; a malformed one is no meeting.
func meetingID(r *http.Request) (int64, error) { return pathInt64(r, "id", "meeting") }

// onMeeting is the signed-in account and the path's meeting id.
func (h *handler) onMeeting(r *http.Request) (auth.Account, int64, error) {
	me, err := h.me(r)
	if err != nil {
		return me, 0, err
	}
	id, err := meetingID(r)
	return me, id, err
}

func (h *handler) showMeeting(w http.ResponseWriter, r *http.Request) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	d, err := h.meetingPage(r, me, id, proxyForm{})
	if err != nil {
		return err
	}
	d.Done = map[string]string{"proxy": "Your proxy is appointed.", "revoked": "Your proxy is revoked.", "called": "The meeting is called: notice is given and remote voting is open.",
		"opened": "The session is open: remote voting has closed.", "attendance": "Attendance is recorded.", "checkin": "You are checked in as present.",
		"totals": "The show of hands is recorded.", "approved": "The minutes are approved."}[r.URL.Query().Get("done")]
	return h.render(w, r, http.StatusOK, "meeting_show", d.M.Title, d)
}

// meetingPage gathers the meeting page for me; f is the proxy form as typed.
func (h *handler) meetingPage(r *http.Request, me auth.Account, id int64, f proxyForm) (*meetingPage, error) {
	ctx := r.Context()
	m, err := h.Meetings.Meeting(ctx, me, id)
	if err != nil {
		return nil, err
	}
	c, err := h.Coops.CoopBySlug(ctx, m.Coop)
	if err != nil {
		return nil, err
	}
	mem, err := h.Coops.RequireMember(ctx, c, me.ID)
	if err != nil {
		return nil, err
	}
	d := &meetingPage{M: m, Coop: c, Member: mem, Proxy: f, Present: map[string]bool{}, Apologies: map[string]bool{}}
	if d.Proxy.Directions == nil {
		d.Proxy.Directions = map[string]string{}
	}
	members, err := h.Coops.Members(ctx, c, false)
	if err != nil {
		return nil, err
	}
	for _, o := range members {
		if !o.Active() {
			continue
		}
		d.Members = append(d.Members, o)
		if o.ID != mem.ID {
			d.Holders = append(d.Holders, choice{o.Handle, fmt.Sprintf("%s (@%s, %s)", o.Name, o.Handle, o.Class)})
		}
	}
	for _, it := range m.Agenda {
		if it.ProposalID != 0 {
			d.Resolutions = append(d.Resolutions, it)
		}
	}
	if a := m.Attendance; a != nil {
		for _, h := range a.Present {
			d.Present[h] = true
		}
		for _, h := range a.Apologies {
			d.Apologies[h] = true
		}
	}
	if q := m.Quorum; q != nil {
		d.Counted = q.Counted(m.CountRemote)
	}
	if m.State == meeting.StateInSession {
		if d.Hands, err = h.Meetings.ShowOfHands(ctx, me, id); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// meetingAction runs one change to meeting id and goes back to its page
// saying what was done; a refusal is shown on the page with its status.
func (h *handler) meetingAction(w http.ResponseWriter, r *http.Request, done string,
	do func(me auth.Account, id int64) error) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := do(me, id); err != nil {
		return h.refuseMeeting(w, r, me, id, proxyForm{}, err)
	}
	return redirect(w, r, fmt.Sprintf("/meetings/%d?done=%s", id, done))
}

// refuseMeeting shows the meeting page again with err explained: the
// fields' messages (422), or a conflict (409) or refusal (403) above the
// forms. Errors the page cannot explain, a missing meeting among them,
// go to the error page.
func (h *handler) refuseMeeting(w http.ResponseWriter, r *http.Request, me auth.Account, id int64, f proxyForm, err error) error {
	status, problem := 0, ""
	fields, invalid := fieldErrors(err)
	if invalid {
		status = http.StatusUnprocessableEntity
	}
	for _, m := range []struct {
		err    error
		status int
	}{{errs.ErrConflict, http.StatusConflict}, {errs.ErrForbidden, http.StatusForbidden}} {
		if status == 0 && errors.Is(err, m.err) {
			status, problem = m.status, message(err, m.err)
		}
	}
	if status == 0 {
		return err
	}
	d, derr := h.meetingPage(r, me, id, f)
	if derr != nil {
		return err
	}
	d.Errors, d.Problem = fields, problem
	if invalid {
		// The forms are small and several: say what is wrong above them.
		var msgs []string
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			msgs = append(msgs, fields[k])
		}
		d.Problem = "Not recorded: " + strings.Join(msgs, "; ") + "."
	}
	return h.render(w, r, status, "meeting_show", d.M.Title, d)
}

func (h *handler) callMeeting(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "called", func(me auth.Account, id int64) error {
		_, err := h.Meetings.Call(r.Context(), me, id)
		return err
	})
}

func (h *handler) openMeeting(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "opened", func(me auth.Account, id int64) error {
		_, err := h.Meetings.Open(r.Context(), me, id)
		return err
	})
}

func (h *handler) checkIn(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "checkin", func(me auth.Account, id int64) error {
		_, err := h.Meetings.CheckIn(r.Context(), me, id)
		return err
	})
}

func (h *handler) revokeProxy(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "revoked", func(me auth.Account, id int64) error {
		return h.Meetings.RevokeProxy(r.Context(), me, id)
	})
}

func (h *handler) recordAttendance(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "attendance", func(me auth.Account, id int64) error {
		var in meeting.Attendance
		for _, h := range r.PostForm["member"] {
			switch r.PostForm.Get("status_" + h) {
			case "present":
				in.Present = append(in.Present, h)
			case "apologies":
				in.Apologies = append(in.Apologies, h)
			}
		}
		_, err := h.Meetings.RecordAttendance(r.Context(), me, id, in)
		return err
	})
}

func (h *handler) enterTotals(w http.ResponseWriter, r *http.Request) error {
	return h.meetingAction(w, r, "totals", func(me auth.Account, id int64) error {
		pf := r.PostForm
		t := meeting.Totals{Class: pf.Get("class")}
		var v errs.ValidationError
		p, err := strconv.ParseInt(pf.Get("proposal_id"), 10, 64)
		if err != nil {
			v.Add("proposal_id", "choose a resolution")
		}
		t.ProposalID = p
		for _, n := range []struct {
			field string
			to    *int64
		}{{"yes", &t.Yes}, {"no", &t.No}, {"abstain", &t.Abstain}} {
			s := strings.TrimSpace(pf.Get(n.field))
			if s == "" {
				continue
			}
			if *n.to, err = strconv.ParseInt(s, 10, 64); err != nil {
				v.Add(n.field, "give a number of hands")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		_, err = h.Meetings.EnterTotals(r.Context(), me, id, t)
		return err
	})
}

func (h *handler) closeMeeting(w http.ResponseWriter, r *http.Request) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if _, err := h.Meetings.Close(r.Context(), me, id); err != nil {
		return h.refuseMeeting(w, r, me, id, proxyForm{}, err)
	}
	return redirect(w, r, fmt.Sprintf("/meetings/%d/minutes", id))
}

// approveMinutes approves the minutes of the path's meeting from the page
// of the later meeting in session, named by the form's "at", and goes back
// there.
func (h *handler) approveMinutes(w http.ResponseWriter, r *http.Request) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := id
	if at, err := strconv.ParseInt(r.PostForm.Get("at"), 10, 64); err == nil && at > 0 {
		back = at
	}
	if _, err := h.Meetings.ApproveMinutes(r.Context(), me, id); err != nil {
		return h.refuseMeeting(w, r, me, back, proxyForm{}, err)
	}
	return redirect(w, r, fmt.Sprintf("/meetings/%d?done=approved", back))
}

func (h *handler) appointProxy(w http.ResponseWriter, r *http.Request) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := proxyForm{Holder: strings.TrimSpace(r.PostForm.Get("holder")), Directions: map[string]string{}}
	n := meeting.NewProxy{Holder: f.Holder}
	for k, vs := range r.PostForm {
		p, ok := strings.CutPrefix(k, "direction_")
		if !ok || len(vs) == 0 || vs[0] == "" {
			continue
		}
		f.Directions[p] = vs[0]
	}
	if len(f.Directions) > 0 {
		n.Directions = f.Directions
	}
	if f.Holder == "" {
		err = errs.Invalid("holder", "choose the member who will hold your proxy")
	} else {
		_, err = h.Meetings.AppointProxy(r.Context(), me, id, n)
	}
	if err != nil {
		return h.refuseMeeting(w, r, me, id, f, err)
	}
	return redirect(w, r, fmt.Sprintf("/meetings/%d?done=proxy", id))
}

type minutesPage struct {
	M       *meeting.Meeting
	Coop    *coop.Coop
	Minutes *meeting.Minutes
	Blocks  []block
}

func (h *handler) showMinutes(w http.ResponseWriter, r *http.Request) error {
	me, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	m, err := h.Meetings.Meeting(r.Context(), me, id)
	if err != nil {
		return err
	}
	mins, err := h.Meetings.Minutes(r.Context(), me, id)
	if err != nil {
		return err
	}
	c, err := h.Coops.CoopBySlug(r.Context(), m.Coop)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "meeting_minutes", "Minutes: "+m.Title,
		minutesPage{M: m, Coop: c, Minutes: mins, Blocks: markdownBlocks(mins.Markdown)})
}

// block is one block of the minutes' Markdown as the page shows it: a
// heading (h1–h3), a list (ul, its Items), a quotation (quote), a rule
// (hr) or a paragraph (p), its text in spans, some bold.
type block struct {
	Kind  string
	Spans []span
	Items [][]span
}

type span struct {
	Text string
	Bold bool
}

// markdownBlocks reads the small Markdown the minutes are written in —
// headings, "- " items, "> " quotations, "---" and paragraphs, with
// **bold** — into blocks the template escapes, so no text of the minutes
// is ever taken for HTML.
func markdownBlocks(md string) []block {
	var out []block
	for _, line := range strings.Split(md, "\n") {
		var b block
		text := line
		switch {
		case strings.TrimSpace(line) == "":
			continue
		case line == "---":
			out = append(out, block{Kind: "hr"})
			continue
		case strings.HasPrefix(line, "### "):
			b.Kind, text = "h3", line[4:]
		case strings.HasPrefix(line, "## "):
			b.Kind, text = "h2", line[3:]
		case strings.HasPrefix(line, "# "):
			b.Kind, text = "h1", line[2:]
		case strings.HasPrefix(line, "- "):
			b.Kind, text = "li", line[2:]
		case strings.HasPrefix(line, "> ") || line == ">":
			b.Kind, text = "quote", strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
		default:
			b.Kind = "p"
		}
		for i, part := range strings.Split(text, "**") {
			if part != "" {
				b.Spans = append(b.Spans, span{Text: part, Bold: i%2 == 1})
			}
		}
		if b.Kind == "li" {
			if len(out) == 0 || out[len(out)-1].Kind != "ul" {
				out = append(out, block{Kind: "ul"})
			}
			ul := &out[len(out)-1]
			ul.Items = append(ul.Items, b.Spans)
			continue
		}
		out = append(out, b)
	}
	return out
}
