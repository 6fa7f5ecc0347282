// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"
	"strings"

	"opencoop/internal/auth"
)

func (h *handler) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in auth.NewAccount
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := h.Auth.CreateAccount(r.Context(), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"id": a.ID, "handle": a.Handle, "name": a.Name, "is_admin": a.IsAdmin})
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Handle   string `json:"handle"`
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	tok, a, err := h.Auth.SignIn(r.Context(), in.Handle, in.Password, auth.API)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "handle": a.Handle})
}

func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.account(r); err != nil {
		return err
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err := h.Auth.SignOut(r.Context(), strings.TrimSpace(tok)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) error {
	a, err := h.account(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}
