// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"net/http"
	"net/url"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
)

type joinPage struct {
	Coop  *coop.Coop
	Class coop.Class
	Code  string
	// Next is this page, for the sign-up and sign-in links.
	Next string
	// Member is the viewer's current membership, if any.
	Member *coop.Member
}

// joinForm shows what an invitation admits to: a visitor signs up or in
// first and comes back; a signed-in person joins with one button.
func (h *handler) joinForm(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	c, inv, err := h.Coops.InvitationByCode(r.Context(), code)
	if err != nil {
		return err
	}
	d := joinPage{Coop: c, Code: inv.Code, Next: "/join/" + url.PathEscape(inv.Code)}
	d.Class, _ = c.ClassByKey(inv.Class)
	if me := h.optionalMe(r); me != nil {
		m, err := h.Coops.MemberOf(r.Context(), c, me.ID)
		if err == nil && m.State != coop.StateLeft {
			d.Member = &m
		} else if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return err
		}
	}
	return h.render(w, r, http.StatusOK, "join", "Join "+c.Name, d)
}

func (h *handler) join(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	c, inv, err := h.Coops.InvitationByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	if _, err := h.Coops.Join(r.Context(), c, me, inv.Code); err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug)
}
