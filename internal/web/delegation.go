// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/record"
)

// registerDelegation adds the "my delegations" pages (RULES.md 2.4).
func (h *handler) registerDelegation(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/delegations", h.listDelegations)
	handle("POST /coops/{slug}/delegations", h.setDelegation)
	handle("POST /coops/{slug}/delegations/revoke", h.revokeDelegation)
	// The settings include the delegation rules; the form is on the
	// co-op's page (coop_show.go).
	handle("POST /coops/{slug}/settings", h.updateSettings)
}

// toNobody is the trustee select's value for a delegation to nobody; no
// handle can be "-", since handles start with a letter or digit.
const toNobody = "-"

type delegationsPage struct {
	Coop   *coop.Coop
	Member coop.Member
	// Mine are the viewer's delegations, ToMe those made to her and
	// Carried how many members those are.
	Mine    []delegationRow
	ToMe    []delegationRow
	Carried int
	// Trustees, Topics and Proposals feed the form's choices: the other
	// members, the co-op's topics and its open ballots that may be
	// delegated.
	Trustees  []choice
	Topics    []string
	Proposals []choice
	Form      delegationForm
	Errors    map[string]string
	// Problem is a refusal that is no one field's fault (the cap, or
	// delegation being off); Done confirms the last change.
	Problem string
	Done    string
}

// delegationForm is the set form's values, as typed.
type delegationForm struct {
	Scope, Topic, Proposal, To string
}

// delegationRow is one delegation as the page lists it.
type delegationRow struct {
	govern.Delegation
	// Where names the scope in words; Link is the proposal's page for a
	// proposal delegation; Change is the page with the form filled in with it.
	Where, Link, Change string
}

func (h *handler) listDelegations(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := delegationForm{Scope: q.Get("scope"), Topic: q.Get("topic"), Proposal: q.Get("proposal"), To: q.Get("to")}
	if f.Scope != record.ScopeTopic && f.Scope != record.ScopeProposal {
		f.Scope = record.ScopeCoop
	}
	d, err := h.delegationsPage(r, me, c, f)
	if err != nil {
		return err
	}
	switch q.Get("done") {
	case "set":
		d.Done = "Your delegation is saved."
	case "revoked":
		d.Done = "Your delegation is revoked."
	}
	return h.render(w, r, http.StatusOK, "delegations", "My delegations", d)
}

// delegationsPage gathers the page for the member me of c with the set
// form filled in as f.
func (h *handler) delegationsPage(r *http.Request, me auth.Account, c *coop.Coop, f delegationForm) (*delegationsPage, error) {
	ctx := r.Context()
	m, err := h.Coops.RequireMember(ctx, c, me.ID)
	if err != nil {
		return nil, err
	}
	mine, toMe, err := h.Govern.Delegations(ctx, c, me)
	if err != nil {
		return nil, err
	}
	d := &delegationsPage{Coop: c, Member: m, Form: f}
	if d.Trustees, err = h.trustees(r, c, m); err != nil {
		return nil, err
	}
	if d.Topics, err = h.Govern.Topics(ctx, c); err != nil {
		return nil, err
	}
	all, err := h.Govern.List(ctx, c, "", 3*maxProposals)
	if err != nil {
		return nil, err
	}
	titles := map[int64]string{}
	for _, p := range all {
		titles[p.ID] = p.Title
		if p.State == govern.StateOpen && !p.Secret && p.MeetingID == 0 {
			d.Proposals = append(d.Proposals, choice{strconv.FormatInt(p.ID, 10), fmt.Sprintf("#%d %s", p.ID, p.Title)})
		}
	}
	row := func(dl govern.Delegation) delegationRow {
		v := url.Values{"scope": {dl.Scope}}
		row := delegationRow{Delegation: dl}
		switch dl.Scope {
		case record.ScopeCoop:
			row.Where = "everything in the co-op"
		case record.ScopeTopic:
			row.Where = "the topic " + dl.Topic
			v.Set("topic", dl.Topic)
		case record.ScopeProposal:
			row.Where = fmt.Sprintf("proposal #%d", dl.Proposal)
			if t, ok := titles[dl.Proposal]; ok {
				row.Where += ": " + t
			}
			row.Link = fmt.Sprintf("/proposals/%d", dl.Proposal)
			v.Set("proposal", strconv.FormatInt(dl.Proposal, 10))
		}
		if dl.To != nil {
			v.Set("to", *dl.To)
		} else {
			v.Set("to", toNobody)
		}
		row.Change = "/coops/" + c.Slug + "/delegations?" + v.Encode() + "#set"
		return row
	}
	for _, dl := range mine {
		d.Mine = append(d.Mine, row(dl))
	}
	from := map[string]bool{}
	for _, dl := range toMe {
		d.ToMe = append(d.ToMe, row(dl))
		from[dl.From] = true
	}
	d.Carried = len(from)
	return d, nil
}

