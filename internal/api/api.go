// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package api serves the JSON API under /api/v1 with bearer tokens. Its
// handlers parse, validate, make one domain call and answer; the rules live
// in the domain packages. Every route is listed in the OpenAPI document
// served at /api/v1/openapi.json (a test holds the two together).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"opencoop/internal/app"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
)

type handler struct {
	*app.Services
	routes []string
}

// Routes returns the "METHOD /path" patterns the API registers, for the
// OpenAPI test.
func Routes() []string {
	h := &handler{Services: &app.Services{}}
	h.register(http.NewServeMux())
	return h.routes
}

// Register adds the API's routes to mux.
func Register(mux *http.ServeMux, s *app.Services) {
	h := &handler{Services: s}
	h.register(mux)
}

func (h *handler) register(mux *http.ServeMux) {
	handle := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		method, path, _ := strings.Cut(pattern, " ")
		h.routes = append(h.routes, method+" "+path)
		mux.Handle(method+" /api/v1"+path, h.adapt(fn))
	}
	handle("GET /openapi.json", h.openAPI)
	handle("POST /accounts", h.createAccount)
	handle("POST /tokens", h.createToken)
	handle("DELETE /tokens", h.deleteToken)
	handle("GET /me", h.me)
	handle("GET /coops", h.listCoops)
	handle("POST /coops", h.foundCoop)
	handle("GET /coops/{slug}", h.showCoop)
	handle("POST /coops/{slug}/invitations", h.createInvitation)
	handle("GET /coops/{slug}/invitations", h.listInvitations)
	handle("POST /coops/{slug}/members", h.join)
	handle("GET /coops/{slug}/members", h.listMembers)
	handle("DELETE /coops/{slug}/members/me", h.leave)
	handle("PATCH /coops/{slug}/members/{handle}", h.updateMember)
	handle("POST /coops/{slug}/proposals", h.createProposal)
	handle("GET /coops/{slug}/proposals", h.listProposals)
	handle("GET /coops/{slug}/audit", h.listAudit)
	handle("GET /proposals/{id}", h.showProposal)
	handle("POST /proposals/{id}/publish", h.publishProposal)
	handle("POST /proposals/{id}/cancel", h.cancelProposal)
	handle("POST /proposals/{id}/close", h.closeProposal)
	handle("PUT /proposals/{id}/ballot", h.castBallot)
	handle("GET /proposals/{id}/ballot", h.myBallot)
	handle("GET /proposals/{id}/ballots", h.listBallots)
	handle("GET /proposals/{id}/result", h.result)
	handle("GET /proposals/{id}/export", h.export)
	h.registerDelegation(handle)
	h.registerMeetings(handle)
	h.registerLedger(handle)
	h.registerPool(handle)
	h.registerBudget(handle)
	h.registerShares(handle)
	mux.Handle("/api/v1/", h.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("no API route %s %s: %w", r.Method, r.URL.Path, errs.ErrNotFound)
	}))
}

// httpError is an error with its own status and code, for failures the
// domain packages do not name (bad JSON, bad path values).
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...)}
}

// adapt turns a handler's error into the JSON error of DESIGN.md, logging
// internal errors once and never showing their text to the client.
func (h *handler) adapt(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		status, code, msg := http.StatusInternalServerError, "internal", "something went wrong on our side"
		var fields map[string]string
		var he *httpError
		if ve, ok := errors.AsType[*errs.ValidationError](err); ok {
			status, code, msg, fields = http.StatusUnprocessableEntity, "invalid", ve.Error(), ve.Fields
		} else if errors.As(err, &he) {
			status, code, msg = he.status, he.code, he.msg
		} else {
			for _, m := range []struct {
				err    error
				status int
				code   string
			}{
				{errs.ErrNotFound, http.StatusNotFound, "not_found"},
				{errs.ErrConflict, http.StatusConflict, "conflict"},
				{errs.ErrForbidden, http.StatusForbidden, "forbidden"},
				{errs.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
			} {
				if errors.Is(err, m.err) {
					status, code, msg = m.status, m.code, strings.TrimSuffix(err.Error(), ": "+m.err.Error())
					break
				}
			}
		}
		if status == http.StatusInternalServerError {
			h.Logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="opencoop"`)
		}
		body := map[string]any{"code": code, "message": msg}
		if fields != nil {
			body["fields"] = fields
		}
		writeJSON(w, status, map[string]any{"error": body})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// maxBody bounds a request body; nothing the API takes is near it.
const maxBody = 1 << 20

// decode reads exactly one JSON object into v, refusing unknown fields,
// wrong types, trailing data and bodies over maxBody with a 400 that says
// what is wrong.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var me *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return badRequest("the request needs a JSON body")
		case errors.As(err, &se):
			return badRequest("malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te):
			return badRequest("field %q must be %s, not %s", te.Field, te.Type, te.Value)
		case errors.As(err, &me):
			return badRequest("the body is larger than %d bytes", maxBody)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return badRequest("%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return badRequest("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if d.More() {
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

type ctxKey struct{}

// account returns the caller's account from the bearer token, or
// errs.ErrUnauthenticated.
func (h *handler) account(r *http.Request) (auth.Account, error) {
	if a, ok := r.Context().Value(ctxKey{}).(auth.Account); ok {
		return a, nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return auth.Account{}, fmt.Errorf("send a bearer token (POST /api/v1/tokens makes one): %w", errs.ErrUnauthenticated)
	}
	a, err := h.Auth.Authenticate(r.Context(), strings.TrimSpace(tok), auth.API)
	if err != nil {
		return a, fmt.Errorf("the token is unknown or expired: %w", errs.ErrUnauthenticated)
	}
	*r = *r.WithContext(context.WithValue(r.Context(), ctxKey{}, a))
	return a, nil
}

// optionalAccount is account for routes open to visitors.
func (h *handler) optionalAccount(r *http.Request) *auth.Account {
	if r.Header.Get("Authorization") == "" {
		return nil
	}
	a, err := h.account(r)
	if err != nil {
		return nil
	}
	return &a
}

func pathID(r *http.Request) (int64, error) { return pathInt64(r, "id", "proposal") }

// pathInt64 reads the positive id in the path's {name}; anything else is
// a 404 naming what.
func pathInt64(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{http.StatusNotFound, "not_found", fmt.Sprintf("no %s %q", what, r.PathValue(name))}
	}
	return id, nil
}
