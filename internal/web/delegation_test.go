// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// addMember has ada invite handle into class and the new member join.
func addMember(t *testing.T, srv *httptest.Server, ada *browser, handle, class string) *browser {
	t.Helper()
	r := ada.post("/coops/river/invitations", url.Values{"class": {class}, "uses": {"1"}, "expires_at": {"2026-03-10T12:00"}})
	expect(t, "invite "+handle, r, http.StatusSeeOther, "/coops/river/invitations?new=")
	code := strings.TrimPrefix(r.location, "/coops/river/invitations?new=")
	b := newBrowser(t, srv)
	signUp(t, b, handle)
	expect(t, handle+" joins", b.post("/join/"+code, url.Values{}), http.StatusSeeOther, "/coops/river")
	return b
}

// settings is the settings form as River Bakery starts: delegation on,
// across classes, no cap.
var settings0 = url.Values{"delegation": {"1"}, "cap": {"0"}, "notice_days": {"14"}, "proxy_limit": {"1"}}

func delegate(scope, to string, kv ...string) url.Values {
	return with(url.Values{"scope": {scope}, "to": {to}}, kv...)
}

func TestDelegationsPage(t *testing.T) {
	srv, ada, bo := setUp(t)
	const page = "/coops/river/delegations"
	expect(t, "empty", bo.get(page), http.StatusOK, "", "<h1>My delegations</h1>", "You have not delegated",
		"You carry no members", `<option value="ada">Ada (@ada, workers)</option>`, "!<option value=\"bo\"", `id="scope-coop" name="scope" value="coop" checked`)

	expect(t, "bo delegates to ada", bo.post(page, delegate("coop", "ada")), http.StatusSeeOther, page+"?done=set")
	expect(t, "bo's list", bo.get(page+"?done=set"), http.StatusOK, "", "Your delegation is saved.",
		"For everything in the co-op:", "your vote goes to <strong>@ada</strong>", "Revoke")
	expect(t, "ada carries bo", ada.get(page), http.StatusOK, "", "You carry <strong>1 member</strong>", "<strong>@bo</strong> for everything in the co-op")

	expect(t, "a topic is created on first use", bo.post(page, delegate("topic", "-", "topic", " Bakery ")), http.StatusSeeOther, page)
	r := bo.get(page)
	expect(t, "topic block listed", r, http.StatusOK, "", "For the topic bakery:", "<strong>nobody</strong> — a block",
		`<option value="bakery">`, `href="/coops/river/delegations?scope=topic&amp;to=-&amp;topic=bakery#set"`)
	expect(t, "the change link fills the form", bo.get(page+"?scope=topic&to=-&topic=bakery"), http.StatusOK, "",
		`id="scope-topic" name="scope" value="topic" checked`, `value="bakery"`, `<option value="-" selected>`)
	expect(t, "the new proposal form offers the topic", ada.get("/coops/river/proposals/new"), http.StatusOK, "",
		`<datalist id="topics"><option value="bakery">`)

	tests := []struct {
		name   string
		form   url.Values
		status int
		shown  []string
	}{
		{"no trustee", delegate("coop", ""), http.StatusUnprocessableEntity,
			[]string{"choose a member, or nobody", `id="scope-coop" name="scope" value="coop" checked`}},
		{"oneself", delegate("coop", "bo"), http.StatusUnprocessableEntity, []string{"you cannot delegate to yourself"}},
		{"a stranger", delegate("coop", "zed"), http.StatusUnprocessableEntity, []string{"&#34;zed&#34; is not a member of River Bakery"}},
		{"a bad topic", delegate("topic", "ada", "topic", "9 lives"), http.StatusUnprocessableEntity,
			[]string{"give the topic", `value="9 lives"`, `id="scope-topic" name="scope" value="topic" checked`, `<option value="ada" selected>`}},
		{"no proposal", delegate("proposal", "ada"), http.StatusUnprocessableEntity, []string{"choose a proposal"}},
		{"an unknown proposal", delegate("proposal", "ada", "proposal", "999"), http.StatusNotFound, []string{`<div class="notice error" role="alert">`}},
		{"a bad scope", delegate("everything", "ada"), http.StatusUnprocessableEntity, []string{"use coop, topic or proposal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.name, bo.post(page, tc.form), tc.status, "", append(tc.shown, "<h1>My delegations</h1>")...)
		})
	}

	// The co-op's rules: within a class, and a cap.
	expect(t, "within a class", ada.post("/coops/river/settings", with(settings0, "within_class_only", "1")), http.StatusSeeOther, "/coops/river")
	expect(t, "bo may not delegate across", bo.post(page, delegate("topic", "ada", "topic", "bakery")), http.StatusUnprocessableEntity, "",
		"River Bakery delegates only within a class: ada is a workers, you are a users", `<option value="ada" selected>`, `value="bakery"`)
	expect(t, "the rule is stated", bo.get(page), http.StatusOK, "", "you may delegate only to a member of your own class (users)")
	cy := addMember(t, srv, ada, "cy", "users")
	expect(t, "a cap of 1", ada.post("/coops/river/settings", with(settings0, "cap", "1")), http.StatusSeeOther, "/coops/river")
	expect(t, "cy delegates to bo", cy.post(page, delegate("coop", "bo")), http.StatusSeeOther, page)
	expect(t, "ada would carry two", cy.post(page, delegate("topic", "ada", "topic", "bakery")), http.StatusConflict, "",
		"The cap is reached: a trustee may carry 1, and ada carries 1", `<option value="ada" selected>`, `value="bakery"`)

	// Revoking.
	revoke := page + "/revoke"
	expect(t, "bo revokes", bo.post(revoke, url.Values{"scope": {"coop"}}), http.StatusSeeOther, page+"?done=revoked")
	expect(t, "bo's list after", bo.get(page+"?done=revoked"), http.StatusOK, "", "Your delegation is revoked.",
		"!For everything in the co-op:", "For the topic bakery:")
	expect(t, "ada carries nobody", ada.get(page), http.StatusOK, "", "You carry no members")
	expect(t, "revoke again", bo.post(revoke, url.Values{"scope": {"coop"}}), http.StatusNotFound, "", "You have no coop delegation there")

	// Delegation off: said, and no forms.
	expect(t, "off", ada.post("/coops/river/settings", with(settings0, "delegation", "")), http.StatusSeeOther, "/coops/river")
	expect(t, "bo's page says so", bo.get(page), http.StatusOK, "", "River Bakery does not use delegation",
		"For the topic bakery:", `!action="/coops/river/delegations"`, `!action="/coops/river/delegations/revoke"`, "!Set a delegation")
	expect(t, "setting is refused", bo.post(page, delegate("coop", "cy")), http.StatusForbidden, "",
		`<div class="notice error" role="alert"><p>River Bakery does not use delegation</p></div>`)

	dee := newBrowser(t, srv)
	signUp(t, dee, "dee")
	expect(t, "a stranger's page", dee.get(page), http.StatusForbidden, "", "!My delegations")
	expect(t, "a stranger's delegation", dee.post(page, delegate("coop", "ada")), http.StatusForbidden, "", "!My delegations")
	expect(t, "a visitor", newBrowser(t, srv).get(page), http.StatusSeeOther, "/signin?next=")
}

