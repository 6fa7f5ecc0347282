// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/storetest"
)

// now is the fixed clock of the page tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newSite serves the pages on a fresh store with a fixed clock.
func newSite(t *testing.T) *httptest.Server {
	t.Helper()
	db := storetest.Open(t)
	clock := func() time.Time { return now }
	s := app.New(db, clock, []byte("0123456789abcdef0123456789abcdef"), slog.New(slog.DiscardHandler), "http://opencoop.test")
	mux := http.NewServeMux()
	Register(mux, s)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// browser is one person's cookie jar; it does not follow redirects, so
// tests see every 303.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status   int
	body     string
	location string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(out), resp.Header.Get("Location")}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do("GET", path, nil) }
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	return b.do("POST", path, form)
}

// expect checks a response's status, redirect target and page fragments;
// a fragment starting with "!" must not appear.
func expect(t *testing.T, what string, r response, status int, location string, fragments ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, r.status, status, r.body)
	}
	if location != "" && !strings.HasPrefix(r.location, location) {
		t.Errorf("%s: redirect to %q, want %q…", what, r.location, location)
	}
	for _, f := range fragments {
		if no, ok := strings.CutPrefix(f, "!"); ok {
			if strings.Contains(r.body, no) {
				t.Errorf("%s: page holds %q, want it absent", what, no)
			}
		} else if !strings.Contains(r.body, f) {
			t.Errorf("%s: page lacks %q", what, f)
		}
	}
}

func signUp(t *testing.T, b *browser, handle string) {
	t.Helper()
	r := b.post("/signup", url.Values{"handle": {handle}, "name": {strings.ToUpper(handle[:1]) + handle[1:]},
		"email": {handle + "@example.org"}, "password": {"correct horse"}, "next": {"/"}})
	expect(t, "sign up "+handle, r, http.StatusSeeOther, "/")
}

var foundForm0 = url.Values{"slug": {"river"}, "name": {"River Bakery"}, "purpose": {"Bread for the neighbourhood."},
	"preset": {"somerset"}, "founder_class": {"workers"},
	"class_key_0": {"workers"}, "class_name_0": {"Workers"}, "class_weight_0": {"60"}, "class_votes_0": {"1"},
	"class_key_1": {"users"}, "class_name_1": {"Users"}, "class_weight_1": {"40"}, "class_votes_1": {"1"},
	"class_key_2": {""}, "class_name_2": {""}, "class_weight_2": {""}, "class_votes_2": {"1"}}

// setUp signs ada up, has her found River Bakery and invite bo, who joins.
func setUp(t *testing.T) (srv *httptest.Server, ada, bo *browser) {
	srv = newSite(t)
	ada, bo = newBrowser(t, srv), newBrowser(t, srv)
	signUp(t, ada, "ada")
	expect(t, "found", ada.post("/coops/new", foundForm0), http.StatusSeeOther, "/coops/river")
	r := ada.post("/coops/river/invitations", url.Values{"class": {"users"}, "uses": {"2"}, "expires_at": {"2026-03-10T12:00"}})
	expect(t, "invite", r, http.StatusSeeOther, "/coops/river/invitations?new=")
	code := strings.TrimPrefix(r.location, "/coops/river/invitations?new=")
	expect(t, "invitations", ada.get(r.location), http.StatusOK, "", "http://opencoop.test/join/"+code, "used 0 of 2")

	expect(t, "join as visitor", bo.get("/join/"+code), http.StatusOK, "", "Join River Bakery", "Users", "/signup?next=%2fjoin%2f"+code)
	signUp(t, bo, "bo")
	expect(t, "join page", bo.get("/join/"+code), http.StatusOK, "", `action="/join/`+code+`"`)
	expect(t, "join", bo.post("/join/"+code, url.Values{}), http.StatusSeeOther, "/coops/river")
	expect(t, "co-op as bo", bo.get("/coops/river"), http.StatusOK, "", "You are a member in <strong>users</strong>",
		"Bread for the neighbourhood.")
	return srv, ada, bo
}

var proposalForm0 = url.Values{"title": {"Open on Sundays?"}, "body": {"From May."}, "method": {"yesno"},
	"weighting": {"classes"}, "empty_class": {"redistribute"}, "quorum_percent": {"50"}, "pass": {"majority"},
	"closes_at": {"2026-03-08T12:00"}}

