// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/record"
	"opencoop/internal/vote"
)

type proposalPage struct {
	P      *govern.Proposal
	Coop   *coop.Coop
	Member coop.Member
	Labels map[string]string
	// Ballot is the vote form, when the viewer may vote.
	Ballot *ballotForm
	// VoteNote says why there is no vote form, if there is none.
	VoteNote   string
	Voted      bool
	CanManage  bool
	IsAuthor   bool
	Votes      []voteRow
	Result     *resultView
	Rule       string
	Quorum     string
	Problem    string
	BallotErrs map[string]string
	// Delegation is the box that says where the viewer's vote goes and
	// lets her delegate or block this proposal (RULES.md 2.4).
	Delegation delegationBox
}

// delegationBox is the proposal page's delegation section.
type delegationBox struct {
	// Note says why delegation does not apply here, if it does not.
	Note string
	// Trace says where the viewer's vote goes (went, after close), Lost
	// that it counts for nobody; Carries
	// is how many others her ballot counts for, Delegators how many
	// members delegate to her in a scope that covers this proposal.
	Trace      string
	Lost       bool
	Carries    int
	Delegators int
	// Forms offers delegating or blocking this proposal, with Trustees
	// to choose from; Mine is her delegation for this very proposal.
	Forms    bool
	Trustees []choice
	Mine     *govern.Delegation
}

// ballotForm is the vote form for one method: Kind "single" (radio
// buttons), "multi" (check boxes), "score" (numbers Min..Max), "meeting"
// (yes / maybe / no per option) or "rank" (a rank number per option).
type ballotForm struct {
	Kind     string
	Min, Max int
	Options  []ballotOption
	Help     string
}

type ballotOption struct {
	Key, Label string
	Checked    bool
	Value      string
}

type voteRow struct {
	Handle, Class, What string
	CastAt              string
}

// proposal loads the proposal of the path for the signed-in member.
func (h *handler) proposal(r *http.Request) (auth.Account, *govern.Proposal, *coop.Coop, error) {
	me, err := h.me(r)
	if err != nil {
		return me, nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return me, nil, nil, fmt.Errorf("no proposal %q: %w", r.PathValue("id"), errs.ErrNotFound)
	}
	p, c, err := h.Govern.Proposal(r.Context(), &me, id)
	return me, p, c, err
}

func (h *handler) showProposal(w http.ResponseWriter, r *http.Request) error {
	me, p, c, err := h.proposal(r)
	if err != nil {
		return err
	}
	d, err := h.proposalPage(r, me, p, c, nil)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "proposal_show", p.Title, d)
}

// proposalPage gathers the page; in, when not nil, is a ballot that was
// refused and is shown again as the member filled it in.
func (h *handler) proposalPage(r *http.Request, me auth.Account, p *govern.Proposal, c *coop.Coop, in *govern.BallotInput) (*proposalPage, error) {
	ctx := r.Context()
	m, err := h.Coops.RequireMember(ctx, c, me.ID)
	if err != nil {
		return nil, err
	}
	d := &proposalPage{P: p, Coop: c, Member: m, Labels: map[string]string{}, Rule: p.Pass.String(), Quorum: quorumText(p.Quorum),
		IsAuthor: p.Author == m.Handle}
	d.CanManage = d.IsAuthor || m.Secretary
	for _, o := range p.Options {
		d.Labels[o.Key] = o.Label
	}
	if p.State == govern.StateOpen {
		mine, err := h.Govern.MyBallot(ctx, me, p)
		switch {
		case err == nil:
			d.Voted = true
		case errors.Is(err, errs.ErrNotFound):
		default:
			return nil, err
		}
		if in == nil && d.Voted {
			in = &mine
		}
		ok, err := h.Govern.InElectorate(ctx, p, me.ID)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			d.VoteNote = whyNotElectorate(p, m)
		case p.MeetingID != 0 && h.Meetings != nil:
			// A resolution's meeting says who may vote when (RULES.md 2.6).
			err := h.Meetings.CanVote(ctx, p, m.ID)
			switch {
			case errors.Is(err, errs.ErrForbidden):
				d.VoteNote = message(err, errs.ErrForbidden)
			case errors.Is(err, errs.ErrConflict):
				d.VoteNote = message(err, errs.ErrConflict)
			case err != nil:
				return nil, err
			default:
				d.Ballot = newBallotForm(p, in)
			}
		default:
			d.Ballot = newBallotForm(p, in)
		}
	}
	votes, err := h.Govern.Votes(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, v := range votes {
		row := voteRow{Handle: v.Handle, Class: v.Class, CastAt: v.CastAt.Format("2 Jan 15:04 UTC")}
		if v.Ballot != nil && !p.Secret {
			row.What = describeBallot(v.Ballot, p.Options)
		}
		d.Votes = append(d.Votes, row)
	}
	if p.Result != nil {
		d.Result = newResultView(p)
	}
	if d.Delegation, err = h.delegationBox(r, me, p, c, m); err != nil {
		return nil, err
	}
	return d, nil
}

