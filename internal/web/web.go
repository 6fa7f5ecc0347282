// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package web serves opencoop's HTML pages: server-rendered with
// html/template, one page per thing a member does, working fully without
// JavaScript. Its handlers parse a form, make one domain call and render
// or redirect; the rules live in the domain packages. Sessions are a
// cookie holding an auth.Session token; cross-site request forgery is
// refused by the server's http.CrossOriginProtection in front of it.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
)

type handler struct {
	*app.Services
	tmpl *templates
}

// Register adds every page route and the static files to mux.
func Register(mux *http.ServeMux, s *app.Services) {
	h := &handler{Services: s, tmpl: mustParseTemplates()}
	handle := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, h.adapt(fn))
	}
	handle("GET /{$}", h.home)
	handle("GET /signup", h.signUpForm)
	handle("POST /signup", h.signUp)
	handle("GET /signin", h.signInForm)
	handle("POST /signin", h.signIn)
	handle("POST /signout", h.signOut)
	handle("GET /coops/new", h.foundForm)
	handle("POST /coops/new", h.found)
	handle("GET /coops/{slug}", h.showCoop)
	handle("POST /coops/{slug}/leave", h.leave)
	handle("GET /coops/{slug}/members", h.listMembers)
	handle("POST /coops/{slug}/members/{handle}", h.updateMember)
	handle("GET /coops/{slug}/invitations", h.listInvitations)
	handle("POST /coops/{slug}/invitations", h.createInvitation)
	handle("GET /coops/{slug}/audit", h.listAudit)
	handle("GET /coops/{slug}/proposals/new", h.proposalForm)
	handle("POST /coops/{slug}/proposals/new", h.createProposal)
	handle("GET /join", h.joinCode)
	handle("GET /join/{code}", h.joinForm)
	handle("POST /join/{code}", h.join)
	handle("GET /proposals/{id}", h.showProposal)
	handle("POST /proposals/{id}/ballot", h.castBallot)
	handle("POST /proposals/{id}/close", h.closeProposal)
	handle("POST /proposals/{id}/cancel", h.cancelProposal)
	handle("POST /proposals/{id}/publish", h.publishProposal)
	h.registerDelegation(handle)
	h.registerMeetings(handle)
	h.registerLedger(handle)
	h.registerPool(handle)
	h.registerBudget(handle)
	h.registerShares(handle)
	// Everything no other route claims is a page that does not exist;
	// answer with the site's own 404 page rather than plain text.
	handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("there is no page at %s: %w", r.URL.Path, errs.ErrNotFound)
	})
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// httpError is an error with its own status, for failures the domain
// packages do not name (a malformed path or form value).
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// adapt turns a handler's error into an error page with the right status:
// 404, 409, 403, 422, a redirect to the sign-in page when the visitor must
// sign in first, and 500 for everything else, logged once and never shown.
func (h *handler) adapt(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		if errors.Is(err, errs.ErrUnauthenticated) {
			next := "/"
			if r.Method == http.MethodGet {
				next = r.URL.RequestURI()
			} else if ref, err := url.Parse(r.Referer()); err == nil && ref.Path != "" {
				next = ref.Path
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		e := errorPage{Status: http.StatusInternalServerError, Message: "Something went wrong on our side. Please try again later."}
		var he *httpError
		if ve, ok := errors.AsType[*errs.ValidationError](err); ok {
			e.Status, e.Message, e.Fields = http.StatusUnprocessableEntity, "Some of what was sent is not right.", ve.Fields
		} else if errors.As(err, &he) {
			e.Status, e.Message = he.status, he.msg
		} else {
			for _, m := range []struct {
				err    error
				status int
			}{
				{errs.ErrNotFound, http.StatusNotFound},
				{errs.ErrConflict, http.StatusConflict},
				{errs.ErrForbidden, http.StatusForbidden},
			} {
				if errors.Is(err, m.err) {
					e.Status, e.Message = m.status, message(err, m.err)
					break
				}
			}
		}
		if e.Status == http.StatusInternalServerError {
			h.Logger.Error("page request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		e.Title = http.StatusText(e.Status)
		if rerr := h.render(w, r, e.Status, "error", e.Title, e); rerr != nil {
			h.Logger.Error("rendering the error page", "err", rerr)
			http.Error(w, e.Message, e.Status)
		}
	})
}

// message is a domain error's text without the sentinel's own words: the
// domain packages write it for members to read.
func message(err, sentinel error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
	if msg == "" || msg == sentinel.Error() {
		return http.StatusText(map[error]int{errs.ErrNotFound: 404, errs.ErrConflict: 409, errs.ErrForbidden: 403}[sentinel])
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

type errorPage struct {
	Title   string
	Status  int
	Message string
	Fields  map[string]string
}

// page is what every template receives: the signed-in account (nil for a
// visitor), the page title and the page's own data.
type page struct {
	Me    *auth.Account
	Title string
	Data  any
}

// render executes the page template name into a buffer first, so that a
// template failure becomes a clean 500 rather than half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) error {
	p := page{Me: h.optionalMe(r), Title: title, Data: data}
	var buf bytes.Buffer
	if err := h.tmpl.execute(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// redirect answers a successful form with 303 See Other, so reloading the
// next page does not send the form again.
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// SessionCookie names the cookie that holds the browser session token.
const SessionCookie = "opencoop_session"

type meKey struct{}

// optionalMe returns the signed-in account, or nil for a visitor.
func (h *handler) optionalMe(r *http.Request) *auth.Account {
	if a, ok := r.Context().Value(meKey{}).(*auth.Account); ok {
		return a
	}
	var me *auth.Account
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if a, err := h.Auth.Authenticate(r.Context(), c.Value, auth.Session); err == nil {
			me = &a
		}
	}
	*r = *r.WithContext(context.WithValue(r.Context(), meKey{}, me))
	return me
}

// me returns the signed-in account or errs.ErrUnauthenticated, which the
// adapter turns into a redirect to the sign-in page.
func (h *handler) me(r *http.Request) (auth.Account, error) {
	if a := h.optionalMe(r); a != nil {
		return *a, nil
	}
	return auth.Account{}, errs.ErrUnauthenticated
}

func (h *handler) setSession(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(h.Auth.SessionTTL / time.Second)})
}

func (h *handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// now is the domain services' clock, so tests that fix it see the same
// time in forms' defaults.
func (h *handler) now() time.Time {
	if h.Govern != nil && h.Govern.Now != nil {
		return h.Govern.Now().UTC()
	}
	return time.Now().UTC()
}

// coop loads the co-op named by the path's slug.
func (h *handler) coop(r *http.Request) (*coop.Coop, error) {
	return h.Coops.CoopBySlug(r.Context(), r.PathValue("slug"))
}

// caller returns the signed-in account and the co-op named in the path.
func (h *handler) caller(r *http.Request) (auth.Account, *coop.Coop, error) {
	me, err := h.me(r)
	if err != nil {
		return me, nil, err
	}
	c, err := h.coop(r)
	return me, c, err
}

// callerAndID returns the signed-in member's account, the co-op of the
// path and the path's {id}, which names an object of the co-op called
// what in errors.
func (h *handler) callerAndID(r *http.Request, what string) (auth.Account, *coop.Coop, int64, error) {
	me, c, err := h.caller(r)
	if err != nil {
		return me, nil, 0, err
	}
	id, err := pathInt64(r, "id", what)
	return me, c, id, err
}

// localNext returns next if it is a path on this site, else "/": the
// sign-in page must not send anyone elsewhere.
func localNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// parseForm reads a urlencoded form of bounded size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return badRequest("the form could not be read")
	}
	return nil
}

// fieldErrors returns a validation error's field messages, or nil and
// false for any other error.
func fieldErrors(err error) (map[string]string, bool) {
	if ve, ok := errors.AsType[*errs.ValidationError](err); ok {
		return ve.Fields, true
	}
	return nil, false
}

// localInput is the layout of an <input type="datetime-local">; pages read
// and write it as UTC.
const localInput = "2006-01-02T15:04"
