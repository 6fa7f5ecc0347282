// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
)

type invitationsPage struct {
	Coop *coop.Coop
	// Invitations can still be used; Spent are used up or expired.
	Invitations []invitationRow
	Spent       []invitationRow
	// Class, Uses and Expires are the new-invitation form's values.
	Class, Uses, Expires string
	Errors               map[string]string
	// New is the code just created, to point it out.
	New string
}

type invitationRow struct {
	coop.Invitation
	URL    string
	Usable bool
}

// listInvitations shows a secretary the form for new codes and every code
// with its join link.
func (h *handler) listInvitations(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	d := invitationsPage{Uses: "1", Expires: h.now().Add(14 * 24 * time.Hour).Format(localInput), New: r.URL.Query().Get("new")}
	if len(c.Classes) > 0 {
		d.Class = c.Classes[0].Key
	}
	if err := h.fillInvitations(r, c, me, &d); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "invitations", "Invitations", d)
}

func (h *handler) fillInvitations(r *http.Request, c *coop.Coop, me auth.Account, d *invitationsPage) error {
	d.Coop = c
	invs, err := h.Coops.Invitations(r.Context(), c, me)
	if err != nil {
		return err
	}
	now := h.now()
	d.Invitations, d.Spent = nil, nil
	for _, inv := range invs {
		row := invitationRow{Invitation: inv, URL: h.BaseURL + "/join/" + inv.Code,
			Usable: (inv.ExpiresAt == nil || now.Before(*inv.ExpiresAt)) && inv.Used < inv.MaxUses}
		if row.Usable {
			d.Invitations = append(d.Invitations, row)
		} else {
			d.Spent = append(d.Spent, row)
		}
	}
	return nil
}

func (h *handler) createInvitation(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	d := invitationsPage{Class: r.PostForm.Get("class"), Uses: strings.TrimSpace(r.PostForm.Get("uses")),
		Expires: strings.TrimSpace(r.PostForm.Get("expires_at"))}
	var v errs.ValidationError
	n := coop.NewInvitation{Class: d.Class}
	if d.Uses != "" {
		uses, err := strconv.Atoi(d.Uses)
		if err != nil {
			v.Add("uses", "give a whole number")
		}
		n.Uses = &uses
	}
	if d.Expires != "" {
		t, err := time.Parse(localInput, d.Expires)
		if err != nil {
			v.Add("expires_at", "give a date and time")
		}
		n.ExpiresAt = &t
	}
	var inv coop.Invitation
	if err = v.Err(); err == nil {
		inv, err = h.Coops.Invite(r.Context(), c, me, n)
	}
	if fields, ok := fieldErrors(err); ok {
		d.Errors = fields
		if err := h.fillInvitations(r, c, me, &d); err != nil {
			return err
		}
		return h.render(w, r, http.StatusUnprocessableEntity, "invitations", "Invitations", d)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"/invitations?new="+inv.Code)
}