// delegationBox explains where me's vote on p goes and, while p is open
// and c delegates, offers to delegate or block p alone.
func (h *handler) delegationBox(r *http.Request, me auth.Account, p *govern.Proposal, c *coop.Coop, m coop.Member) (delegationBox, error) {
	ctx := r.Context()
	var b delegationBox
	switch {
	case p.Secret:
		b.Note = "This is a secret ballot, so delegation does not apply: only members who vote themselves are counted."
		return b, nil
	case p.MeetingID != 0:
		b.Note = "This is a general meeting's resolution: members appoint proxies for the meeting, delegation does not apply."
		return b, nil
	case p.State != govern.StateOpen && p.State != govern.StateClosed:
		return b, nil
	}
	open := p.State == govern.StateOpen
	if open && !c.Delegation.Enabled {
		b.Note = c.Name + " does not use delegation: only members who vote themselves are counted."
	}
	t, err := h.Govern.TraceVote(ctx, p, m.Handle)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		// Not in the electorate: the vote section says why.
		return b, nil
	case err != nil:
		return b, err
	}
	b.Trace, b.Lost, b.Carries = traceText(t, p, !open), t.Final == "", t.Carries
	if !open || !c.Delegation.Enabled {
		return b, nil
	}
	mine, toMe, err := h.Govern.Delegations(ctx, c, me)
	if err != nil {
		return b, err
	}
	for i, dl := range mine {
		if dl.Scope == record.ScopeProposal && dl.Proposal == p.ID {
			b.Mine = &mine[i]
		}
	}
	from := map[string]bool{}
	for _, dl := range toMe {
		if covers(dl, p) {
			from[dl.From] = true
		}
	}
	b.Delegators = len(from)
	b.Forms = true
	b.Trustees, err = h.trustees(r, c, m)
	return b, err
}

// covers reports whether delegation dl is one that may apply to p: the
// co-op's, p's topic's or p's own.
func covers(dl govern.Delegation, p *govern.Proposal) bool {
	switch dl.Scope {
	case record.ScopeCoop:
		return true
	case record.ScopeTopic:
		return p.Topic != "" && dl.Topic == p.Topic
	case record.ScopeProposal:
		return dl.Proposal == p.ID
	}
	return false
}

// traceText says in a sentence where a member's vote goes, as t traces
// it: in the present tense while p is open, in the past once closed.
func traceText(t *govern.Trace, p *govern.Proposal, closed bool) string {
	tense := func(open, past string) string {
		if closed {
			return past
		}
		return open
	}
	via := ""
	if len(t.Via) > 0 {
		via = " via " + handles(t.Via)
	}
	scope := ""
	switch t.Scope {
	case record.ScopeCoop:
		scope = " (your delegation for the co-op)"
	case record.ScopeTopic:
		scope = fmt.Sprintf(" (your delegation for the topic %s)", p.Topic)
	case record.ScopeProposal:
		scope = " (your delegation for this proposal)"
	}
	last := ""
	if len(t.Via) > 0 {
		last = "@" + t.Via[len(t.Via)-1]
	}
	switch {
	case t.Direct:
		return "You voted directly: your own ballot counts for you."
	case t.Final != "":
		what := ""
		if t.Ballot != nil {
			what = describeBallot(t.Ballot, p.Options)
		}
		if what == "" {
			what = "a blank ballot"
		}
		s := fmt.Sprintf("%s @%s%s, who voted %s%s.", tense("Your vote goes to", "Your vote went to"), t.Final, via, what, scope)
		if !closed {
			s += " If you vote yourself, your own ballot counts instead."
		}
		return s
	case t.Reason == "blocked" && last == "":
		return tense("Your vote counts for nobody: you delegated this to nobody, which blocks any wider delegation. Vote yourself to be counted.",
			"Your vote counted for nobody: your delegation to nobody blocked any wider one.")
	case t.Reason == "blocked":
		return fmt.Sprintf("%s %s%s, %s.", tense("Your vote counts for nobody: it goes", "Your vote counted for nobody: it went"),
			"to "+handles(t.Via), scope, tense("who delegates this to nobody", "who had delegated it to nobody"))
	case t.Reason == "outside":
		return fmt.Sprintf("%s%s %s.", tense("Your vote counts for nobody: your delegation", "Your vote counted for nobody: your delegation"),
			via, tense("leads to someone outside this proposal's electorate or outside your class", "led to someone outside this proposal's electorate or outside your class"))
	case t.Reason == "cycle":
		return fmt.Sprintf("%s%s %s.", tense("Your vote counts for nobody: the delegations from you", "Your vote counted for nobody: the delegations from you"),
			via, tense("go round in a circle and reach no ballot", "went round in a circle and reached no ballot"))
	case last != "":
		return fmt.Sprintf("%s %s%s, %s.", tense("Your vote counts for nobody yet: it goes", "Your vote counted for nobody: it went"),
			"to "+handles(t.Via), scope, tense("who has not voted and delegates to no one", "who did not vote and had delegated to no one"))
	}
	return tense("Your vote counts for nobody yet: you have not voted, and no delegation of yours applies to this proposal.",
		"Your vote counted for nobody: you did not vote, and no delegation of yours applied.")
}