// trustees lists the members m may choose as a trustee: every other
// active member, with her class so within_class_only is no surprise.
func (h *handler) trustees(r *http.Request, c *coop.Coop, m coop.Member) ([]choice, error) {
	members, err := h.Coops.Members(r.Context(), c, false)
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, o := range members {
		if o.Active() && o.ID != m.ID {
			out = append(out, choice{o.Handle, fmt.Sprintf("%s (@%s, %s)", o.Name, o.Handle, o.Class)})
		}
	}
	return out, nil
}

// readScope reads the scope fields of a set or revoke form: only the
// field the scope uses is sent, the others are ignored as leftovers.
func readScope(f delegationForm) (govern.DelegationScope, *errs.ValidationError) {
	var v errs.ValidationError
	s := govern.DelegationScope{Scope: f.Scope}
	switch f.Scope {
	case record.ScopeTopic:
		s.Topic = strings.ToLower(strings.TrimSpace(f.Topic))
		if s.Topic == "" {
			v.Add("topic", "choose a topic or type a new one")
		}
	case record.ScopeProposal:
		p := strings.TrimSpace(f.Proposal)
		if p == "" {
			v.Add("proposal", "choose a proposal")
			break
		}
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			v.Add("proposal", "choose a proposal")
		}
		s.Proposal = id
	}
	return s, &v
}

func (h *handler) setDelegation(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := delegationForm{Scope: pf.Get("scope"), Topic: pf.Get("topic"), Proposal: pf.Get("proposal"), To: strings.TrimSpace(pf.Get("to"))}
	scope, v := readScope(f)
	in := govern.SetDelegation{DelegationScope: scope}
	switch f.To {
	case "":
		v.Add("to", "choose a member, or nobody to block a wider delegation")
	case toNobody:
	default:
		to := strings.TrimPrefix(f.To, "@")
		in.To = &to
	}
	if err = v.Err(); err == nil {
		_, err = h.Govern.Delegate(r.Context(), c, me, in)
	}
	if err != nil {
		return h.refuseDelegation(w, r, me, c, f, err)
	}
	return redirect(w, r, doneURL(pf.Get("return"), c, "set"))
}

func (h *handler) revokeDelegation(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := delegationForm{Scope: pf.Get("scope"), Topic: pf.Get("topic"), Proposal: pf.Get("proposal")}
	scope, v := readScope(f)
	if err = v.Err(); err == nil {
		err = h.Govern.Revoke(r.Context(), c, me, scope)
	}
	if err != nil {
		// The set form starts afresh: what was refused is a listed row.
		return h.refuseDelegation(w, r, me, c, delegationForm{Scope: record.ScopeCoop}, err)
	}
	return redirect(w, r, doneURL(pf.Get("return"), c, "revoked"))
}

// doneURL is where a change goes on to: back to the page that sent the
// form (a proposal's page), or to the delegations page saying what was done.
func doneURL(back string, c *coop.Coop, done string) string {
	if back != "" {
		if next := localNext(back); next != "/" {
			return next
		}
	}
	return "/coops/" + c.Slug + "/delegations?done=" + done
}

// refuseDelegation shows the delegations page again with err explained:
// the fields' messages (422), or the cap (409), delegation being off
// (403) or a missing delegation (404) above the form, which keeps what
// was typed. Errors the page cannot explain go to the error page.
func (h *handler) refuseDelegation(w http.ResponseWriter, r *http.Request, me auth.Account, c *coop.Coop, f delegationForm, err error) error {
	status := 0
	var problem string
	fields, invalid := fieldErrors(err)
	if invalid {
		status = http.StatusUnprocessableEntity
	}
	for _, m := range []struct {
		err    error
		status int
	}{
		{errs.ErrNotFound, http.StatusNotFound},
		{errs.ErrConflict, http.StatusConflict},
		{errs.ErrForbidden, http.StatusForbidden},
	} {
		if status == 0 && errors.Is(err, m.err) {
			status, problem = m.status, message(err, m.err)
		}
	}
	if status == 0 {
		return err
	}
	d, derr := h.delegationsPage(r, me, c, f)
	if derr != nil {
		// Not a member, say: the page cannot be shown, so the original
		// refusal is the answer.
		return err
	}
	d.Errors, d.Problem = fields, problem
	return h.render(w, r, status, "delegations", "My delegations", d)
}
