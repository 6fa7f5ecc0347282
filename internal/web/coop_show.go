// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
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
	// Settings is the secretaries' settings form, as typed; Saved
	// confirms a change just made.
	Settings settingsForm
	Saved    bool
}

// settingsForm holds the co-op settings a secretary may change, as typed.
type settingsForm struct {
	NoticeDays, ProxyLimit, Cap string
	Delegation, WithinClassOnly bool
	Errors                      map[string]string
}

// maxProposals bounds each list on the co-op page.
const maxProposals = 50

// showCoop shows a co-op's purpose and classes to anyone, and its
// proposals and settings to its members.
func (h *handler) showCoop(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	d, err := h.coopPage(r, c)
	if err != nil {
		return err
	}
	d.Saved = r.URL.Query().Get("saved") != ""
	return h.render(w, r, http.StatusOK, "coop_show", c.Name, d)
}

func (h *handler) coopPage(r *http.Request, c *coop.Coop) (*coopPage, error) {
	ctx := r.Context()
	d := &coopPage{Coop: c, ByClass: map[string]int{}, Settings: settingsForm{NoticeDays: strconv.Itoa(c.NoticeDays),
		ProxyLimit: strconv.Itoa(c.ProxyLimit), Cap: strconv.Itoa(c.Delegation.Cap), Delegation: c.Delegation.Enabled,
		WithinClassOnly: c.Delegation.WithinClassOnly}}
	members, err := h.Coops.Members(ctx, c, false)
	if err != nil {
		return nil, err
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
			return nil, err
		}
	}
	if d.Member != nil {
		all, err := h.Govern.List(ctx, c, "", 3*maxProposals)
		if err != nil {
			return nil, err
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
	return d, nil
}

// updateSettings changes the co-op's settings: delegation (RULES.md 2.4),
// the notice period and the proxy limit (2.6). Only secretaries may.
func (h *handler) updateSettings(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	// Asked first, so that a member who is no secretary is refused even
	// when what she sent is malformed.
	if _, err := h.Coops.RequireSecretary(r.Context(), c, me.ID); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := settingsForm{NoticeDays: strings.TrimSpace(pf.Get("notice_days")), ProxyLimit: strings.TrimSpace(pf.Get("proxy_limit")),
		Cap: strings.TrimSpace(pf.Get("cap")), Delegation: pf.Get("delegation") != "", WithinClassOnly: pf.Get("within_class_only") != ""}
	var v errs.ValidationError
	in := coop.Settings{Delegation: &coop.DelegationRules{Enabled: f.Delegation, WithinClassOnly: f.WithinClassOnly}}
	number := func(field, s string) *int {
		if s == "" {
			v.Add(field, "give a whole number")
			return nil
		}
		n := atoiField(&v, field, s)
		return &n
	}
	in.NoticeDays = number("notice_days", f.NoticeDays)
	in.ProxyLimit = number("proxy_limit", f.ProxyLimit)
	if n := number("delegation.cap", f.Cap); n != nil {
		in.Delegation.Cap = *n
	}
	if err = v.Err(); err == nil {
		_, err = h.Coops.UpdateSettings(r.Context(), c, me, in)
	}
	if fields, ok := fieldErrors(err); ok {
		d, derr := h.coopPage(r, c)
		if derr != nil {
			return derr
		}
		f.Errors = fields
		d.Settings = f
		return h.render(w, r, http.StatusUnprocessableEntity, "coop_show", c.Name, d)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"?saved=1#settings")
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
