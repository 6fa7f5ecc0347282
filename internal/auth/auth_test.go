// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/storetest"
)

func TestPasswordHash(t *testing.T) {
	h := auth.HashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPassword = %s, want argon2id with its parameters", h)
	}
	if h == auth.HashPassword("correct horse") {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct hors", false}, {"", false}} {
		if ok, err := auth.CheckPassword(h, tc.pw); ok != tc.want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	if _, err := auth.CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Error("CheckPassword accepted a malformed hash")
	}
}

func TestAccountsAndTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	s := auth.NewService(storetest.Open(t), func() time.Time { return now })
	first, err := s.CreateAccount(ctx, auth.NewAccount{Handle: "Ada", Name: "Ada", Email: "ADA@example.org", Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.IsAdmin || first.Handle != "ada" || first.Email != "ada@example.org" {
		t.Errorf("first account = %+v, want admin with normalised handle and e-mail", first)
	}
	second, err := s.CreateAccount(ctx, auth.NewAccount{Handle: "bob", Name: "Bob", Email: "bob@example.org", Password: "password2"})
	if err != nil || second.IsAdmin {
		t.Errorf("second account = %+v, %v; want no admin", second, err)
	}
	if _, err := s.CreateAccount(ctx, auth.NewAccount{Handle: "ada", Name: "A", Email: "other@example.org", Password: "password1"}); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("taken handle: %v, want conflict", err)
	}
	_, err = s.CreateAccount(ctx, auth.NewAccount{Handle: "ann", Name: "A", Email: "ada@example.org", Password: "password1"})
	if ve, ok := errors.AsType[*errs.ValidationError](err); !ok || ve.Fields["email"] == "" {
		t.Errorf("taken e-mail: %v, want a field error", err)
	}
	_, err = s.CreateAccount(ctx, auth.NewAccount{Handle: "x", Name: "", Email: "nope", Password: "short"})
	if ve, ok := errors.AsType[*errs.ValidationError](err); !ok || len(ve.Fields) != 4 {
		t.Errorf("all fields bad: %v, want four field errors", err)
	}

	for _, pw := range []string{"wrong-password", ""} {
		if _, _, err := s.SignIn(ctx, "ada", pw, auth.API); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("SignIn with %q: %v, want unauthenticated", pw, err)
		}
	}
	if _, _, err := s.SignIn(ctx, "nobody", "password1", auth.API); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("SignIn as nobody: %v", err)
	}
	tok, _, err := s.SignIn(ctx, "ADA", "password1", auth.API)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := s.Authenticate(ctx, tok, auth.API); err != nil || a.ID != first.ID {
		t.Errorf("Authenticate = %+v, %v", a, err)
	}
	if _, err := s.Authenticate(ctx, tok, auth.Session); err == nil {
		t.Error("an API token works as a session cookie")
	}
	now = now.Add(s.TokenTTL + time.Second)
	if _, err := s.Authenticate(ctx, tok, auth.API); err == nil {
		t.Error("an expired token still works")
	}
	tok, _, _ = s.SignIn(ctx, "bob", "password2", auth.Session)
	if err := s.SignOut(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok, auth.Session); err == nil {
		t.Error("a signed-out session still works")
	}
}