// handles writes a chain of handles: "@a, then @b".
func handles(hs []string) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = "@" + h
	}
	return strings.Join(out, " then ")
}

// whyNotElectorate explains to m why she is not in p's frozen electorate.
func whyNotElectorate(p *govern.Proposal, m coop.Member) string {
	voting := slices.ContainsFunc(p.Classes, func(c vote.Class) bool { return c.Key == m.Class })
	switch {
	case !voting:
		return "Your class does not vote on this proposal."
	case p.OpenedAt != nil && m.JoinedAt.After(*p.OpenedAt):
		return "You joined after this proposal opened, so you are not in its electorate."
	}
	return "You were not in this proposal's electorate when it opened."
}

func quorumText(q vote.Quorum) string {
	var parts []string
	if q.Percent > 0 {
		parts = append(parts, fmt.Sprintf("%d%% of the electorate", q.Percent))
	}
	if q.Count > 0 {
		parts = append(parts, fmt.Sprintf("%d members", q.Count))
	}
	if q.ClassPercent > 0 {
		parts = append(parts, fmt.Sprintf("%d%% inside every class", q.ClassPercent))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " and ")
}

func newBallotForm(p *govern.Proposal, in *govern.BallotInput) *ballotForm {
	f := &ballotForm{}
	m := p.Method
	var cur govern.BallotInput
	if in != nil {
		cur = *in
	}
	switch {
	case m == vote.Consent || m == vote.YesNo || (m == vote.Choice && p.Params.MaxChoices <= 1):
		f.Kind = "single"
	case m == vote.Choice || m == vote.Approval:
		f.Kind = "multi"
		if m == vote.Choice {
			f.Help = fmt.Sprintf("Choose up to %d.", p.Params.MaxChoices)
		} else {
			f.Help = "Tick every option you approve of."
		}
	case m == vote.Meeting:
		f.Kind = "meeting"
	case m.Scored():
		f.Kind, f.Min, f.Max = "score", p.Params.ScoreMin, p.Params.ScoreMax
		if m == vote.Dot {
			f.Min, f.Max = 0, p.Params.Points
			f.Help = fmt.Sprintf("Share out up to %d points in all.", p.Params.Points)
		} else {
			f.Help = fmt.Sprintf("Give each option %d to %d; an option left empty gets %d.", f.Min, f.Max, f.Min)
		}
	case m.Ranked():
		f.Kind = "rank"
		f.Help = "Number the options in order of preference, 1 for your first choice. Leave an option empty to not rank it."
		if m == vote.Schulze {
			f.Help += " The same number ranks options level."
		}
	}
	rank := map[string]int{}
	for i, g := range cur.Ranking {
		for _, k := range g {
			rank[k] = i + 1
		}
	}
	for _, o := range p.Options {
		bo := ballotOption{Key: o.Key, Label: o.Label}
		switch f.Kind {
		case "single":
			bo.Checked = cur.Choice != nil && *cur.Choice == o.Key
		case "multi":
			bo.Checked = slices.Contains(cur.Choices, o.Key) || (cur.Choice != nil && *cur.Choice == o.Key)
		case "score", "meeting":
			if s, ok := cur.Scores[o.Key]; ok {
				bo.Value = strconv.Itoa(s)
			}
		case "rank":
			if n, ok := rank[o.Key]; ok {
				bo.Value = strconv.Itoa(n)
			}
		}
		f.Options = append(f.Options, bo)
	}
	return f
}

