// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"

	"opencoop/internal/coop"
)

type membersPage struct {
	Coop    *coop.Coop
	Me      coop.Member
	Groups  []memberGroup
	States  []string
	Problem string
}

type memberGroup struct {
	Class   coop.Class
	Members []coop.Member
}

// listMembers shows a co-op's members by class to its members; a
// secretary gets a form per member to change class, state and office.
func (h *handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return err
	}
	d, err := h.membersPage(r, c, m)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "members", "Members of "+c.Name, d)
}

func (h *handler) membersPage(r *http.Request, c *coop.Coop, me coop.Member) (membersPage, error) {
	d := membersPage{Coop: c, Me: me, States: []string{coop.StateMember, coop.StateSuspended, coop.StateLeft}}
	members, err := h.Coops.Members(r.Context(), c, false)
	if err != nil {
		return d, err
	}
	for _, cl := range c.Classes {
		g := memberGroup{Class: cl}
		for _, m := range members {
			if m.Class == cl.Key {
				g.Members = append(g.Members, m)
			}
		}
		d.Groups = append(d.Groups, g)
	}
	return d, nil
}

// updateMember is a secretary's change to one membership. The form sends
// all three fields; an unticked secretary box means "not a secretary".
func (h *handler) updateMember(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	class, state := r.PostForm.Get("class"), r.PostForm.Get("state")
	secretary := r.PostForm.Get("secretary") != ""
	u := coop.MemberUpdate{Secretary: &secretary}
	if class != "" {
		u.Class = &class
	}
	if state != "" {
		u.State = &state
	}
	if _, err := h.Coops.UpdateMember(r.Context(), c, me, r.PathValue("handle"), u); err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"/members")
}
