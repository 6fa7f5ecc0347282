// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/meeting"
	"opencoop/internal/storetest"
)

// meetingPageCases is representative data for every meeting page, for
// TestMeetingTemplatesExecute and TestTemplatesExecute.
func meetingPageCases() map[string][]any {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Preset: "fairshares", NoticeDays: 14, ProxyLimit: 1, CreatedAt: at}
	sec := coop.Member{Handle: "ada", Name: "Ada", Class: "workers", State: coop.StateMember, Secretary: true, JoinedAt: at}
	plain := sec
	plain.Handle, plain.Secretary = "bo", false
	items := []meeting.Item{
		{ID: 1, Position: 0, Title: "Approve the minutes of AGM (1 Jan 2026)", ApprovesMinutes: 3},
		{ID: 2, Position: 1, Title: "Rules", Resolution: &meeting.Resolution{Title: "Rules", Body: "Change\nthem.", Kind: meeting.Special},
			ProposalID: 7, State: "closed", Outcome: "passed", Number: "2026/1"},
		{ID: 3, Position: 2, Title: "Any other business"},
	}
	q := &meeting.Quorum{Eligible: 6, Present: 2, Proxies: 1, Remote: 1, Required: 3, Quorate: true, Rule: "FairShares default"}
	proxy := meeting.Proxy{Appointer: "cy", Holder: "ada", Directed: true, Directions: map[string]string{"7": "no"}, AppointedAt: at}
	show := func(state string, you *meeting.Part, m coop.Member) *meetingPage {
		mt := &meeting.Meeting{ID: 4, Coop: "river", Title: "GM", Kind: meeting.KindAnnual, State: state, StartsAt: at, NoticeDays: 14,
			CountRemote: true, CreatedAt: at, CalledAt: &at, Quorum: q, Agenda: items,
			Attendance: &meeting.Attendance{Present: []string{"ada"}, Apologies: []string{"bo"}},
			Proxies:    []meeting.Proxy{{Appointer: "cy", Holder: "ada", Directed: true}}, You: you}
		if state == meeting.StateClosed {
			mt.ClosedAt = &at
		}
		return &meetingPage{M: mt, Coop: c, Member: m, Holders: []choice{{"bo", "Bo"}}, Members: []coop.Member{sec, plain},
			Resolutions: items[1:2], Present: map[string]bool{"ada": true}, Apologies: map[string]bool{"bo": true},
			Hands:   []meeting.HandsLine{{ProposalID: 7, Title: "Rules", Class: "workers", Limit: meeting.Hands{Attendees: 2, Proxies: 1}, Entered: true, Yes: 2}},
			Counted: 4, Proxy: proxyForm{Holder: "bo", Directions: map[string]string{"7": "yes"}}, Errors: map[string]string{"holder": "bad"},
			Problem: "no", Done: "yes"}
	}
	secPart := &meeting.Part{Secretary: true, Present: true, Holds: []meeting.Proxy{proxy}}
	plainPart := &meeting.Part{Proxy: &proxy, Holds: []meeting.Proxy{}}
	var shows []any
	for _, state := range []string{meeting.StateDraft, meeting.StateCalled, meeting.StateInSession, meeting.StateClosed} {
		shows = append(shows, show(state, secPart, sec), show(state, plainPart, plain), show(state, &meeting.Part{}, plain))
	}
	passed := at
	return map[string][]any{
		"meeting_list": {&meetingsPage{Coop: c, Member: sec, Meetings: []*meeting.Meeting{show(meeting.StateClosed, nil, sec).M, show(meeting.StateInSession, nil, sec).M},
			Form: meetingForm{Title: "GM", Kind: "annual", StartsAt: "2026-03-20T12:00", CountRemote: true, Draft: true,
				Items: []itemRow{{Index: 0, Title: "Rules", Kind: "special", Body: "b"}, {Index: 1}}},
			Errors: map[string]string{"title": "bad", "item_0": "bad", "agenda": "bad"}}, &meetingsPage{Coop: c, Member: plain}},
		"meeting_show": shows,
		"meeting_minutes": {minutesPage{M: show(meeting.StateClosed, secPart, sec).M, Coop: c,
			Minutes: &meeting.Minutes{Markdown: "# M", Approved: &meeting.Approval{At: at, MeetingID: 5}},
			Blocks:  markdownBlocks("# Minutes\n\n## A\n\n- one **two**\n- three\n\n> quote\n\n---\n\ntext **bold**")},
			minutesPage{M: show(meeting.StateClosed, secPart, sec).M, Coop: c, Minutes: &meeting.Minutes{}}},
		"resolutions": {resolutionsPage{Coop: c, All: true, Resolutions: []meeting.Registered{{Number: "2026/1", Title: "Rules", Kind: "special",
			Outcome: "passed", MeetingID: 4, ProposalID: 7, PassedAt: &passed}, {Title: "Other", Kind: "ordinary", Outcome: "rejected"}}},
			resolutionsPage{Coop: c}},
	}
}

