// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"opencoop/internal/auth"
	"opencoop/internal/ballotfile"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
)

func (h *handler) createProposal(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in govern.NewProposal
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := h.Govern.Create(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (h *handler) listProposals(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", govern.StateDraft, govern.StateOpen, govern.StateClosed, govern.StateCancelled:
	default:
		return badRequest("state must be draft, open, closed or cancelled")
	}
	ps, err := h.Govern.List(r.Context(), c, state, 500)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []*govern.Proposal{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"proposals": ps})
}

// proposal loads the proposal of the path for a member of its co-op.
func (h *handler) proposal(r *http.Request) (auth.Account, *govern.Proposal, *coop.Coop, error) {
	a, err := h.account(r)
	if err != nil {
		return a, nil, nil, err
	}
	id, err := pathID(r)
	if err != nil {
		return a, nil, nil, err
	}
	p, c, err := h.Govern.Proposal(r.Context(), &a, id)
	return a, p, c, err
}

func (h *handler) showProposal(w http.ResponseWriter, r *http.Request) error {
	_, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// transition runs one of the author's or secretary's actions on a proposal.
func (h *handler) transition(w http.ResponseWriter, r *http.Request,
	fn func(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*govern.Proposal, error)) error {
	a, p, c, err := h.proposal(r)
	if err != nil {
		return err
	}
	p, err = fn(r.Context(), c, a, p.ID)
	if err != nil {
		return err
	}
	if p.Result != nil {
		return writeJSON(w, http.StatusOK, resultBody(p))
	}
	return writeJSON(w, http.StatusOK, p)
}

func (h *handler) publishProposal(w http.ResponseWriter, r *http.Request) error {
	return h.transition(w, r, h.Govern.Publish)
}

func (h *handler) cancelProposal(w http.ResponseWriter, r *http.Request) error {
	return h.transition(w, r, h.Govern.Cancel)
}

func (h *handler) closeProposal(w http.ResponseWriter, r *http.Request) error {
	return h.transition(w, r, h.Govern.Close)
}

func (h *handler) castBallot(w http.ResponseWriter, r *http.Request) error {
	a, err := h.account(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in govern.BallotInput
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := h.Govern.Cast(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"proposal_id": id, "ballot": b})
}

func (h *handler) myBallot(w http.ResponseWriter, r *http.Request) error {
	a, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	b, err := h.Govern.MyBallot(r.Context(), a, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"proposal_id": p.ID, "ballot": b})
}

func (h *handler) listBallots(w http.ResponseWriter, r *http.Request) error {
	_, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	vs, err := h.Govern.Votes(r.Context(), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"proposal_id": p.ID, "secret": p.Secret, "ballots": vs})
}

func (h *handler) result(w http.ResponseWriter, r *http.Request) error {
	_, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	if p.Result == nil {
		return fmt.Errorf("the proposal is %s; its result comes when it closes: %w", p.State, errs.ErrConflict)
	}
	return writeJSON(w, http.StatusOK, resultBody(p))
}

// export serves a closed proposal's ballots as a ballot file that
// `opencoop tally` recounts to the stored result: ?format=json (default;
// method, parameters, classes and weights included), blt or preflib (ranked
// methods only).
func (h *handler) export(w http.ResponseWriter, r *http.Request) error {
	_, p, _, err := h.proposal(r)
	if err != nil {
		return err
	}
	f := ballotfile.Format(r.URL.Query().Get("format"))
	switch f {
	case "":
		f = ballotfile.JSON
	case ballotfile.JSON:
	case ballotfile.BLT, ballotfile.PrefLib:
		if !p.Method.Ranked() {
			return errs.Invalid("format", "BLT and PrefLib hold rankings; export "+string(p.Method)+" ballots as json")
		}
	default:
		return errs.Invalid("format", "use json, blt or preflib")
	}
	file, err := h.Govern.Export(r.Context(), p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ballotfile.Write(&buf, file, f); err != nil {
		return err
	}
	ext := map[ballotfile.Format]string{ballotfile.JSON: "json", ballotfile.BLT: "blt", ballotfile.PrefLib: "toi"}[f]
	ctype := "text/plain; charset=utf-8"
	if f == ballotfile.JSON {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="proposal-%d.%s"`, p.ID, ext))
	_, err = w.Write(buf.Bytes())
	return err
}

// resultBody is the result as the API contract gives it, the proposal's
// state beside the count.
func resultBody(p *govern.Proposal) map[string]any {
	// The result as vote.Result writes it (numbers kept as written), with
	// the proposal's id and state; winners is never null.
	b, _ := json.Marshal(p.Result)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	m := map[string]any{}
	dec.Decode(&m)
	m["proposal_id"], m["state"] = p.ID, p.State
	if m["winners"] == nil {
		m["winners"] = []string{}
	}
	return m
}