func TestCoopSettings(t *testing.T) {
	_, ada, bo := setUp(t)
	const settings = "/coops/river/settings"
	expect(t, "bo sees the settings", bo.get("/coops/river"), http.StatusOK, "", `<h2 id="settingshead">Settings</h2>`,
		"on — members may delegate their votes on open ballots, to any member; no cap", "14 days before a general meeting",
		`href="/coops/river/delegations"`, `!action="/coops/river/settings"`)
	expect(t, "ada sees the form", ada.get("/coops/river"), http.StatusOK, "", `action="/coops/river/settings"`,
		`id="delegation" name="delegation" value="1" checked`, `id="within_class_only" name="within_class_only" value="1">`)
	expect(t, "bo may not change them", bo.post(settings, with(settings0, "cap", "3")), http.StatusForbidden, "")
	expect(t, "nor with a bad value", bo.post(settings, with(settings0, "cap", "lots")), http.StatusForbidden, "")

	for _, tc := range []struct {
		name  string
		form  url.Values
		shown []string
	}{
		{"a negative cap", with(settings0, "cap", "-1"), []string{"give 0 (no cap) to 1000000", `value="-1"`}},
		{"a word", with(settings0, "notice_days", "soon"), []string{"give a whole number", `value="soon"`}},
		{"an empty field", with(settings0, "proxy_limit", ""), []string{"give a whole number"}},
		{"a long notice", with(settings0, "notice_days", "400", "within_class_only", "1"),
			[]string{"give 0 to 365 days", `value="400"`, `id="within_class_only" name="within_class_only" value="1" checked`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.name, ada.post(settings, tc.form), http.StatusUnprocessableEntity, "",
				append(tc.shown, "<details class=\"card\" open>", `aria-invalid="true"`)...)
		})
	}
	expect(t, "ada changes them", ada.post(settings, url.Values{"delegation": {"1"}, "within_class_only": {"1"}, "cap": {"2"},
		"notice_days": {"7"}, "proxy_limit": {"3"}}), http.StatusSeeOther, "/coops/river?saved=1")
	expect(t, "bo sees the change", bo.get("/coops/river"), http.StatusOK, "",
		"only within their own class; one member carries at most 2", "7 days before", "at most 3 proxies")
	expect(t, "ada turns delegation off", ada.post(settings, with(settings0, "delegation", "")), http.StatusSeeOther, "/coops/river")
	expect(t, "bo sees it off", bo.get("/coops/river"), http.StatusOK, "", "off — only members who vote themselves are counted")
	expect(t, "the audit log has it", ada.get("/coops/river/audit"), http.StatusOK, "", "coop.settings")
}

