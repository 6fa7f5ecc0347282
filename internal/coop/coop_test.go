// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package coop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/storetest"
)

type world struct {
	now   time.Time
	auth  *auth.Service
	coops *coop.Service
}

func newWorld(t *testing.T) *world {
	db := storetest.Open(t)
	w := &world{now: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.auth, w.coops = auth.NewService(db, clock), &coop.Service{DB: db, Now: clock}
	return w
}

func (w *world) person(t *testing.T, h string) auth.Account {
	a, err := w.auth.CreateAccount(context.Background(), auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPresetsWeighTo100(t *testing.T) {
	for _, name := range coop.PresetNames {
		var sum int64
		for _, c := range coop.Presets[name] {
			if c.Votes {
				sum += c.Weight
			}
		}
		if sum != 100 {
			t.Errorf("preset %s: voting weights sum to %d", name, sum)
		}
	}
}

func TestFoundAndInvitations(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ada, bob, cat, dan := w.person(t, "ada"), w.person(t, "bob"), w.person(t, "cat"), w.person(t, "dan")
	c, err := w.coops.Found(ctx, ada, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "fairshares", FounderClass: "labour"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.coops.RequireSecretary(ctx, c, ada.ID)
	if err != nil || m.Class != "labour" {
		t.Fatalf("founder = %+v, %v; want a secretary in labour", m, err)
	}
	if _, err := w.coops.Invite(ctx, c, bob, coop.NewInvitation{Class: "users"}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("non-member invites: %v, want forbidden", err)
	}
	two := 2
	exp := w.now.Add(time.Hour)
	inv, err := w.coops.Invite(ctx, c, ada, coop.NewInvitation{Class: "users", Uses: &two, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []auth.Account{bob, cat} {
		if m, err := w.coops.Join(ctx, c, p, inv.Code); err != nil || m.Class != "users" {
			t.Errorf("%s joins: %+v, %v", p.Handle, m, err)
		}
	}
	if _, err := w.coops.Join(ctx, c, dan, inv.Code); err == nil {
		t.Error("a two-use code admitted a third person")
	}
	if _, err := w.coops.Join(ctx, c, bob, inv.Code); err == nil {
		t.Error("a member joined twice")
	}
	inv2, _ := w.coops.Invite(ctx, c, ada, coop.NewInvitation{Class: "investors", ExpiresAt: &exp})
	w.now = w.now.Add(2 * time.Hour)
	if _, err := w.coops.Join(ctx, c, dan, inv2.Code); err == nil {
		t.Error("an expired code admitted someone")
	}
	ms, _ := w.coops.Members(ctx, c, false)
	if len(ms) != 3 {
		t.Errorf("%d members, want 3", len(ms))
	}

	// The last secretary cannot leave a co-op with other members, nor
	// remove her own role.
	if err := w.coops.Leave(ctx, c, ada); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("last secretary leaves: %v, want conflict", err)
	}
	no := false
	if _, err := w.coops.UpdateMember(ctx, c, ada, "ada", coop.MemberUpdate{Secretary: &no}); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("last secretary steps down: %v, want conflict", err)
	}
	yes := true
	if _, err := w.coops.UpdateMember(ctx, c, ada, "bob", coop.MemberUpdate{Secretary: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := w.coops.Leave(ctx, c, ada); err != nil {
		t.Errorf("secretary leaves after appointing another: %v", err)
	}
	if _, err := w.coops.RequireMember(ctx, c, ada.ID); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a member who left still counts: %v", err)
	}
	// Coming back with a new invitation revives the membership.
	inv3, err := w.coops.Invite(ctx, c, bob, coop.NewInvitation{Class: "founders"})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := w.coops.Join(ctx, c, ada, inv3.Code); err != nil || m.Class != "founders" || m.Secretary {
		t.Errorf("rejoin: %+v, %v", m, err)
	}
}

// TestCoopBySlugCache: a co-op read by slug comes from memory until it
// changes, and what a caller does to her copy changes nobody else's.
func TestCoopBySlugCache(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ada := w.person(t, "ada")
	if _, err := w.coops.Found(ctx, ada, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "fairshares",
		FounderClass: "labour"}); err != nil {
		t.Fatal(err)
	}
	first, err := w.coops.CoopBySlug(ctx, "Mill")
	if err != nil {
		t.Fatal(err)
	}
	classes := len(first.Classes)
	first.Name, first.Classes[0].Weight = "scribbled", -1
	first.Classes = append(first.Classes, coop.Class{Key: "extra"})
	again, err := w.coops.CoopBySlug(ctx, "mill")
	if err != nil || again.Name != "Mill" || len(again.Classes) != classes || again.Classes[0].Weight < 0 {
		t.Fatalf("second read = %+v, %v; a caller's changes leaked into the cache", again, err)
	}
	seven := 7
	if _, err := w.coops.UpdateSettings(ctx, again, ada, coop.Settings{NoticeDays: &seven}); err != nil {
		t.Fatal(err)
	}
	after, err := w.coops.CoopBySlug(ctx, "mill")
	if err != nil || after.NoticeDays != 7 {
		t.Errorf("after UpdateSettings notice_days = %d, %v; want 7", after.NoticeDays, err)
	}
}
