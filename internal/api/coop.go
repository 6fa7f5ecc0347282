// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"
	"strconv"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
)

func (h *handler) coop(r *http.Request) (*coop.Coop, error) {
	return h.Coops.CoopBySlug(r.Context(), r.PathValue("slug"))
}

// caller returns the signed-in account and the co-op named in the path.
func (h *handler) caller(r *http.Request) (auth.Account, *coop.Coop, error) {
	a, err := h.account(r)
	if err != nil {
		return a, nil, err
	}
	c, err := h.coop(r)
	return a, c, err
}

// callerAndID returns the caller, her co-op and the path's {id}, which
// names an object of the co-op called what in errors.
func (h *handler) callerAndID(r *http.Request, what string) (auth.Account, *coop.Coop, int64, error) {
	a, c, err := h.caller(r)
	if err != nil {
		return a, nil, 0, err
	}
	id, err := pathInt64(r, "id", what)
	return a, c, id, err
}

func (h *handler) listCoops(w http.ResponseWriter, r *http.Request) error {
	var id int64
	if a := h.optionalAccount(r); a != nil {
		id = a.ID
	}
	cs, err := h.Coops.ListCoops(r.Context(), id, 500)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []coop.Summary{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"coops": cs})
}

func (h *handler) foundCoop(w http.ResponseWriter, r *http.Request) error {
	a, err := h.account(r)
	if err != nil {
		return err
	}
	var in coop.NewCoop
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := h.Coops.Found(r.Context(), a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

// showCoop is public: a co-op's name, purpose and classes are shown on
// every public page (RULES.md 1).
func (h *handler) showCoop(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (h *handler) createInvitation(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in coop.NewInvitation
	if err := decode(r, &in); err != nil {
		return err
	}
	inv, err := h.Coops.Invite(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"code": inv.Code, "url": h.BaseURL + "/join/" + inv.Code,
		"class": inv.Class, "uses": inv.MaxUses, "expires_at": inv.ExpiresAt})
}

func (h *handler) listInvitations(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	invs, err := h.Coops.Invitations(r.Context(), c, a)
	if err != nil {
		return err
	}
	if invs == nil {
		invs = []coop.Invitation{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"invitations": invs})
}

func (h *handler) join(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := h.Coops.Join(r.Context(), c, a, in.Code)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, m)
}

// listMembers shows the members by class to members only.
func (h *handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	ms, err := h.Coops.Members(r.Context(), c, r.URL.Query().Get("left") == "true")
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []coop.Member{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"members": ms})
}

func (h *handler) leave(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := h.Coops.Leave(r.Context(), c, a); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) updateMember(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in coop.MemberUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := h.Coops.UpdateMember(r.Context(), c, a, r.PathValue("handle"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

// listAudit shows a co-op's audit log to its members, newest first, a page
// of ?limit= (default 100, at most 1000) events below ?before=.
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	q := r.URL.Query()
	limit, before := 100, int64(0)
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			return badRequest("limit must be 1 to 1000")
		}
	}
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			return badRequest("before must be an event seq")
		}
	}
	evs, err := audit.List(r.Context(), h.DB, c.Chain(), before, limit)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []audit.Event{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}
