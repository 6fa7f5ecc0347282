// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/vote"
)

// proposalForm is the new-proposal form's data, every field as typed.
type proposalForm struct {
	Coop                                *coop.Coop
	Title, Body, Method, Options        string
	Weighting, EmptyClass, Pass, Quorum string
	ClosesAt                            string
	MaxChoices, ScoreMax, Points, Seats string
	AllowedBlocks, Rules                string
	Topic                               string
	ClassMajority, Secret, Draft        bool
	Methods                             []choice
	Passes                              []choice
	Errors                              map[string]string
	// Topics are the co-op's topics, offered for the topic field.
	Topics []string
}

// choice is one <option> of a select.
type choice struct{ Value, Label string }

// methodLabels say in a few words what each method asks of a member.
var methodLabels = map[vote.Method]string{
	vote.Consent:  "Consent — agree, abstain, disagree or block",
	vote.YesNo:    "Yes / no",
	vote.Choice:   "Choice — pick one option (or up to N)",
	vote.Approval: "Approval — tick every option you accept",
	vote.Score:    "Score — rate each option",
	vote.STAR:     "STAR — score 0–5, then an automatic runoff",
	vote.Borda:    "Borda — rank options, points by rank",
	vote.IRV:      "Instant runoff — rank options",
	vote.STV:      "Single transferable vote — rank options, several seats",
	vote.Schulze:  "Schulze — rank options, ties allowed",
	vote.Dot:      "Dot voting — share out points",
	vote.Meeting:  "Meeting time — yes, maybe or no per slot",
}

func methodChoices() []choice {
	out := make([]choice, 0, len(vote.Methods))
	for _, m := range vote.Methods {
		label := methodLabels[m]
		if label == "" {
			label = string(m)
		}
		out = append(out, choice{string(m), label})
	}
	return out
}

var passChoices = []choice{
	{"majority", "More than half of yes + no"},
	{"two_thirds", "Two thirds of yes + no"},
	{"three_quarters", "Three quarters of yes + no"},
	{"unanimous", "Unanimous"},
	{">1/2 of electorate", "Yes from over half the electorate"},
}

// defaultOpen is how long a new proposal stays open unless its author
// says otherwise.
const defaultOpen = 7 * 24 * time.Hour

func (h *handler) proposalForm(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, me.ID); err != nil {
		return err
	}
	f := proposalForm{Coop: c, Method: string(vote.YesNo), Weighting: string(vote.Equal), EmptyClass: string(vote.Redistribute),
		Pass: "majority", Quorum: "0", ClosesAt: h.now().Add(defaultOpen).Format(localInput),
		Methods: methodChoices(), Passes: passChoices}
	if m := r.URL.Query().Get("method"); vote.Method(m).Valid() {
		f.Method = m
	}
	if f.Topics, err = h.Govern.Topics(r.Context(), c); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "proposal_new", "New proposal", f)
}

var nonKey = regexp.MustCompile(`[^a-z0-9_]+`)

// parseOptions reads "key: label" lines; a line without a key gets one
// made from its label.
func parseOptions(text string) []vote.Option {
	var out []vote.Option
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, label, ok := strings.Cut(line, ":")
		if !ok {
			label = line
			key = strings.Trim(nonKey.ReplaceAllString(strings.ToLower(line), "_"), "_")
			if key == "" || key[0] < 'a' || key[0] > 'z' {
				key = "o_" + key
			}
			if len(key) > 32 {
				key = key[:32]
			}
		}
		out = append(out, vote.Option{Key: strings.TrimSpace(key), Label: strings.TrimSpace(label)})
	}
	return out
}

// atoiField parses an optional whole number, noting a bad one in v.
func atoiField(v *errs.ValidationError, field, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		v.Add(field, "give a whole number")
	}
	return n
}

func (h *handler) createProposal(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := proposalForm{Coop: c, Title: pf.Get("title"), Body: pf.Get("body"), Method: pf.Get("method"), Options: pf.Get("options"),
		Weighting: pf.Get("weighting"), EmptyClass: pf.Get("empty_class"), Pass: pf.Get("pass"), Quorum: pf.Get("quorum_percent"),
		ClosesAt: pf.Get("closes_at"), MaxChoices: pf.Get("max_choices"), ScoreMax: pf.Get("score_max"), Points: pf.Get("points"),
		Seats: pf.Get("seats"), AllowedBlocks: pf.Get("allowed_blocks"), Rules: pf.Get("rules"), Topic: pf.Get("topic"),
		ClassMajority: pf.Get("class_majority") != "", Secret: pf.Get("secret") != "", Draft: pf.Get("draft") != "",
		Methods: methodChoices(), Passes: passChoices}
	var v errs.ValidationError
	m := vote.Method(f.Method)
	n := govern.NewProposal{Title: f.Title, Body: f.Body, Method: m, Weighting: f.Weighting, EmptyClass: f.EmptyClass,
		Pass: f.Pass, Secret: f.Secret, Draft: f.Draft, Topic: strings.ToLower(strings.TrimSpace(f.Topic))}
	if !m.Fixed() {
		n.Options = parseOptions(f.Options)
	}
	n.QuorumPercent = int64(atoiField(&v, "quorum_percent", f.Quorum))
	// Only the chosen method's parameters are sent: the others would be
	// refused as not applying.
	if m == vote.Consent || m == vote.YesNo {
		n.ClassMajority = f.ClassMajority
	}
	switch m {
	case vote.Choice:
		n.MaxChoices = atoiField(&v, "max_choices", f.MaxChoices)
	case vote.Score:
		n.ScoreMax = atoiField(&v, "score_max", f.ScoreMax)
	case vote.Dot:
		n.Points = atoiField(&v, "points", f.Points)
	case vote.STV:
		n.Seats = atoiField(&v, "seats", f.Seats)
		n.Rules = f.Rules
	case vote.Consent:
		n.AllowedBlocks = atoiField(&v, "allowed_blocks", f.AllowedBlocks)
	}
	if s := strings.TrimSpace(f.ClosesAt); s != "" {
		t, err := time.Parse(localInput, s)
		if err != nil {
			v.Add("closes_at", "give a date and time")
		}
		n.ClosesAt = t
	}
	var p *govern.Proposal
	if err = v.Err(); err == nil {
		p, err = h.Govern.Create(r.Context(), c, me, n)
	}
	if fields, ok := fieldErrors(err); ok {
		f.Errors = optionErrors(fields, v.Fields)
		if f.Topics, err = h.Govern.Topics(r.Context(), c); err != nil {
			return err
		}
		return h.render(w, r, http.StatusUnprocessableEntity, "proposal_new", "New proposal", f)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/proposals/%d", p.ID))
}

// optionErrors folds the per-option messages ("options[2].key") into one
// message for the options box, naming the line, and keeps our own.
func optionErrors(fields, ours map[string]string) map[string]string {
	out := map[string]string{}
	for k, m := range ours {
		out[k] = m
	}
	var lines []string
	for k, m := range fields {
		var i int
		var part string
		if _, err := fmt.Sscanf(k, "options[%d].%s", &i, &part); err == nil {
			lines = append(lines, fmt.Sprintf("line %d (%s): %s", i+1, part, m))
			continue
		}
		out[k] = m
	}
	if len(lines) > 0 {
		slices.Sort(lines)
		msg := strings.Join(lines, "; ")
		if prev := out["options"]; prev != "" {
			msg = prev + "; " + msg
		}
		out["options"] = msg
	}
	return out
}