func TestMeetingTemplatesExecute(t *testing.T) {
	tm, err := parseTemplates(templateFS)
	if err != nil {
		t.Fatalf("parseTemplates: %v", err)
	}
	for name, datas := range meetingPageCases() {
		for i, d := range datas {
			for _, who := range []*auth.Account{{Handle: "ada"}, nil} {
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
}

func TestMarkdownBlocks(t *testing.T) {
	got := markdownBlocks("# T\n\n- a\n- **b** c\n\n> <q>\n\np")
	if len(got) != 4 || got[1].Kind != "ul" || len(got[1].Items) != 2 || !got[1].Items[1][0].Bold || got[1].Items[1][1].Text != " c" ||
		got[2].Kind != "quote" || got[2].Spans[0].Text != "<q>" || got[3].Kind != "p" {
		t.Errorf("markdownBlocks = %+v", got)
	}
}

// meetingSite serves the pages on a fresh store with a clock the test
// moves.
type meetingSite struct {
	srv *httptest.Server
	mu  sync.Mutex
	t   time.Time
}

func (s *meetingSite) now() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.t }
func (s *meetingSite) advance(d time.Duration) {
	s.mu.Lock()
	s.t = s.t.Add(d)
	s.mu.Unlock()
}

func newMeetingSite(t *testing.T) *meetingSite {
	s := &meetingSite{t: now}
	svc := app.New(storetest.Open(t), s.now, []byte("0123456789abcdef0123456789abcdef"), slog.New(slog.DiscardHandler), "http://opencoop.test")
	mux := http.NewServeMux()
	Register(mux, svc)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// joinRiver has ada invite b into class, and b sign up as handle and join.
func joinRiver(t *testing.T, ada, b *browser, handle, class string) {
	t.Helper()
	r := ada.post("/coops/river/invitations", url.Values{"class": {class}, "uses": {"1"}})
	expect(t, "invite "+handle, r, http.StatusSeeOther, "/coops/river/invitations?new=")
	code := strings.TrimPrefix(r.location, "/coops/river/invitations?new=")
	signUp(t, b, handle)
	expect(t, handle+" joins", b.post("/join/"+code, url.Values{}), http.StatusSeeOther, "/coops/river")
}

// TestMeetingPages runs a meeting through the pages: a secretary calls it
// (short notice refused, the form kept), members appoint, revoke and
// re-appoint proxies, the session opens, attendance and a show of hands
// are recorded, the meeting closes, and the minutes and the register show
// the result.
func TestMeetingPages(t *testing.T) {
	s := newMeetingSite(t)
	ada, bo, cy, dee := newBrowser(t, s.srv), newBrowser(t, s.srv), newBrowser(t, s.srv), newBrowser(t, s.srv)
	signUp(t, ada, "ada")
	expect(t, "found", ada.post("/coops/new", foundForm0), http.StatusSeeOther, "/coops/river")
	joinRiver(t, ada, bo, "bo", "users")
	joinRiver(t, ada, cy, "cy", "users")
	expect(t, "co-op page links meetings", bo.get("/coops/river"), http.StatusOK, "", `href="/coops/river/meetings"`, `href="/coops/river/resolutions"`)
	expect(t, "no meetings", bo.get("/coops/river/meetings"), http.StatusOK, "", "No meeting has been called yet.", "!Call a meeting")

	form := url.Values{"title": {"Spring general meeting"}, "kind": {"general"}, "starts_at": {"2026-03-10T12:00"}, "count_remote": {"1"},
		"item_title_0": {"Welcome"}, "item_title_1": {"Sunday opening"}, "item_kind_1": {"ordinary"}, "item_body_1": {"That we open on Sundays."},
		"item_title_3": {"New rules"}, "item_kind_3": {"special"}, "item_body_3": {"That we adopt the new rules."}}
	expect(t, "short notice", ada.post("/coops/river/meetings", form), http.StatusUnprocessableEntity, "",
		"give at least 14 days&#39; notice", `value="Spring general meeting"`, "That we adopt the new rules.", `value="special" selected`)
	expect(t, "a member may not call", bo.post("/coops/river/meetings", with(form, "starts_at", "2026-03-20T12:00")), http.StatusForbidden, "")
	bad := with(form, "starts_at", "2026-03-20T12:00", "item_title_1", "", "item_kind_1", "extraordinary")
	expect(t, "bad row", ada.post("/coops/river/meetings", bad), http.StatusUnprocessableEntity, "", "use ordinary or special")
	r := ada.post("/coops/river/meetings", with(form, "starts_at", "2026-03-20T12:00"))
	expect(t, "call", r, http.StatusSeeOther, "/meetings/")
	m := r.location
	page := bo.get(m)
	expect(t, "meeting page", page, http.StatusOK, "", "Spring general meeting", "Remote voting is open", "Sunday opening", "special resolution",
		"Appoint your proxy", "!Open the session")
	ids := regexp.MustCompile(`href="/proposals/(\d+)"`).FindAllStringSubmatch(page.body, -1)
	if len(ids) != 2 {
		t.Fatalf("meeting page links %d resolutions, want 2", len(ids))
	}
	sunday, rules := "/proposals/"+ids[0][1], ids[1][1]
	expect(t, "bo votes remotely", bo.post(sunday+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, sunday)

	expect(t, "proxy without holder", cy.post(m+"/proxy", url.Values{}), http.StatusUnprocessableEntity, "", "choose the member who will hold your proxy")
	expect(t, "cy appoints ada, directed", cy.post(m+"/proxy", url.Values{"holder": {"ada"}, "direction_" + rules: {"no"}}), http.StatusSeeOther, m+"?done=proxy")
	expect(t, "cy's proxy", cy.get(m+"?done=proxy"), http.StatusOK, "", "Your proxy is appointed.", "<strong>@ada</strong> holds your proxy", "on resolution #"+rules+" no")
	expect(t, "a second proxy", cy.post(m+"/proxy", url.Values{"holder": {"bo"}}), http.StatusConflict, "", "revoke it first")
	expect(t, "ada holds it", ada.get(m), http.StatusOK, "", "Proxies you hold", "For <strong>@cy</strong>")
	expect(t, "cy revokes", cy.post(m+"/proxy/revoke", url.Values{}), http.StatusSeeOther, m+"?done=revoked")
	expect(t, "cy appoints again", cy.post(m+"/proxy", url.Values{"holder": {"ada"}}), http.StatusSeeOther, m)

	expect(t, "too early", ada.post(m+"/open", url.Values{}), http.StatusConflict, "", "cannot open before")
	s.advance(19 * 24 * time.Hour)
	expect(t, "bo may not open", bo.post(m+"/open", url.Values{}), http.StatusForbidden, "")
	expect(t, "open", ada.post(m+"/open", url.Values{}), http.StatusSeeOther, m+"?done=opened")
	expect(t, "revoke in session", cy.post(m+"/proxy/revoke", url.Values{}), http.StatusConflict, "", "until the session opens")
	expect(t, "remote vote in session", bo.post(sunday+"/ballot", url.Values{"choice": {"no"}}), http.StatusForbidden, "", "only members recorded present vote now")
	expect(t, "secretary's page", ada.get(m), http.StatusOK, "", "The meeting is in session", "Show of hands", "Close the meeting", `name="status_bo"`)
	expect(t, "attendance", ada.post(m+"/attendance", url.Values{"member": {"ada", "bo", "cy"}, "status_ada": {"present"}, "status_cy": {"apologies"}}),
		http.StatusSeeOther, m+"?done=attendance")
	expect(t, "bo checks in", bo.post(m+"/checkin", url.Values{}), http.StatusSeeOther, m+"?done=checkin")
	// Sunday opening: bo voted yes remotely; ada present with cy's
	// discretionary proxy, so at most 2 hands among the workers… but cy
	// is a user: ada 1 worker hand, cy's proxy 1 user hand.
	expect(t, "too many hands", ada.post(m+"/totals", url.Values{"proposal_id": {ids[0][1]}, "class": {"workers"}, "yes": {"2"}}),
		http.StatusUnprocessableEntity, "", "nobody is counted twice")
	expect(t, "hands", ada.post(m+"/totals", url.Values{"proposal_id": {ids[0][1]}, "class": {"workers"}, "yes": {"1"}}), http.StatusSeeOther, m+"?done=totals")
	expect(t, "hands of users", ada.post(m+"/totals", url.Values{"proposal_id": {ids[0][1]}, "class": {"users"}, "no": {"1"}}), http.StatusSeeOther, m)
	expect(t, "bo votes on the rules", bo.post("/proposals/"+rules+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, "/proposals/"+rules)
	expect(t, "ada votes on the rules", ada.post("/proposals/"+rules+"/ballot", url.Values{"choice": {"yes"}}), http.StatusSeeOther, "/proposals/"+rules)
	expect(t, "bo may not close", bo.post(m+"/close", url.Values{}), http.StatusForbidden, "")
	expect(t, "close", ada.post(m+"/close", url.Values{}), http.StatusSeeOther, m+"/minutes")

	expect(t, "minutes", cy.get(m+"/minutes"), http.StatusOK, "", "<h1>Minutes: Spring general meeting</h1>", "Not yet approved",
		"<li>Present (2): @ada, @bo</li>", "<li>Apologies (1): @cy</li>", "<li>Proxies (1): @cy held by @ada (discretionary)</li>",
		"For 2, against 1, abstain 0.", "<strong>Passed</strong> as resolution 2026/1.", "<blockquote><p>That we adopt the new rules.</p></blockquote>",
		"For 3, against 0, abstain 0.", "<strong>Passed</strong> as resolution 2026/2.")
	expect(t, "register", bo.get("/coops/river/resolutions"), http.StatusOK, "", "2026/1", "2026/2", "Sunday opening", "New rules", "outcome-passed")
	expect(t, "closed meeting", bo.get(m), http.StatusOK, "", "The meeting has closed.", "resolution 2026/1", "!Check in")
	expect(t, "list", bo.get("/coops/river/meetings"), http.StatusOK, "", "Spring general meeting", m+"/minutes")

	// The next meeting puts the minutes up for approval.
	r = ada.post("/coops/river/meetings", url.Values{"title": {"Summer meeting"}, "starts_at": {"2026-04-05T12:00"}, "item_title_0": {"Welcome"}})
	expect(t, "call the next", r, http.StatusSeeOther, "/meetings/")
	next := r.location
	s.advance(16 * 24 * time.Hour)
	// A month on, the sessions have expired.
	expect(t, "sign in again", ada.post("/signin", url.Values{"handle": {"ada"}, "password": {"correct horse"}}), http.StatusSeeOther, "/")
	expect(t, "bo signs in again", bo.post("/signin", url.Values{"handle": {"bo"}, "password": {"correct horse"}}), http.StatusSeeOther, "/")
	expect(t, "open the next", ada.post(next+"/open", url.Values{}), http.StatusSeeOther, next)
	expect(t, "approval item", ada.get(next), http.StatusOK, "", "Approve the minutes of Spring general meeting", "Approve the minutes</button>")
	expect(t, "approve", ada.post(m+"/minutes/approve", url.Values{"at": {strings.TrimPrefix(next, "/meetings/")}}), http.StatusSeeOther, next+"?done=approved")
	expect(t, "approve twice", ada.post(m+"/minutes/approve", url.Values{"at": {strings.TrimPrefix(next, "/meetings/")}}), http.StatusConflict, "", "were approved on")
	expect(t, "approved minutes", bo.get(m+"/minutes"), http.StatusOK, "", "Approved on", "Approved at Summer meeting (meeting "+strings.TrimPrefix(next, "/meetings/")+")")

	// Outsiders.
	signUp(t, dee, "dee")
	expect(t, "outsider's meeting page", dee.get(m), http.StatusNotFound, "")
	expect(t, "outsider's minutes", dee.get(m+"/minutes"), http.StatusNotFound, "")
	expect(t, "outsider's proxy", dee.post(next+"/proxy", url.Values{"holder": {"ada"}}), http.StatusNotFound, "")
	expect(t, "outsider's register", dee.get("/coops/river/resolutions"), http.StatusForbidden, "")
	expect(t, "no such meeting", ada.get("/meetings/nope"), http.StatusNotFound, "")
	expect(t, "visitor", newBrowser(t, s.srv).get(m), http.StatusSeeOther, "/signin?next="+url.QueryEscape(m))
}