func propose(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	r := b.post("/coops/river/proposals/new", form)
	expect(t, "propose", r, http.StatusSeeOther, "/proposals/")
	return r.location
}

func TestFoundInviteJoinVoteClose(t *testing.T) {
	srv, ada, bo := setUp(t)
	expect(t, "home", ada.get("/"), http.StatusOK, "", "Signed in as <strong>ada</strong>", "My co-ops", "River Bakery")
	expect(t, "members", ada.get("/coops/river/members"), http.StatusOK, "", "@bo", "@ada", "secretary")

	p := propose(t, ada, proposalForm0)
	expect(t, "proposal", ada.get(p), http.StatusOK, "", "Open on Sundays?", `name="choice" value="yes"`, "Cast your vote",
		"yes &gt; 1/2 of cast", "50% of the electorate", "by class (workers 60%, users 40%)")

	expect(t, "ada votes no", ada.post(p+"/ballot", url.Values{"choice": {"no"}}), http.StatusSeeOther, p)
	expect(t, "ada's ballot shown", ada.get(p), http.StatusOK, "", `value="no" checked`, "Change your vote")
	expect(t, "ada changes to yes", ada.post(p+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, p)
	expect(t, "bo votes yes", bo.post(p+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, p)
	expect(t, "open ballots are listed", bo.get(p), http.StatusOK, "", "@ada", "— Yes", `value="yes" checked`)

	expect(t, "bo may not close", bo.post(p+"/close", url.Values{}), http.StatusForbidden, "", "Only the author or a secretary")
	expect(t, "ada closes", ada.post(p+"/close", url.Values{}), http.StatusSeeOther, p)
	expect(t, "result", bo.get(p), http.StatusOK, "", `<p class="outcome outcome-passed"><strong>passed</strong>`,
		"<svg", "Counts per class", "Weighted support: <strong>100%</strong>", "quorum needed", "Rule applied:", "!Cast your vote")
	expect(t, "vote after close", bo.post(p+"/ballot", url.Values{"choice": {"no"}}), http.StatusConflict, "", "no longer accepted")
	expect(t, "co-op lists it as decided", ada.get("/coops/river"), http.StatusOK, "", "outcome-passed")
	expect(t, "audit", ada.get("/coops/river/audit"), http.StatusOK, "", "proposal.closed", "ballot.cast", "member.joined")

	// Outsiders.
	cy := newBrowser(t, srv)
	expect(t, "visitor", cy.get(p), http.StatusSeeOther, "/signin?next="+url.QueryEscape(p))
	expect(t, "visitor sees the co-op", cy.get("/coops/river"), http.StatusOK, "", "Bread for the neighbourhood.", "!Open on Sundays?")
	signUp(t, cy, "cy")
	expect(t, "non-member proposal", cy.get(p), http.StatusForbidden, "", "Only members of River Bakery")
	expect(t, "non-member vote", cy.post(p+"/ballot", url.Values{"choice": {"yes"}}), http.StatusForbidden, "")
	expect(t, "non-member members", cy.get("/coops/river/members"), http.StatusForbidden, "")
	expect(t, "non-member audit", cy.get("/coops/river/audit"), http.StatusForbidden, "")
	expect(t, "non-secretary invitations", bo.get("/coops/river/invitations"), http.StatusForbidden, "")
	expect(t, "unknown co-op", cy.get("/coops/nowhere"), http.StatusNotFound, "")
	expect(t, "unknown proposal", ada.get("/proposals/999"), http.StatusNotFound, "")
	expect(t, "bad invitation", cy.get("/join/nope"), http.StatusNotFound, "")

	// Leaving and signing out.
	expect(t, "bo leaves", bo.post("/coops/river/leave", url.Values{}), http.StatusSeeOther, "/coops/river")
	expect(t, "bo is gone", bo.get(p), http.StatusForbidden, "")
	expect(t, "sign out", ada.post("/signout", url.Values{}), http.StatusSeeOther, "/")
	expect(t, "signed out", ada.get("/coops/new"), http.StatusSeeOther, "/signin?next=")
	expect(t, "wrong password", ada.post("/signin", url.Values{"handle": {"ada"}, "password": {"nope nope"}}), http.StatusUnauthorized, "",
		"The handle or the password is wrong.", `value="ada"`)
	expect(t, "sign in", ada.post("/signin", url.Values{"handle": {"ada"}, "password": {"correct horse"}, "next": {"/coops/river"}}),
		http.StatusSeeOther, "/coops/river")
}

func TestInvalidFormsKeepInput(t *testing.T) {
	srv, ada, _ := setUp(t)
	tests := []struct {
		name      string
		b         *browser
		path      string
		form      url.Values
		fragments []string
	}{
		{"sign up", newBrowser(t, srv), "/signup", url.Values{"handle": {"Not Valid!"}, "name": {"Dee"}, "email": {"dee@example.org"}, "password": {"short"}},
			[]string{`value="Dee"`, `value="dee@example.org"`, "use at least 8 characters", `aria-invalid="true"`}},
		{"found without purpose", ada, "/coops/new", with(foundForm0, "slug", "brook", "purpose", ""),
			[]string{`value="brook"`, `value="River Bakery"`, "every co-op states its purpose"}},
		{"found with weights off", ada, "/coops/new", with(foundForm0, "slug", "brook", "class_weight_1", "30"),
			[]string{"must sum to 100, not 90", `value="30"`}},
		{"found with a taken slug", ada, "/coops/new", foundForm0, []string{"this address is taken"}},
		{"found with a bad weight", ada, "/coops/new", with(foundForm0, "slug", "brook", "class_weight_0", "lots"),
			[]string{"give a whole number of percent", `value="lots"`}},
		{"proposal without title", ada, "/coops/river/proposals/new", with(proposalForm0, "title", ""),
			[]string{"give a title", "From May.", `<option value="yesno" selected>`, `id="w-classes" name="weighting" value="classes" checked`}},
		{"proposal closing in the past", ada, "/coops/river/proposals/new", with(proposalForm0, "closes_at", "2026-02-01T12:00"),
			[]string{"must be in the future", `value="Open on Sundays?"`}},
		{"choice with a bad option", ada, "/coops/river/proposals/new", with(proposalForm0, "method", "choice", "options", "oak: Oak\n9x: Nine"),
			[]string{"line 2 (key)", "9x: Nine"}},
		{"invitation with no uses", ada, "/coops/river/invitations", url.Values{"class": {"users"}, "uses": {"0"}},
			[]string{"give 1 to", `value="0"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.name, tc.b.post(tc.path, tc.form), http.StatusUnprocessableEntity, "", tc.fragments...)
		})
	}
}

// with returns a copy of v with pairs of keys and values set.
func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func TestSecretBallotNeverShown(t *testing.T) {
	_, ada, bo := setUp(t)
	p := propose(t, ada, with(proposalForm0, "secret", "1", "weighting", "equal", "quorum_percent", "0"))
	expect(t, "bo votes", bo.post(p+"/ballot", url.Values{"choice": {"no"}}), http.StatusSeeOther, p)
	expect(t, "bo reads back his ballot", bo.get(p), http.StatusOK, "", `value="no" checked`)
	expect(t, "ada sees nobody yet", ada.get(p), http.StatusOK, "", "secret ballot: who voted is shown when it closes", "!@bo")
	expect(t, "ada votes", ada.post(p+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, p)
	expect(t, "close", ada.post(p+"/close", url.Values{}), http.StatusSeeOther, p)
	r := ada.get(p)
	expect(t, "after close", r, http.StatusOK, "", "@bo", "@ada", "outcome-rejected", "!</span> — ")
}

func TestBallotForms(t *testing.T) {
	_, ada, bo := setUp(t)
	tests := []struct {
		method, options string
		extra           []string
		ballot          url.Values
		shown           []string
		what            string
	}{
		{"approval", "oak: Oak\nash: Ash\nelm: Elm", nil, url.Values{"choices": {"oak", "elm"}},
			[]string{`type="checkbox" id="o-oak" name="choices" value="oak" checked`, `value="ash">`}, "Oak, Elm"},
		{"score", "oak: Oak\nash: Ash", []string{"score_max", "10"}, url.Values{"score_oak": {"7"}, "score_ash": {""}},
			[]string{`name="score_oak" min="0" max="10" inputmode="numeric" value="7"`}, "Oak 7, Ash 0"},
		{"choice", "Oak tree\nAsh tree", nil, url.Values{"choice": {"ash_tree"}},
			[]string{`value="ash_tree" checked`}, "Ash tree"},
		{"irv", "oak: Oak\nash: Ash\nelm: Elm", nil, url.Values{"rank_oak": {"2"}, "rank_ash": {"1"}, "rank_elm": {""}},
			[]string{`name="rank_ash" min="1" max="3" inputmode="numeric" value="1"`}, "Ash &gt; Oak"},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			p := propose(t, ada, with(proposalForm0, append([]string{"method", tc.method, "options", tc.options, "weighting", "equal"}, tc.extra...)...))
			expect(t, "vote", bo.post(p+"/ballot", tc.ballot), http.StatusSeeOther, p)
			expect(t, "ballot shown", bo.get(p), http.StatusOK, "", append(tc.shown, "— "+tc.what)...)
		})
	}
	t.Run("bad score", func(t *testing.T) {
		p := propose(t, ada, with(proposalForm0, "method", "score", "options", "oak: Oak\nash: Ash", "weighting", "equal"))
		expect(t, "vote", bo.post(p+"/ballot", url.Values{"score_oak": {"9"}}), http.StatusUnprocessableEntity, "", "give 0 to 5", `value="9"`)
	})
}

func TestDraftPublishCancel(t *testing.T) {
	_, ada, bo := setUp(t)
	p := propose(t, ada, with(proposalForm0, "draft", "1"))
	expect(t, "draft", ada.get(p), http.StatusOK, "", "Publish and open the vote", "!Cast your vote")
	expect(t, "bo may not publish", bo.post(p+"/publish", url.Values{}), http.StatusForbidden, "")
	expect(t, "publish", ada.post(p+"/publish", url.Values{}), http.StatusSeeOther, p)
	expect(t, "open", bo.get(p), http.StatusOK, "", "Cast your vote")
	expect(t, "cancel", ada.post(p+"/cancel", url.Values{}), http.StatusSeeOther, p)
	expect(t, "cancelled", bo.get(p), http.StatusOK, "", "state-cancelled", "!Cast your vote")
}

func TestSecretaryChangesMember(t *testing.T) {
	_, ada, bo := setUp(t)
	expect(t, "bo may not", bo.post("/coops/river/members/ada", url.Values{"class": {"users"}, "state": {"member"}}), http.StatusForbidden, "")
	expect(t, "appoint bo", ada.post("/coops/river/members/bo", url.Values{"class": {"workers"}, "state": {"member"}, "secretary": {"1"}}),
		http.StatusSeeOther, "/coops/river/members")
	r := bo.get("/coops/river")
	expect(t, "bo is a secretary", r, http.StatusOK, "", "You are a member in <strong>workers</strong> and a secretary")
	expect(t, "bo sees invitations now", bo.get("/coops/river/invitations"), http.StatusOK, "")
}

func TestFoundFormPreset(t *testing.T) {
	srv := newSite(t)
	b := newBrowser(t, srv)
	expect(t, "visitor", b.get("/coops/new"), http.StatusSeeOther, "/signin?next=%2Fcoops%2Fnew")
	signUp(t, b, "ada")
	r := b.get("/coops/new?preset=fairshares&name=Mill&purpose=Grind")
	expect(t, "preset reload", r, http.StatusOK, "", `<option value="fairshares" selected>`, `value="labour"`, `value="Mill"`, ">Grind</textarea>")
	if n := len(regexp.MustCompile(`name="class_key_\d+"`).FindAllString(r.body, -1)); n != 5 {
		t.Errorf("fairshares form has %d class rows, want 4 and a blank one", n)
	}
}

func TestLocalNext(t *testing.T) {
	for in, want := range map[string]string{"": "/", "/coops/x": "/coops/x", "//evil.example": "/", "https://evil.example": "/", "/\\evil": "/"} {
		if got := localNext(in); got != want {
			t.Errorf("localNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatic(t *testing.T) {
	srv := newSite(t)
	r := newBrowser(t, srv).get("/static/style.css")
	expect(t, "style", r, http.StatusOK, "", ".chart-bar")
	expect(t, "missing", newBrowser(t, srv).get("/static/nope.css"), http.StatusNotFound, "")
	expect(t, "no such page", newBrowser(t, srv).get("/nowhere"), http.StatusNotFound, "", "There is no page at /nowhere", "</html>")
}
