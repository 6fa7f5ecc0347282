// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"
	"strconv"

	"opencoop/internal/auth"
	"opencoop/internal/meeting"
)

// registerMeetings adds the general-meeting routes (RULES.md 2.6).
func (h *handler) registerMeetings(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("POST /coops/{slug}/meetings", h.createMeeting)
	handle("GET /coops/{slug}/meetings", h.listMeetings)
	handle("GET /coops/{slug}/resolutions", h.listResolutions)
	handle("GET /meetings/{id}", h.showMeeting)
	handle("PUT /meetings/{id}", h.updateMeeting)
	handle("POST /meetings/{id}/call", h.callMeeting)
	handle("POST /meetings/{id}/proxies", h.appointProxy)
	handle("DELETE /meetings/{id}/proxies", h.revokeProxy)
	handle("POST /meetings/{id}/open", h.openMeeting)
	handle("POST /meetings/{id}/attendance", h.recordAttendance)
	handle("POST /meetings/{id}/checkin", h.checkIn)
	handle("POST /meetings/{id}/totals", h.enterTotals)
	handle("GET /meetings/{id}/totals", h.showOfHands)
	handle("POST /meetings/{id}/close", h.closeMeeting)
	handle("GET /meetings/{id}/minutes", h.minutes)
	handle("POST /meetings/{id}/minutes/approve", h.approveMinutes)
}

// meetingPaths documents the general-meeting routes.
func meetingPaths(add func(method, path string, o obj)) {
	resolution := object([]string{"title"}, obj{"title": str, "body": str,
		"kind": obj{"type": "string", "enum": []string{"ordinary", "special"}, "default": "ordinary",
			"description": "ordinary: yes > 1/2 of cast; special: yes ≥ 3/4 of cast and, under FairShares, a majority in every class"}})
	newMeeting := object([]string{"title", "starts_at", "agenda"}, obj{
		"title":     str,
		"kind":      obj{"type": "string", "enum": []string{"general", "annual"}, "default": "general"},
		"starts_at": obj{"type": "string", "format": "date-time", "description": "at least the co-op's notice_days ahead when the meeting is called"},
		"agenda": arrayOf(object([]string{"title"}, obj{"title": str,
			"resolution": obj{"description": "makes the item a resolution, a yes/no proposal open for remote voting from the call", "allOf": []obj{resolution}}})),
		"quorum_count": obj{"type": "integer", "format": "int64", "description": "an explicit quorum in members; 0 (default) is the FairShares default"},
		"count_remote": obj{"type": "boolean", "default": true, "description": "whether members who voted remotely count towards the quorum"},
		"draft":        obj{"type": "boolean", "description": "keep as a draft; POST /meetings/{id}/call sends notice later"},
	})
	proxy := object(nil, obj{"appointer": str, "holder": str, "directed": boolean,
		"directions":   obj{"type": "object", "additionalProperties": obj{"type": "string", "enum": []string{"yes", "no", "abstain"}}},
		"appointed_at": when})
	attendance := object(nil, obj{"present": arrayOf(str), "apologies": arrayOf(str)})
	quorum := object(nil, obj{"eligible": integer, "present": integer, "proxies": integer, "remote": integer,
		"required": integer, "quorate": boolean, "rule": str})
	item := object(nil, obj{"id": integer, "position": integer, "title": str, "resolution": resolution, "proposal_id": integer,
		"approves_minutes": integer, "state": str, "outcome": str, "number": obj{"type": "string", "description": "register number YYYY/N of a passed resolution"}})
	mtg := object(nil, obj{"id": integer, "coop": str, "title": str, "kind": str,
		"state":     obj{"type": "string", "enum": []string{"draft", "called", "in_session", "closed"}},
		"starts_at": when, "notice_days": integer, "quorum_count": integer, "count_remote": boolean, "created_by": str,
		"created_at": when, "called_at": when, "opened_at": when, "closed_at": when, "quorum": quorum,
		"minutes_approved": object(nil, obj{"at": when, "meeting_id": integer}),
		"agenda":           arrayOf(item), "attendance": attendance,
		"proxies": arrayOf(object(nil, obj{"appointer": str, "holder": str, "directed": boolean})),
		"you":     object(nil, obj{"secretary": boolean, "present": boolean, "proxy": proxy, "holds": arrayOf(proxy)})})
	minutes := object(nil, obj{"meeting_id": integer, "title": str, "markdown": str, "quorate": boolean,
		"resolutions": arrayOf(object(nil, obj{"number": str, "proposal_id": integer, "title": str, "kind": str, "outcome": str})),
		"approved":    object(nil, obj{"at": when, "meeting_id": integer})})

	add("POST", "/coops/{slug}/meetings", op("Call a general meeting (secretaries): the resolutions on its agenda open for remote voting at once; 422 when starts_at gives less than the co-op's notice",
		newMeeting, "201", mtg, true))
	add("GET", "/coops/{slug}/meetings", op("The co-op's meetings, latest first, without agendas (members; drafts only to secretaries)", nil, "200",
		object(nil, obj{"meetings": arrayOf(mtg)}), true))
	add("GET", "/coops/{slug}/resolutions", op("The register of resolutions: passed ones by number (?all=true: every resolution decided at a meeting)", nil, "200",
		object(nil, obj{"resolutions": arrayOf(object(nil, obj{"number": str, "title": str, "kind": str, "outcome": str,
			"meeting_id": integer, "proposal_id": integer, "passed_at": when}))}), true))
	add("GET", "/meetings/{id}", op("A meeting with its agenda, attendance, proxies, quorum (fixed at close) and the caller's part; other co-ops' meetings are 404", nil, "200", mtg, true))
	add("PUT", "/meetings/{id}", op("Replace a draft meeting (secretaries); without draft: true it is called", newMeeting, "200", mtg, true))
	add("POST", "/meetings/{id}/call", op("Call a draft meeting (secretaries)", nil, "200", mtg, true))
	add("POST", "/meetings/{id}/proxies", op("Appoint the caller's proxy for this meeting, until the session opens: directed with directions, discretionary without; 409 beyond the co-op's proxy_limit or when the caller's proxy stands already",
		object([]string{"holder"}, obj{"holder": str, "directions": obj{"type": "object", "description": "resolution (proposal) id → yes, no or abstain",
			"additionalProperties": obj{"type": "string", "enum": []string{"yes", "no", "abstain"}}}}), "201", proxy, true))
	add("DELETE", "/meetings/{id}/proxies", op("Revoke the caller's proxy, until the session opens", nil, "204", nil, true))
	add("POST", "/meetings/{id}/open", op("Open the session (secretaries): remote voting ends; only members recorded present vote in the app", nil, "200", mtg, true))
	add("POST", "/meetings/{id}/attendance", op("Record members present (in session) and apologies (secretaries)", attendance, "200", attendance, true))
	add("POST", "/meetings/{id}/checkin", op("Check the caller in as present, in session", nil, "200", attendance, true))
	add("POST", "/meetings/{id}/totals", op("Enter a class's show of hands on a resolution for attendees without an app ballot (secretaries, in session); replaces earlier totals of the class; 422 when it would count anyone twice",
		object([]string{"proposal_id", "yes", "no", "abstain"}, obj{"proposal_id": integer, "yes": integer, "no": integer, "abstain": integer,
			"class": obj{"type": "string", "description": "required when more than one class votes"}}), "200",
		object(nil, obj{"proposal_id": integer, "class": str, "yes": integer, "no": integer, "abstain": integer}), true))
	add("GET", "/meetings/{id}/totals", op("The show of hands so far: for each open resolution and voting class, the totals entered and the most hands that may be counted (attendees without an app ballot and the discretionary proxies they hold)", nil, "200",
		object(nil, obj{"totals": arrayOf(object(nil, obj{"proposal_id": integer, "title": str, "class": str, "entered": boolean,
			"yes": integer, "no": integer, "abstain": integer, "limit": object(nil, obj{"attendees": integer, "proxies": integer})}))}), true))
	add("POST", "/meetings/{id}/close", op("Close the meeting (secretaries): count every resolution with the quorum, number the passed ones and write the minutes", nil, "200", minutes, true))
	add("GET", "/meetings/{id}/minutes", op("A closed meeting's minutes", nil, "200", minutes, true))
	add("POST", "/meetings/{id}/minutes/approve", op("Approve a closed meeting's minutes at the later meeting now in session (secretaries)", nil, "200",
		object(nil, obj{"at": when, "meeting_id": integer}), true))
}

