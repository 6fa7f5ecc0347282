// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package demo creates a demo co-op to look around in: a bakery run under
// the Somerset Rules with three classes, a dozen members and open and closed
// proposals. It goes through the same domain services as every user, so the
// demo's audit log is real.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/meeting"
	"opencoop/internal/vote"
)

// The demo's slug, members and their shared password.
const (
	Slug     = "riverside"
	Password = "demo-password"
)

// Handles are the demo members; the first founded the co-op.
var Handles = []string{"ada", "ben", "chloe", "dev", "ema", "farid", "gwen", "hugo", "ines", "jun", "kofi", "lena"}

// classOf puts four members in each class.
func classOf(i int) string { return []string{"workers", "users", "supporters"}[i%3] }

// Seed creates the demo co-op unless it exists, and reports whether it did.
func Seed(ctx context.Context, s *app.Services) (bool, error) {
	if _, err := s.Coops.CoopBySlug(ctx, Slug); err == nil {
		return false, nil
	} else if !errors.Is(err, errs.ErrNotFound) {
		return false, err
	}
	accounts := make([]auth.Account, len(Handles))
	for i, h := range Handles {
		a, err := s.Auth.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: titled(h), Email: h + "@riverside.example", Password: Password})
		if errors.Is(err, errs.ErrConflict) {
			a, err = s.Auth.AccountByHandle(ctx, h)
		}
		if err != nil {
			return false, fmt.Errorf("demo: account %s: %w", h, err)
		}
		accounts[i] = a
	}
	c, err := s.Coops.Found(ctx, accounts[0], coop.NewCoop{
		Slug: Slug, Name: "Riverside Bakery", Preset: "somerset", FounderClass: "workers",
		Purpose: "Bake good bread for the neighbourhood at fair prices, pay the bakers a living wage, and keep the old mill open for everyone.",
		Classes: []coop.ClassSpec{
			{Key: "workers", Name: "Bakers and staff", Weight: 50},
			{Key: "users", Name: "Customers", Weight: 30},
			{Key: "supporters", Name: "Supporters and investors", Weight: 20},
		},
	})
	if err != nil {
		return false, fmt.Errorf("demo: found: %w", err)
	}
	for i := 1; i < len(accounts); i++ {
		one := 1
		inv, err := s.Coops.Invite(ctx, c, accounts[0], coop.NewInvitation{Class: classOf(i), Uses: &one})
		if err != nil {
			return false, fmt.Errorf("demo: invite: %w", err)
		}
		if _, err := s.Coops.Join(ctx, c, accounts[i], inv.Code); err != nil {
			return false, fmt.Errorf("demo: join %s: %w", Handles[i], err)
		}
	}
	// Liquid delegation (RULES.md 2.4): lena and kofi trust ada on
	// everything, kofi trusts ben on supplies instead, and jun trusts lena,
	// so her vote reaches ada through a chain.
	n := len(accounts)
	delegations := []struct {
		from, to int
		scope    govern.DelegationScope
	}{
		{n - 1, 0, govern.DelegationScope{Scope: "coop"}},
		{n - 2, 0, govern.DelegationScope{Scope: "coop"}},
		{n - 2, 1, govern.DelegationScope{Scope: "topic", Topic: "supplies"}},
		{n - 3, n - 1, govern.DelegationScope{Scope: "coop"}},
	}
	for _, d := range delegations {
		to := Handles[d.to]
		if _, err := s.Govern.Delegate(ctx, c, accounts[d.from], govern.SetDelegation{To: &to, DelegationScope: d.scope}); err != nil {
			return false, fmt.Errorf("demo: %s delegates: %w", Handles[d.from], err)
		}
	}
	week := s.Govern.Now().Add(7 * 24 * time.Hour)
	type ballot = govern.BallotInput
	choice := func(s string) ballot { return ballot{Choice: &s} }
	proposals := []struct {
		n       govern.NewProposal
		ballots map[int]ballot
		close   bool
	}{
		{govern.NewProposal{Title: "Open on Sundays", Method: vote.YesNo, Weighting: "classes", QuorumPercent: 25,
			Body: "Open the shop from 8 to 12 on Sundays from next month; two bakers on a rota."},
			map[int]ballot{0: choice("no"), 1: choice("yes"), 2: choice("yes"), 3: choice("no"), 4: choice("yes"),
				5: choice("yes"), 6: choice("no"), 7: choice("yes"), 8: choice("yes"), 9: choice("abstain")}, true},
		{govern.NewProposal{Title: "Which flour mill do we buy from?", Method: vote.Choice, Topic: "supplies",
			Options: []vote.Option{{Key: "hartley", Label: "Hartley's (organic, local)"}, {Key: "bigmill", Label: "Big Mill Ltd (cheaper)"}, {Key: "coopmill", Label: "The co-op mill in Dunmore"}}},
			map[int]ballot{0: choice("coopmill"), 1: choice("hartley"), 2: choice("coopmill"), 3: choice("coopmill"),
				4: choice("hartley"), 5: choice("bigmill"), 6: choice("coopmill"), 10: choice("hartley")}, true},
		{govern.NewProposal{Title: "Adopt the new baking rota", Method: vote.Consent, Topic: "rota",
			Body: "The rota in the shared folder: early shifts rotate weekly, nobody bakes more than four early shifts in a row."},
			map[int]ballot{0: choice("agree"), 3: choice("agree"), 6: choice("abstain")}, false},
		{govern.NewProposal{Title: "Rate next season's loaves", Method: vote.Score,
			Options: []vote.Option{{Key: "rye", Label: "Dark rye"}, {Key: "spelt", Label: "Spelt and honey"}, {Key: "sour", Label: "Country sourdough"}}},
			map[int]ballot{1: {Scores: map[string]int{"rye": 4, "spelt": 2, "sour": 5}}}, false},
		{govern.NewProposal{Title: "Elect Ines as treasurer", Method: vote.YesNo, Secret: true,
			Body: "Secret ballot: who voted is shown after close, never what."}, map[int]ballot{2: choice("yes")}, false},
	}
	for _, pr := range proposals {
		pr.n.ClosesAt = week
		p, err := s.Govern.Create(ctx, c, accounts[0], pr.n)
		if err != nil {
			return false, fmt.Errorf("demo: propose %q: %w", pr.n.Title, err)
		}
		for i, b := range pr.ballots {
			if _, err := s.Govern.Cast(ctx, accounts[i], p.ID, b); err != nil {
				return false, fmt.Errorf("demo: %s votes on %q: %w", Handles[i], pr.n.Title, err)
			}
		}
		if pr.close {
			if _, err := s.Govern.Close(ctx, c, accounts[0], p.ID); err != nil {
				return false, fmt.Errorf("demo: close %q: %w", pr.n.Title, err)
			}
		}
	}
	// A general meeting called with the co-op's notice, with a resolution
	// open for remote voting and one proxy.
	m, err := s.Meetings.Create(ctx, c, accounts[0], meeting.NewMeeting{Title: "Winter general meeting", Kind: meeting.KindGeneral,
		StartsAt: s.Govern.Now().Add(time.Duration(c.NoticeDays+1) * 24 * time.Hour),
		Agenda: []meeting.NewItem{{Title: "Welcome and apologies"},
			{Title: "A second oven", Resolution: &meeting.Resolution{Title: "Buy a second oven", Kind: "ordinary",
				Body: "That the co-op buys a second deck oven, within the budget the treasurer presented."}}}})
	if err != nil {
		return false, fmt.Errorf("demo: call a meeting: %w", err)
	}
	if _, err := s.Meetings.AppointProxy(ctx, accounts[5], m.ID, meeting.NewProxy{Holder: Handles[0]}); err != nil {
		return false, fmt.Errorf("demo: appoint a proxy: %w", err)
	}
	return true, nil
}

func titled(h string) string { return string(h[0]-'a'+'A') + h[1:] }