func TestProposalTrace(t *testing.T) {
	srv, ada, bo := setUp(t)
	p := propose(t, ada, with(proposalForm0, "weighting", "equal", "quorum_percent", "0", "topic", "bakery"))
	expect(t, "before anything", bo.get(p), http.StatusOK, "", `<span class="key">bakery</span>`,
		`href="/coops/river/delegations?scope=topic&amp;topic=bakery#set"`,
		"Your vote counts for nobody yet: you have not voted, and no delegation of yours applies to this proposal.",
		`<label for="delegate-to">Delegate this proposal to</label>`, "Block delegation for this proposal")

	back := p + "#delegation"
	expect(t, "bo delegates from the co-op's page", bo.post("/coops/river/delegations", delegate("coop", "ada", "return", back)),
		http.StatusSeeOther, back)
	expect(t, "ada has not voted", bo.get(p), http.StatusOK, "",
		"Your vote counts for nobody yet: it goes to @ada (your delegation for the co-op), who has not voted and delegates to no one.")
	expect(t, "ada is told", ada.get(p), http.StatusOK, "", "1 member delegates to you: when you vote, your ballot counts for that member too")

	expect(t, "ada votes", ada.post(p+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, p)
	expect(t, "bo's vote goes to ada", bo.get(p), http.StatusOK, "",
		"Your vote goes to @ada, who voted Yes (your delegation for the co-op). If you vote yourself, your own ballot counts instead.")
	expect(t, "ada carries bo", ada.get(p), http.StatusOK, "", "You voted directly", "Your ballot counts for <strong>1 other member</strong>")

	proposal := strings.TrimPrefix(p, "/proposals/")
	expect(t, "bo blocks this proposal", bo.post("/coops/river/delegations", delegate("proposal", "-", "proposal", proposal, "return", back)),
		http.StatusSeeOther, back)
	expect(t, "blocked", bo.get(p), http.StatusOK, "", "Your vote counts for nobody: you delegated this to nobody",
		"For this proposal you delegate to <strong>nobody</strong> (a block).", "Revoke the delegation for this proposal")
	expect(t, "ada carries nobody here", ada.get(p), http.StatusOK, "", "!Your ballot counts for")
	expect(t, "bo lifts the block", bo.post("/coops/river/delegations/revoke",
		url.Values{"scope": {"proposal"}, "proposal": {proposal}, "return": {back}}), http.StatusSeeOther, back)
	expect(t, "a topic delegation is more specific", bo.post("/coops/river/delegations", delegate("topic", "-", "topic", "bakery")),
		http.StatusSeeOther, "/coops/river/delegations")
	expect(t, "topic block", bo.get(p), http.StatusOK, "", "you delegated this to nobody")
	expect(t, "bo lifts the topic block", bo.post("/coops/river/delegations/revoke", url.Values{"scope": {"topic"}, "topic": {"bakery"}}),
		http.StatusSeeOther, "/coops/river/delegations")

	cy := addMember(t, srv, ada, "cy", "users")
	expect(t, "cy is not in the electorate", cy.get(p), http.StatusOK, "", "electorate when it opened", "!Your vote counts", "!Block delegation")

	expect(t, "ada closes", ada.post(p+"/close", url.Values{}), http.StatusSeeOther, p)
	expect(t, "bo's vote went to ada", bo.get(p), http.StatusOK, "",
		"Your vote went to @ada, who voted Yes (your delegation for the co-op).", "!If you vote yourself", "!Block delegation",
		`<th scope="col" class="num">Weighted total</th><th scope="col" class="num">Direct</th><th scope="col" class="num">Delegated</th>`,
		"weight <strong>1</strong> cast directly and <strong>1</strong> through delegation",
		`<th scope="col" class="num">Ballots</th><th scope="col" class="num">Direct</th><th scope="col" class="num">Delegated</th>`,
		`<th scope="row">users</th><td class="num">–</td><td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">1</td>`,
		`(1 delegated)`)
	expect(t, "bo revokes after close", bo.post("/coops/river/delegations/revoke", url.Values{"scope": {"coop"}}), http.StatusSeeOther, "")
	expect(t, "the count keeps the delegation made at close", bo.get(p), http.StatusOK, "", "Your vote went to @ada, who voted Yes")

	q := propose(t, ada, with(proposalForm0, "weighting", "equal", "quorum_percent", "0", "secret", "1"))
	expect(t, "secret", bo.get(q), http.StatusOK, "", "This is a secret ballot, so delegation does not apply", "!Block delegation",
		"!Your vote counts")
}

func TestTraceReasons(t *testing.T) {
	_, ada, bo := setUp(t)
	p := propose(t, ada, with(proposalForm0, "weighting", "equal", "quorum_percent", "0"))
	expect(t, "bo to ada", bo.post("/coops/river/delegations", delegate("coop", "ada")), http.StatusSeeOther, "")
	expect(t, "ada to bo", ada.post("/coops/river/delegations", delegate("coop", "bo")), http.StatusSeeOther, "")
	expect(t, "a cycle", bo.get(p), http.StatusOK, "",
		"Your vote counts for nobody: the delegations from you via @ada go round in a circle and reach no ballot.")
	expect(t, "ada blocks", ada.post("/coops/river/delegations", delegate("coop", "-")), http.StatusSeeOther, "")
	expect(t, "blocked further on", bo.get(p), http.StatusOK, "",
		"Your vote counts for nobody: it goes to @ada (your delegation for the co-op), who delegates this to nobody.")
	expect(t, "ada delegates back to bo", ada.post("/coops/river/delegations", delegate("coop", "bo")), http.StatusSeeOther, "")
	expect(t, "within a class", ada.post("/coops/river/settings", with(settings0, "within_class_only", "1")), http.StatusSeeOther, "")
	expect(t, "bo's chain leaves his class", bo.get(p), http.StatusOK, "",
		"Your vote counts for nobody: your delegation leads to someone outside this proposal&#39;s electorate or outside your class.")
	expect(t, "off", ada.post("/coops/river/settings", with(settings0, "delegation", "")), http.StatusSeeOther, "")
	expect(t, "delegation off", bo.get(p), http.StatusOK, "", "River Bakery does not use delegation: only members who vote themselves are counted.",
		"Your vote counts for nobody yet: you have not voted", "!Block delegation")
}

func TestProposalTopicField(t *testing.T) {
	_, ada, bo := setUp(t)
	expect(t, "the form", ada.get("/coops/river/proposals/new"), http.StatusOK, "", `<label for="topic">Topic</label>`, `<datalist id="topics"></datalist>`)
	expect(t, "a bad topic", ada.post("/coops/river/proposals/new", with(proposalForm0, "topic", "Ovens & fire")), http.StatusUnprocessableEntity, "",
		"use a lower-case letter", `value="Ovens &amp; fire"`, `id="topic" name="topic" list="topics" value="Ovens &amp; fire" maxlength="32" autocapitalize="none" autocomplete="off" aria-describedby="topic-help" aria-invalid="true"`)
	p := propose(t, ada, with(proposalForm0, "topic", " Ovens "))
	expect(t, "the topic is shown", bo.get(p), http.StatusOK, "", `<dt>Topic</dt><dd><span class="key">ovens</span>`)
	expect(t, "and offered next time", ada.get("/coops/river/proposals/new"), http.StatusOK, "", `<datalist id="topics"><option value="ovens"></datalist>`,
		"existing: ovens")
	q := propose(t, ada, proposalForm0)
	expect(t, "no topic", bo.get(q), http.StatusOK, "", `<dt>Topic</dt><dd>none</dd>`)
}
