// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"net/http"
	"strings"

	"opencoop/internal/auth"
	"opencoop/internal/errs"
)

// accountForm is the sign-up and sign-in forms' data: what was typed
// (never the password) and the field messages.
type accountForm struct {
	Handle, Name, Email string
	Next                string
	Errors              map[string]string
	// Problem is a message for the whole form, e.g. a wrong password.
	Problem string
}

func (h *handler) signUpForm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "signup", "Sign up", accountForm{Next: localNext(r.URL.Query().Get("next"))})
}

func (h *handler) signUp(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := accountForm{Handle: r.PostForm.Get("handle"), Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"),
		Next: localNext(r.PostForm.Get("next"))}
	a, err := h.Auth.CreateAccount(r.Context(), auth.NewAccount{Handle: f.Handle, Name: f.Name, Email: f.Email,
		Password: r.PostForm.Get("password")})
	if fields, ok := fieldErrors(err); ok {
		f.Errors = fields
		return h.render(w, r, http.StatusUnprocessableEntity, "signup", "Sign up", f)
	}
	if errors.Is(err, errs.ErrConflict) {
		f.Errors = map[string]string{"handle": "this handle is taken; choose another"}
		return h.render(w, r, http.StatusConflict, "signup", "Sign up", f)
	}
	if err != nil {
		return err
	}
	tok, err := h.Auth.Issue(r.Context(), a, auth.Session)
	if err != nil {
		return err
	}
	h.setSession(w, tok)
	return redirect(w, r, f.Next)
}

func (h *handler) signInForm(w http.ResponseWriter, r *http.Request) error {
	return h.render(w, r, http.StatusOK, "signin", "Sign in", accountForm{Next: localNext(r.URL.Query().Get("next"))})
}

func (h *handler) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := accountForm{Handle: strings.TrimSpace(r.PostForm.Get("handle")), Next: localNext(r.PostForm.Get("next"))}
	tok, _, err := h.Auth.SignIn(r.Context(), f.Handle, r.PostForm.Get("password"), auth.Session)
	if errors.Is(err, errs.ErrUnauthenticated) {
		f.Problem = "The handle or the password is wrong."
		return h.render(w, r, http.StatusUnauthorized, "signin", "Sign in", f)
	}
	if err != nil {
		return err
	}
	h.setSession(w, tok)
	return redirect(w, r, f.Next)
}

func (h *handler) signOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := h.Auth.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	h.clearSession(w)
	return redirect(w, r, "/")
}
