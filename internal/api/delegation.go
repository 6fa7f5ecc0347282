// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
)

// registerDelegation adds the delegation, topic, settings and decision
// record routes (RULES.md 2.4).
func (h *handler) registerDelegation(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("PATCH /coops/{slug}", h.updateCoop)
	handle("GET /coops/{slug}/topics", h.listTopics)
	handle("GET /coops/{slug}/delegations", h.listDelegations)
	handle("PUT /coops/{slug}/delegations", h.delegate)
	handle("DELETE /coops/{slug}/delegations", h.revokeDelegation)
	handle("GET /proposals/{id}/trace", h.traceVote)
	handle("GET /proposals/{id}/record", h.decisionRecord)
}

// delegationPaths documents them.
func delegationPaths(add func(method, path string, o obj)) {
	scope := obj{
		"scope":    obj{"type": "string", "enum": []string{"coop", "topic", "proposal"}},
		"topic":    obj{"type": "string", "description": "the topic's slug, for scope topic; created on first use"},
		"proposal": obj{"type": "integer", "format": "int64", "description": "the proposal's id, for scope proposal (open ballots only)"},
	}
	set := obj{"to": obj{"type": []string{"string", "null"}, "description": "the trustee's handle; null delegates to nobody, which blocks a wider delegation"}}
	for k, v := range scope {
		set[k] = v
	}
	add("PATCH", "/coops/{slug}", op("Change the co-op's settings (secretaries): notice period, proxy limit, delegation",
		object(nil, obj{"notice_days": integer, "proxy_limit": integer, "delegation": ref("DelegationRules")}), "200", ref("Coop"), true))
	add("GET", "/coops/{slug}/topics", op("The co-op's topics (members)", nil, "200", object(nil, obj{"topics": arrayOf(str)}), true))
	add("GET", "/coops/{slug}/delegations", op("The caller's delegations and those made to her", nil, "200",
		object(nil, obj{"mine": arrayOf(ref("Delegation")), "to_me": arrayOf(ref("Delegation"))}), true))
	add("PUT", "/coops/{slug}/delegations", op("Delegate for a scope, replacing the caller's delegation there (RULES.md 2.4)",
		object([]string{"scope"}, set), "200", ref("Delegation"), true))
	add("DELETE", "/coops/{slug}/delegations", op("Revoke the caller's delegation for a scope",
		object([]string{"scope"}, scope), "204", nil, true))
	add("GET", "/proposals/{id}/trace", op("Where a member's vote goes (?member=handle, default the caller): direct, via whom, to whose ballot, and how many her ballot carries", nil, "200",
		object(nil, obj{"direct": boolean, "via": arrayOf(str), "final": str, "ballot": anyObj, "scope": str,
			"reason": obj{"type": "string", "enum": []string{"none", "blocked", "outside", "cycle"}}, "carries": integer}), true))
	add("GET", "/proposals/{id}/record", op("A closed proposal's decision record (docs/decision-record.md): `opencoop tally --format record` recounts it to the stored result",
		nil, "200", anyObj, true))
}

func (h *handler) updateCoop(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in coop.Settings
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err = h.Coops.UpdateSettings(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (h *handler) listTopics(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	ts, err := h.Govern.Topics(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"topics": ts})
}

func (h *handler) listDelegations(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	mine, toMe, err := h.Govern.Delegations(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"mine": mine, "to_me": toMe})
}

func (h *handler) delegate(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in govern.SetDelegation
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := h.Govern.Delegate(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (h *handler) revokeDelegation(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in govern.DelegationScope
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := h.Govern.Revoke(r.Context(), c, a, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) traceVote(w http.ResponseWriter, r *http.Request) error {
	a, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	if p.Secret {
		return errs.Invalid("proposal", "secret ballots have no delegation to trace")
	}
	who := r.URL.Query().Get("member")
	if who == "" {
		who = a.Handle
	}
	t, err := h.Govern.TraceVote(r.Context(), p, who)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (h *handler) decisionRecord(w http.ResponseWriter, r *http.Request) error {
	_, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	rec, err := h.Govern.Record(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}
