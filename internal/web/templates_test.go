// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"bytes"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/govern"
	"opencoop/internal/vote"
)

// TestTemplatesExecute parses every template and executes every page with
// representative data, so a misspelt field or a missing partial fails here
// rather than in front of a member (as Gitea's compile test does).
func TestTemplatesExecute(t *testing.T) {
	tm, err := parseTemplates(templateFS)
	if err != nil {
		t.Fatalf("parseTemplates: %v", err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Preset: "somerset", CreatedAt: now,
		Classes: []coop.Class{{Key: "workers", Name: "Workers", Weight: 60, Votes: true}, {Key: "users", Name: "Users", Weight: 40, Votes: true},
			{Key: "friends", Name: "Friends"}}}
	m := coop.Member{Handle: "ada", Name: "Ada", Class: "workers", State: coop.StateMember, Secretary: true, JoinedAt: now}
	yes, no := true, false
	p := &govern.Proposal{ID: 7, Title: "Open on Sundays?", Body: "Text", Method: vote.YesNo, Options: vote.FixedOptions(vote.YesNo),
		Weighting: vote.Classes, EmptyClass: vote.Abstain, ClassMajority: true, Quorum: vote.Quorum{Percent: 25}, Pass: vote.Ordinary,
		State: govern.StateClosed, ClosesAt: now, CreatedAt: now, OpenedAt: &now, ClosedAt: &now, Author: "ada",
		Classes: []vote.Class{{Key: "workers", Weight: 60}, {Key: "users", Weight: 40}}}
	support := vote.NumOf(2, 3)
	p.Result = &vote.Result{Method: vote.YesNo, Outcome: vote.Passed, Winners: []string{"yes"}, Support: &support,
		Weighted: map[string]vote.Num{"yes": vote.NumOf(200, 3), "no": vote.NumOf(100, 3), "abstain": vote.NumOf(0, 1)},
		Classes: map[string]*vote.ClassCount{
			"workers": {Weight: 60, Electorate: 2, Ballots: 2, Valid: 2, Counts: map[string]int64{"yes": 2}, Majority: &yes},
			"users":   {Weight: 40, Electorate: 2, Ballots: 1, Valid: 1, Counts: map[string]int64{"no": 1}, Majority: &no}},
		Participation: &vote.Participation{Electorate: 4, Members: 4, Voted: 3, Voters: 3, Required: 1, Quorate: true},
		Rule:          "yes > 1/2 of cast", Seed: "ab", TieBroken: []string{"yes"},
		Rounds: []vote.Round{{Number: 1, Counts: map[string]vote.Num{"yes": vote.NumOf(1, 1)}, Elected: []string{"yes"}}}}
	open := *p
	open.State, open.Result, open.ClosedAt = govern.StateOpen, nil, nil
	show := func(p *govern.Proposal, kind string) *proposalPage {
		d := &proposalPage{P: p, Coop: c, Member: m, Rule: p.Pass.String(), Quorum: quorumText(p.Quorum), CanManage: true, IsAuthor: true,
			Votes: []voteRow{{Handle: "ada", Class: "workers", What: "Yes", CastAt: "1 Mar"}}, BallotErrs: map[string]string{"choice": "choose"}}
		if p.Result != nil {
			d.Result = newResultView(p)
		}
		if kind != "" {
			d.Ballot = &ballotForm{Kind: kind, Max: 5, Help: "help", Options: []ballotOption{{Key: "yes", Label: "Yes", Checked: true, Value: "1"}}}
			d.Voted = true
		}
		return d
	}
	inv := invitationRow{Invitation: coop.Invitation{Code: "abc", Class: "users", MaxUses: 1, ExpiresAt: &now, CreatedAt: now}, URL: "http://x/join/abc", Usable: true}
	cases := map[string][]any{
		"home":     {homePage{Mine: []coop.Summary{{Slug: "river", Name: "River", Class: "workers", Members: 3}}, All: []coop.Summary{{Slug: "river"}}}, homePage{}},
		"signup":   {accountForm{Handle: "ada", Errors: map[string]string{"handle": "bad"}}, accountForm{}},
		"signin":   {accountForm{Problem: "wrong"}},
		"error":    {errorPage{Title: "Not Found", Status: 404, Message: "no", Fields: map[string]string{"a": "b"}}},
		"coop_new": {foundForm{Presets: coop.PresetNames, Preset: "open", Classes: withBlankRow(presetRows("somerset")), Errors: map[string]string{"slug": "bad"}}},
		"coop_show": {coopPage{Coop: c, Member: &m, Members: 3, ByClass: map[string]int{"workers": 2}, Open: []*govern.Proposal{&open},
			Drafts: []*govern.Proposal{&open}, Closed: []*govern.Proposal{p}}, coopPage{Coop: c}},
		"members": {membersPage{Coop: c, Me: m, States: []string{"member", "left"},
			Groups: []memberGroup{{Class: c.Classes[0], Members: []coop.Member{m, {Handle: "bo", State: coop.StateSuspended}}}, {Class: c.Classes[2]}}}},
		"invitations": {invitationsPage{Coop: c, Invitations: []invitationRow{inv}, Spent: []invitationRow{inv}, New: "abc", Uses: "1",
			Errors: map[string]string{"uses": "bad"}}, invitationsPage{Coop: c}},
		"join": {joinPage{Coop: c, Class: c.Classes[0], Code: "abc", Next: "/join/abc"}, joinPage{Coop: c, Member: &m}},
		"proposal_new": {proposalForm{Coop: c, Methods: methodChoices(), Passes: passChoices, Method: "yesno",
			Errors: map[string]string{"title": "bad", "seats": "bad"}}},
		"proposal_show": {show(p, ""), show(&open, "single"), show(&open, "multi"), show(&open, "score"), show(&open, "meeting"),
			show(&open, "rank"), show(&open, "")},
		"delegations": {delegationsPage{Coop: c, Member: m, Mine: []delegationRow{{Delegation: govern.Delegation{From: "ada", Scope: "coop", CreatedAt: now},
			Where: "everything", Change: "/coops/river/delegations?scope=coop"}}, ToMe: []delegationRow{{Delegation: govern.Delegation{From: "bo",
			Scope: "proposal", Proposal: 7, CreatedAt: now}, Where: "proposal #7", Link: "/proposals/7"}}, Carried: 1,
			Trustees: []choice{{"bo", "Bo"}}, Topics: []string{"bakery"}, Proposals: []choice{{"7", "#7"}}, Form: delegationForm{Scope: "topic"},
			Errors: map[string]string{"to": "bad"}, Problem: "no", Done: "yes"}, delegationsPage{Coop: &coop.Coop{Slug: "off"}}},
		"audit": {auditPage{Coop: c, Events: []audit.Event{{Seq: 1, At: now, Action: "coop.founded", Payload: []byte(`{"a":1}`), Hash: "abcdef0123456789"}},
			Older: 1, Newer: true}},
		"pool":        poolPageSamples(),
		"round_list":  roundListSamples(),
		"round_show":  roundShowSamples(),
		"bucket_show": bucketShowSamples(),

		"offers":             offersSamples(),
		"offer_new":          offerNewSamples(),
		"offer_show":         offerShowSamples(),
		"shares":             sharesPageSamples(),
		"shares_register":    sharesRegisterSamples(),
		"shares_withdrawals": sharesWithdrawalsSamples(),
	}
	maps.Copy(cases, meetingPageCases())
	maps.Copy(cases, ledgerPageCases())
	for name := range tm.pages {
		if _, ok := cases[name]; !ok {
			t.Errorf("page %q has no test data here; add it", name)
		}
	}
	me := &auth.Account{Handle: "ada"}
	for name, datas := range cases {
		for i, d := range datas {
			for _, who := range []*auth.Account{me, nil} {
				var buf bytes.Buffer
				if err := tm.execute(&buf, name, page{Me: who, Title: "T", Data: d}); err != nil {
					t.Errorf("execute %s #%d: %v", name, i, err)
					continue
				}
				if !strings.Contains(buf.String(), "</html>") {
					t.Errorf("execute %s #%d: the page is cut short", name, i)
				}
			}
		}
	}
	if err := tm.execute(io.Discard, "home", page{Data: homePage{}}); err != nil {
		t.Errorf("execute home for a visitor: %v", err)
	}
}