// meetingID reads the path's meeting id.
func meetingID(r *http.Request) (int64, error) { return pathInt64(r, "id", "meeting") }

// onMeeting is the caller's account and the path's meeting id.
func (h *handler) onMeeting(r *http.Request) (auth.Account, int64, error) {
	a, err := h.account(r)
	if err != nil {
		return a, 0, err
	}
	id, err := meetingID(r)
	return a, id, err
}

func (h *handler) createMeeting(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in meeting.NewMeeting
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := h.Meetings.Create(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, m)
}

func (h *handler) listMeetings(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	ms, err := h.Meetings.List(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"meetings": ms})
}

func (h *handler) listResolutions(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	all, _ := strconv.ParseBool(r.URL.Query().Get("all"))
	rs, err := h.Meetings.Register(r.Context(), c, a, all)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"resolutions": rs})
}

func (h *handler) showMeeting(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	m, err := h.Meetings.Meeting(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *handler) updateMeeting(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	var in meeting.NewMeeting
	if err := decode(r, &in); err != nil {
		return err
	}
	if _, err := h.Meetings.Update(r.Context(), a, id, in); err != nil {
		return err
	}
	return h.showMeeting(w, r)
}

func (h *handler) callMeeting(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if _, err := h.Meetings.Call(r.Context(), a, id); err != nil {
		return err
	}
	return h.showMeeting(w, r)
}

func (h *handler) appointProxy(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	var in meeting.NewProxy
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := h.Meetings.AppointProxy(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (h *handler) revokeProxy(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if err := h.Meetings.RevokeProxy(r.Context(), a, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) openMeeting(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	if _, err := h.Meetings.Open(r.Context(), a, id); err != nil {
		return err
	}
	return h.showMeeting(w, r)
}

func (h *handler) recordAttendance(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	var in meeting.Attendance
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.Meetings.RecordAttendance(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *handler) checkIn(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	out, err := h.Meetings.CheckIn(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *handler) enterTotals(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	var in meeting.Totals
	if err := decode(r, &in); err != nil {
		return err
	}
	out, err := h.Meetings.EnterTotals(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *handler) showOfHands(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	ls, err := h.Meetings.ShowOfHands(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"totals": ls})
}

func (h *handler) closeMeeting(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	m, err := h.Meetings.Close(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *handler) minutes(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	m, err := h.Meetings.Minutes(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (h *handler) approveMinutes(w http.ResponseWriter, r *http.Request) error {
	a, id, err := h.onMeeting(r)
	if err != nil {
		return err
	}
	ap, err := h.Meetings.ApproveMinutes(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ap)
}