// describeBallot writes an open ballot for the list of votes.
func describeBallot(b *govern.BallotInput, options []vote.Option) string {
	label := func(k string) string {
		for _, o := range options {
			if o.Key == k {
				return o.Label
			}
		}
		return k
	}
	switch {
	case b.Choice != nil:
		return label(*b.Choice)
	case b.Choices != nil:
		if len(b.Choices) == 0 {
			return "none"
		}
		names := make([]string, len(b.Choices))
		for i, k := range b.Choices {
			names[i] = label(k)
		}
		return strings.Join(names, ", ")
	case b.Scores != nil:
		var parts []string
		for _, o := range options {
			if s, ok := b.Scores[o.Key]; ok {
				parts = append(parts, fmt.Sprintf("%s %d", o.Label, s))
			}
		}
		return strings.Join(parts, ", ")
	case b.Ranking != nil:
		groups := make([]string, len(b.Ranking))
		for i, g := range b.Ranking {
			names := make([]string, len(g))
			for j, k := range g {
				names[j] = label(k)
			}
			groups[i] = strings.Join(names, " = ")
		}
		return strings.Join(groups, " > ")
	}
	return ""
}

// readBallot turns the vote form into a ballot for p's method.
func readBallot(p *govern.Proposal, r *http.Request) (govern.BallotInput, error) {
	f := r.PostForm
	var in govern.BallotInput
	m := p.Method
	switch {
	case m == vote.Consent || m == vote.YesNo || (m == vote.Choice && p.Params.MaxChoices <= 1):
		c := f.Get("choice")
		if c == "" {
			return in, errs.Invalid("choice", "choose one option")
		}
		in.Choice = &c
	case m == vote.Choice || m == vote.Approval:
		in.Choices = append([]string{}, f["choices"]...)
	case m.Scored():
		in.Scores = map[string]int{}
		for _, o := range p.Options {
			s := strings.TrimSpace(f.Get("score_" + o.Key))
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				return in, errs.Invalid("scores", fmt.Sprintf("%s: give a whole number", o.Label))
			}
			in.Scores[o.Key] = n
		}
	case m.Ranked():
		byRank := map[int][]string{}
		for _, o := range p.Options {
			s := strings.TrimSpace(f.Get("rank_" + o.Key))
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return in, errs.Invalid("ranking", fmt.Sprintf("%s: give a rank of 1 or more", o.Label))
			}
			byRank[n] = append(byRank[n], o.Key)
		}
		if len(byRank) == 0 {
			return in, errs.Invalid("ranking", "rank at least one option")
		}
		ranks := make([]int, 0, len(byRank))
		for n := range byRank {
			ranks = append(ranks, n)
		}
		sort.Ints(ranks)
		in.Ranking = govern.Ranking{}
		for _, n := range ranks {
			in.Ranking = append(in.Ranking, byRank[n])
		}
	default:
		return in, errs.Invalid("ballot", "this proposal takes no ballot here")
	}
	return in, nil
}

func (h *handler) castBallot(w http.ResponseWriter, r *http.Request) error {
	me, p, c, err := h.proposal(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	in, err := readBallot(p, r)
	if err == nil {
		_, err = h.Govern.Cast(r.Context(), me, p.ID, in)
	}
	if fields, ok := fieldErrors(err); ok {
		d, derr := h.proposalPage(r, me, p, c, &in)
		if derr != nil {
			return derr
		}
		d.BallotErrs = fields
		return h.render(w, r, http.StatusUnprocessableEntity, "proposal_show", p.Title, d)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/proposals/%d?voted=1#vote", p.ID))
}

func (h *handler) closeProposal(w http.ResponseWriter, r *http.Request) error {
	return h.changeProposal(w, r, h.Govern.Close)
}

func (h *handler) cancelProposal(w http.ResponseWriter, r *http.Request) error {
	return h.changeProposal(w, r, h.Govern.Cancel)
}

func (h *handler) publishProposal(w http.ResponseWriter, r *http.Request) error {
	return h.changeProposal(w, r, h.Govern.Publish)
}

// changeProposal runs one of the author's or secretary's actions on the
// proposal of the path and shows the proposal again.
func (h *handler) changeProposal(w http.ResponseWriter, r *http.Request,
	do func(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*govern.Proposal, error)) error {
	me, p, c, err := h.proposal(r)
	if err != nil {
		return err
	}
	if _, err := do(r.Context(), c, me, p.ID); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/proposals/%d", p.ID))
}
