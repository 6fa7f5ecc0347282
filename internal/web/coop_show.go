// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
)

type coopPage struct {
	Coop *coop.Coop
	// Member is the viewer's membership, nil for visitors and non-members.
	Member  *coop.Member
	Members int
	// ByClass counts active members per class key.
	ByClass map[string]int
	Open    []*govern.Proposal
	Drafts  []*govern.Proposal
	Closed  []*govern.Proposal
	Problem string
}

// maxProposals bounds each list on the co-op page.
const maxProposals = 50

// showCoop shows a co-op's purpose and classes to anyone, and its
// proposals to its members.
func (h *handler) showCoop(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	d := coopPage{Coop: c, ByClass: map[string]int{}}
	members, err := h.Coops.Members(ctx, c, false)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Active() {
			d.Members++
			d.ByClass[m.Class]++
		}
	}
	if me := h.optionalMe(r); me != nil {
		if m, err := h.Coops.RequireMember(ctx, c, me.ID); err == nil {
			d.Member = &m
		} else if !errors.Is(err, errs.ErrForbidden) {
			return err
		}
	}
	if d.Member != nil {
		all, err := h.Govern.List(ctx, c, "", 3*maxProposals)
		if err != nil {
			return err
		}
		for _, p := range all {
			switch p.State {
			case govern.StateOpen:
				d.Open = append(d.Open, p)
			case govern.StateDraft:
				if p.Author == d.Member.Handle {
					d.Drafts = append(d.Drafts, p)
				}
			default:
				d.Closed = append(d.Closed, p)
			}
		}
	}
	return h.render(w, r, http.StatusOK, "coop_show", c.Name, d)
}

func (h *handler) leave(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := h.Coops.Leave(r.Context(), c, me); err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug)
}

// joinCode sends the start page's invitation form to the join page.
func (h *handler) joinCode(w http.ResponseWriter, r *http.Request) error {
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	// People paste whole links as well as codes.
	if i := strings.LastIndex(code, "/join/"); i >= 0 {
		code = code[i+len("/join/"):]
	}
	if code == "" {
		return redirect(w, r, "/")
	}
	return redirect(w, r, "/join/"+url.PathEscape(code))
}
