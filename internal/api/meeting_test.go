// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"opencoop/internal/record"
)

// coop founds co-op slug from preset with the given notice period; its
// founder (handle slug+"0", a secretary) is in the preset's first class and
// one member joins for each class given, with handles slug+"1", slug+"2"….
// It returns their tokens by handle and the handles in order.
func (e *env) coop(slug, preset string, noticeDays int, classes ...string) (map[string]string, []string) {
	e.t.Helper()
	handles := []string{slug + "0"}
	toks := map[string]string{handles[0]: e.signup(handles[0])}
	e.must(201, "POST", "/api/v1/coops", toks[handles[0]], map[string]any{"slug": slug, "name": "Co-op " + slug,
		"purpose": "Serve its members.", "preset": preset, "notice_days": noticeDays})
	for i, cl := range classes {
		h := fmt.Sprintf("%s%d", slug, i+1)
		toks[h] = e.signup(h)
		e.join(toks[h], slug, e.invite(toks[handles[0]], slug, cl))
		handles = append(handles, h)
	}
	return toks, handles
}

// meeting calls a meeting of slug starting after d with one agenda item per
// resolution kind given ("ordinary" or "special"), and returns its id and
// the resolutions' proposal ids.
func (e *env) meeting(token, slug string, d time.Duration, kinds ...string) (int64, []int64) {
	e.t.Helper()
	agenda := []map[string]any{{"title": "Welcome"}}
	for i, k := range kinds {
		agenda = append(agenda, map[string]any{"title": fmt.Sprintf("Motion %d", i+1),
			"resolution": map[string]any{"title": fmt.Sprintf("Motion %d", i+1), "body": "That we do it.", "kind": k}})
	}
	out := e.must(201, "POST", "/api/v1/coops/"+slug+"/meetings", token, map[string]any{"title": "General meeting " + slug,
		"kind": "general", "starts_at": e.clock.now().Add(d).Format(time.RFC3339), "agenda": agenda})
	var ids []int64
	for _, it := range out["agenda"].([]any) {
		if p, ok := it.(map[string]any)["proposal_id"]; ok {
			ids = append(ids, int64(p.(float64)))
		}
	}
	if len(ids) != len(kinds) {
		e.t.Fatalf("meeting has %d resolutions, want %d: %s", len(ids), len(kinds), out["_raw"])
	}
	return int64(out["id"].(float64)), ids
}

func mpath(id int64, rest string) string { return fmt.Sprintf("/api/v1/meetings/%d%s", id, rest) }

func ballotPath(id int64) string { return fmt.Sprintf("/api/v1/proposals/%d/ballot", id) }

// result returns the stored result of proposal id.
func (e *env) result(token string, id int64) map[string]any {
	e.t.Helper()
	return e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d/result", id), token, nil)
}

// recount fetches resolution id's decision record, recounts it with
// record.Count and wants the stored result back, and returns the record.
func (e *env) recount(token string, id int64) *record.Record {
	e.t.Helper()
	raw := e.raw(fmt.Sprintf("/api/v1/proposals/%d/record", id), token)
	rec, err := record.Read(strings.NewReader(raw))
	if err != nil {
		e.t.Fatalf("record of %d: %v\n%s", id, err, raw)
	}
	got, err := record.Count(rec)
	if err != nil {
		e.t.Fatalf("record.Count(record of %d): %v", id, err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(rec.Result)
	if string(a) != string(b) {
		e.t.Errorf("recount of resolution %d differs from the stored result:\n got  %s\n want %s", id, a, b)
	}
	return rec
}

// counts returns class's counts of a yes/no result.
func counts(res map[string]any, class string) map[string]any {
	return res["classes"].(map[string]any)[class].(map[string]any)["counts"].(map[string]any)
}

func TestMeetingNoticePeriod(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("np", "open", 14, "members")
	sec, plain := toks[hs[0]], toks[hs[1]]
	body := func(d time.Duration) map[string]any {
		return map[string]any{"title": "AGM", "kind": "annual", "starts_at": e.clock.now().Add(d).Format(time.RFC3339),
			"agenda": []map[string]any{{"title": "Accounts", "resolution": map[string]any{"title": "Adopt the accounts", "body": "b"}}}}
	}
	st, out := e.do("POST", "/api/v1/coops/np/meetings", sec, body(14*24*time.Hour-time.Minute))
	if st != 422 || !strings.Contains(out["_raw"].(string), `"starts_at"`) {
		t.Fatalf("meeting a minute short of 14 days' notice = %d, want 422 naming starts_at: %s", st, out["_raw"])
	}
	out = e.must(201, "POST", "/api/v1/coops/np/meetings", sec, body(14*24*time.Hour))
	if out["state"] != "called" || out["notice_days"] != 14.0 || out["kind"] != "annual" {
		t.Errorf("called meeting = %s", out["_raw"])
	}
	item := out["agenda"].([]any)[0].(map[string]any)
	pid := int64(item["proposal_id"].(float64))
	p := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d", pid), plain, nil)
	if p["state"] != "open" || p["meeting_id"] != out["id"] || p["method"] != "yesno" {
		t.Errorf("resolution = %s, want an open yes/no proposal of the meeting", p["_raw"])
	}
	// A co-op without a notice period may meet within the hour.
	e.must(200, "PATCH", "/api/v1/coops/np", sec, map[string]any{"notice_days": 0})
	e.must(201, "POST", "/api/v1/coops/np/meetings", sec, body(time.Hour))
	if st, out := e.do("POST", "/api/v1/coops/np/meetings", sec, body(-time.Hour)); st != 422 {
		t.Errorf("meeting in the past = %d, want 422: %s", st, out["_raw"])
	}

	cases := []struct {
		name, token string
		body        any
		status      int
	}{
		{"non-secretary", plain, body(time.Hour), 403},
		{"malformed JSON", sec, `{"title": `, 400},
		{"unknown field", sec, `{"titel": "x"}`, 400},
		{"bad kind", sec, map[string]any{"title": "x", "kind": "secret", "starts_at": e.clock.now().Add(time.Hour).Format(time.RFC3339),
			"agenda": []map[string]any{{"title": "a"}}}, 422},
		{"bad resolution kind", sec, map[string]any{"title": "x", "starts_at": e.clock.now().Add(time.Hour).Format(time.RFC3339),
			"agenda": []map[string]any{{"title": "a", "resolution": map[string]any{"title": "r", "kind": "extraordinary"}}}}, 422},
		{"no agenda", sec, map[string]any{"title": "x", "starts_at": e.clock.now().Add(time.Hour).Format(time.RFC3339)}, 422},
		{"no token", "", body(time.Hour), 401},
	}
	for _, tc := range cases {
		if st, out := e.do("POST", "/api/v1/coops/np/meetings", tc.token, tc.body); st != tc.status {
			t.Errorf("%s: POST meetings = %d, want %d: %s", tc.name, st, tc.status, out["_raw"])
		}
	}
}

func TestMeetingDraftThenCall(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("dr", "open", 7, "members")
	sec, plain := toks[hs[0]], toks[hs[1]]
	out := e.must(201, "POST", "/api/v1/coops/dr/meetings", sec, map[string]any{"title": "Draft", "draft": true,
		"starts_at": e.clock.now().Add(24 * time.Hour).Format(time.RFC3339), "agenda": []map[string]any{{"title": "Talk"}}})
	id := int64(out["id"].(float64))
	if out["state"] != "draft" {
		t.Fatalf("draft = %s", out["_raw"])
	}
	if st, _ := e.do("GET", mpath(id, ""), plain, nil); st != 404 {
		t.Errorf("a member who is not a secretary sees a draft: %d, want 404", st)
	}
	// Calling it now gives a day's notice of seven: refused, and it stays a draft.
	if st, _ := e.do("POST", mpath(id, "/call"), sec, nil); st != 422 {
		t.Errorf("calling with short notice = %d, want 422", st)
	}
	out = e.must(200, "PUT", mpath(id, ""), sec, map[string]any{"title": "Draft, fixed",
		"starts_at": e.clock.now().Add(8 * 24 * time.Hour).Format(time.RFC3339),
		"agenda":    []map[string]any{{"title": "Rules", "resolution": map[string]any{"title": "Change the rules", "kind": "special"}}}})
	if out["state"] != "called" || out["title"] != "Draft, fixed" {
		t.Errorf("after PUT = %s", out["_raw"])
	}
	if st, _ := e.do("POST", mpath(id, "/call"), sec, nil); st != 409 {
		t.Errorf("calling twice = %d, want 409", st)
	}
	pid := int64(out["agenda"].([]any)[0].(map[string]any)["proposal_id"].(float64))
	p := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d", pid), plain, nil)
	if pass := p["pass"].(map[string]any); pass["num"] != 3.0 || pass["den"] != 4.0 || p["class_majority"] != false {
		t.Errorf("special resolution outside FairShares = %s, want yes ≥ 3/4 without class majority", p["_raw"])
	}
}

// TestQuorumMetOnlyWithProxies holds two meetings of six members with the
// same attendance, two, under the FairShares default quorum of three: the
// first is not quorate and its resolution is not decided, though every
// vote was yes; at the second a third member is represented by proxy,
// which makes it quorate.
func TestQuorumMetOnlyWithProxies(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("qp", "open", 0, "members", "members", "members", "members", "members")
	sec := toks[hs[0]]
	for _, withProxy := range []bool{false, true} {
		id, res := e.meeting(sec, "qp", time.Hour, "ordinary")
		if withProxy {
			e.must(201, "POST", mpath(id, "/proxies"), toks[hs[2]], map[string]any{"holder": hs[1]})
		}
		e.clock.advance(time.Hour)
		e.must(200, "POST", mpath(id, "/open"), sec, nil)
		e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": []string{hs[0], hs[1]}, "apologies": []string{hs[5]}})
		e.vote(sec, res[0], yes("yes"))
		e.vote(toks[hs[1]], res[0], yes("yes"))
		show := e.must(200, "GET", mpath(id, ""), sec, nil)
		q := show["quorum"].(map[string]any)
		if q["required"] != 3.0 || q["eligible"] != 6.0 || q["present"] != 2.0 {
			t.Errorf("quorum in session = %v, want 6 eligible, 3 required, 2 present", q)
		}
		minutes := e.must(200, "POST", mpath(id, "/close"), sec, nil)
		r := e.result(sec, res[0])
		want, quorate := "not_quorate", false
		if withProxy {
			want, quorate = "passed", true
		}
		if minutes["quorate"] != quorate || r["outcome"] != want {
			t.Errorf("with proxy %v: quorate %v, outcome %v; want %v, %s (%s)", withProxy, minutes["quorate"], r["outcome"], quorate, want, minutes["markdown"])
		}
		rec := e.recount(sec, res[0])
		if m := rec.Meeting; m == nil || m.Present != 2 || m.Required != 3 || m.Quorate != quorate || (m.Proxies == 1) != withProxy {
			t.Errorf("with proxy %v: record's meeting = %+v", withProxy, rec.Meeting)
		}
		if withProxy && !strings.Contains(r["rule"].(string), "yes > 1/2") {
			t.Errorf("rule = %v", r["rule"])
		}
		if !withProxy && !strings.Contains(r["rule"].(string), "not quorate (2 present, 0 by proxy, 3 required)") {
			t.Errorf("not quorate rule = %v", r["rule"])
		}
	}
}

// TestSpecialResolutionFailsInOneClass is a FairShares co-op of eleven
// where 9 of 11 vote yes (82% ≥ 3/4) but the investors vote 1 yes, 2 no:
// the special resolution fails on the class majority, the ordinary one on
// the same ballots passes.
func TestSpecialResolutionFailsInOneClass(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("fs", "fairshares", 0, "founders", "founders", "labour", "labour", "labour", "users", "users",
		"investors", "investors", "investors")
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "fs", time.Hour, "special", "ordinary")
	p := e.must(200, "GET", fmt.Sprintf("/api/v1/proposals/%d", res[0]), sec, nil)
	if p["class_majority"] != true {
		t.Fatalf("FairShares special resolution without class_majority: %s", p["_raw"])
	}
	for i, h := range hs {
		choice := "yes"
		if i >= 9 { // two of the three investors
			choice = "no"
		}
		for _, r := range res {
			e.vote(toks[h], r, yes(choice))
		}
	}
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	minutes := e.must(200, "POST", mpath(id, "/close"), sec, nil)
	special, ordinary := e.result(sec, res[0]), e.result(sec, res[1])
	if special["outcome"] != "rejected" {
		t.Errorf("special: outcome %v, want rejected by the investors' class: %s", special["outcome"], special["_raw"])
	}
	if s := special["support"].(float64); s < 0.75 {
		t.Errorf("special: support %v, want ≥ 3/4 overall", s)
	}
	inv := special["classes"].(map[string]any)["investors"].(map[string]any)
	if inv["majority"] != false {
		t.Errorf("investors' majority = %v, want false", inv["majority"])
	}
	if ordinary["outcome"] != "passed" {
		t.Errorf("ordinary on the same ballots: %v, want passed", ordinary["outcome"])
	}
	// Eleven remote voters, nobody in the room: quorate because the
	// meeting counts remote voters (required: two fifths of 11 = 5).
	if minutes["quorate"] != true || !strings.Contains(minutes["markdown"].(string), "11 voting remotely — 11 of 5 required") {
		t.Errorf("minutes = %s", minutes["markdown"])
	}
	e.recount(sec, res[0])
	e.recount(sec, res[1])
}

// TestProxyUsedTwiceRefused: a member's second appointment while her proxy
// stands is refused, and so are a holder over the limit, herself, a
// stranger, directions on other resolutions and changes after the
// session opened.
func TestProxyUsedTwiceRefused(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("px", "open", 0, "members", "members", "members", "members")
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "px", time.Hour, "ordinary")
	_, otherRes := e.meeting(sec, "px", 2*time.Hour, "ordinary")
	appoint := func(who, holder string, dirs map[string]string) (int, map[string]any) {
		body := map[string]any{"holder": holder}
		if dirs != nil {
			body["directions"] = dirs
		}
		return e.do("POST", mpath(id, "/proxies"), toks[who], body)
	}
	if st, out := appoint(hs[1], hs[2], nil); st != 201 || out["directed"] != false {
		t.Fatalf("first appointment = %d: %s", st, out["_raw"])
	}
	if st, out := appoint(hs[1], hs[3], nil); st != 409 || !strings.Contains(out["_raw"].(string), "revoke it first") {
		t.Errorf("the same member's second proxy = %d, want 409: %s", st, out["_raw"])
	}
	if st, out := appoint(hs[4], hs[2], nil); st != 409 || !strings.Contains(out["_raw"].(string), "the most the rules allow") {
		t.Errorf("a second proxy for a holder at the limit of 1 = %d, want 409: %s", st, out["_raw"])
	}
	if st, _ := appoint(hs[3], hs[1], nil); st != 409 {
		t.Errorf("appointing a member who gave her own proxy away = %d, want 409", st)
	}
	for _, tc := range []struct {
		name, holder string
		dirs         map[string]string
	}{
		{"herself", hs[4], nil},
		{"a stranger", "nobody", nil},
		{"another meeting's resolution", hs[3], map[string]string{fmt.Sprint(otherRes[0]): "yes"}},
		{"a bad direction", hs[3], map[string]string{fmt.Sprint(res[0]): "maybe"}},
	} {
		if st, out := appoint(hs[4], tc.holder, tc.dirs); st != 422 {
			t.Errorf("proxy to %s = %d, want 422: %s", tc.name, st, out["_raw"])
		}
	}
	if st, out := appoint(hs[4], hs[3], map[string]string{fmt.Sprint(res[0]): "no"}); st != 201 || out["directed"] != true {
		t.Errorf("directed proxy = %d: %s", st, out["_raw"])
	}
	// Revoke and appoint again before the session.
	e.must(204, "DELETE", mpath(id, "/proxies"), toks[hs[1]], nil)
	if st, _ := e.do("DELETE", mpath(id, "/proxies"), toks[hs[1]], nil); st != 404 {
		t.Errorf("revoking no proxy = %d, want 404", st)
	}
	if st, out := appoint(hs[1], hs[2], nil); st != 201 {
		t.Errorf("appointing again after revoking = %d: %s", st, out["_raw"])
	}
	// The limit is the co-op's rule.
	e.must(200, "PATCH", "/api/v1/coops/px", sec, map[string]any{"proxy_limit": 2})
	if st, out := appoint(hs[0], hs[2], nil); st != 201 {
		t.Errorf("a second proxy under a limit of 2 = %d: %s", st, out["_raw"])
	}
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	if st, out := e.do("DELETE", mpath(id, "/proxies"), toks[hs[1]], nil); st != 409 {
		t.Errorf("revocation after the session opened = %d, want 409: %s", st, out["_raw"])
	}
	if st, _ := appoint(hs[3], hs[4], nil); st != 409 {
		t.Errorf("appointment after the session opened = %d, want 409", st)
	}
	show := e.must(200, "GET", mpath(id, ""), toks[hs[2]], nil)
	if holds := show["you"].(map[string]any)["holds"].([]any); len(holds) != 2 {
		t.Errorf("%s holds %d proxies, want 2: %s", hs[2], len(holds), show["_raw"])
	}
	if strings.Contains(e.must(200, "GET", mpath(id, ""), toks[hs[1]], nil)["_raw"].(string), `"directions":{"`) {
		t.Errorf("another member's directions are shown to %s", hs[1])
	}
	own := e.must(200, "GET", mpath(id, ""), toks[hs[4]], nil)["you"].(map[string]any)["proxy"].(map[string]any)
	if d, _ := own["directions"].(map[string]any); own["holder"] != hs[3] || d[fmt.Sprint(res[0])] != "no" {
		t.Errorf("%s's own proxy = %v, want held by %s with her direction no", hs[4], own, hs[3])
	}
}

// TestMayCastThroughTheMeeting: remote ballots while called; in session
// only members recorded present; nobody after close.
func TestMayCastThroughTheMeeting(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("mc", "open", 1, "members", "members", "members")
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "mc", 25*time.Hour, "ordinary")
	e.vote(toks[hs[1]], res[0], yes("no")) // remote ballot while called
	if st, _ := e.do("POST", mpath(id, "/open"), sec, nil); st != 409 {
		t.Errorf("opening before the time called = %d, want 409", st)
	}
	e.clock.advance(25 * time.Hour)
	if st, _ := e.do("POST", mpath(id, "/open"), toks[hs[1]], nil); st != 403 {
		t.Errorf("a member who is not a secretary opens = %d, want 403", st)
	}
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	if st, out := e.do("PUT", ballotPath(res[0]), toks[hs[1]], yes("yes")); st != 403 || !strings.Contains(out["_raw"].(string), "remote voting closed") {
		t.Errorf("remote ballot in session = %d, want 403: %s", st, out["_raw"])
	}
	if st, _ := e.do("POST", mpath(id, "/attendance"), toks[hs[2]], map[string]any{"present": []string{hs[2]}}); st != 403 {
		t.Errorf("a member records attendance = %d, want 403", st)
	}
	e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": []string{hs[0], hs[1]}})
	e.vote(toks[hs[1]], res[0], yes("yes")) // present: changes her remote ballot
	e.must(200, "POST", mpath(id, "/checkin"), toks[hs[2]], nil)
	e.vote(toks[hs[2]], res[0], yes("yes"))
	if st, _ := e.do("PUT", ballotPath(res[0]), toks[hs[3]], yes("no")); st != 403 {
		t.Errorf("absent member in session = %d, want 403", st)
	}
	if st, out := e.do("POST", fmt.Sprintf("/api/v1/proposals/%d/close", res[0]), sec, nil); st != 409 {
		t.Errorf("closing a resolution on its own = %d, want 409: %s", st, out["_raw"])
	}
	e.must(200, "POST", mpath(id, "/close"), sec, nil)
	if st, out := e.do("PUT", ballotPath(res[0]), toks[hs[1]], yes("no")); st != 409 {
		t.Errorf("ballot after close = %d, want 409: %s", st, out["_raw"])
	}
	r := e.result(sec, res[0])
	if c := counts(r, "members"); c["yes"] != 2.0 || c["no"] != 0.0 {
		t.Errorf("counts = %v, want 2 yes (one changed in session), 0 no", c)
	}
	e.recount(sec, res[0])
	for _, path := range []string{"/open", "/close", "/checkin"} {
		if st, _ := e.do("POST", mpath(id, path), sec, nil); st != 409 {
			t.Errorf("POST %s after close = %d, want 409", path, st)
		}
	}
}

// TestTotalsCap: in a co-op of two classes, the hands of a class may not
// exceed its attendees without a ballot plus the discretionary proxies
// they hold; nobody is counted twice, not even by voting in the app after
// the show of hands.
func TestTotalsCap(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("tc", "somerset", 0, "workers", "workers", "workers", "workers", "users", "users")
	// tc0..tc4 workers, tc5, tc6 users.
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "tc", time.Hour, "ordinary")
	_, elsewhere := e.meeting(sec, "tc", time.Hour, "ordinary")
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[4]], map[string]any{"holder": hs[3]})                                                            // discretionary
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[6]], map[string]any{"holder": hs[5], "directions": map[string]string{fmt.Sprint(res[0]): "no"}}) // directed
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": []string{hs[0], hs[1], hs[2], hs[3], hs[5]}})
	e.vote(toks[hs[1]], res[0], yes("yes")) // in the app: not a hand
	totals := func(class string, y, n, a int) (int, map[string]any) {
		body := map[string]any{"proposal_id": res[0], "yes": y, "no": n, "abstain": a}
		if class != "" {
			body["class"] = class
		}
		return e.do("POST", mpath(id, "/totals"), sec, body)
	}
	// Workers: tc0, tc2, tc3 present without a ballot, and tc3 holds tc4's
	// discretionary proxy: at most 4 hands. Users: tc5 present (tc6's
	// proxy is directed, a ballot already): at most 1.
	if st, out := totals("workers", 3, 1, 1); st != 422 || !strings.Contains(out["_raw"].(string), "nobody is counted twice") {
		t.Errorf("5 worker hands = %d, want 422: %s", st, out["_raw"])
	}
	if st, out := totals("workers", 3, 1, 0); st != 200 {
		t.Errorf("4 worker hands = %d: %s", st, out["_raw"])
	}
	if st, _ := totals("users", 1, 1, 0); st != 422 {
		t.Errorf("2 user hands = %d, want 422", st)
	}
	if st, _ := totals("", 1, 0, 0); st != 422 {
		t.Errorf("totals without a class in a co-op of two voting classes = %d, want 422", st)
	}
	if st, _ := totals("friends", 1, 0, 0); st != 422 {
		t.Errorf("totals for an unknown class = %d, want 422", st)
	}
	if st, _ := e.do("POST", mpath(id, "/totals"), sec, map[string]any{"proposal_id": elsewhere[0], "yes": 1, "no": 0, "abstain": 0, "class": "users"}); st != 404 {
		t.Errorf("totals for another meeting's resolution = %d, want 404", st)
	}
	if st, _ := e.do("POST", mpath(id, "/totals"), toks[hs[1]], map[string]any{"proposal_id": res[0], "yes": 1, "no": 0, "abstain": 0, "class": "users"}); st != 403 {
		t.Errorf("a member enters totals = %d, want 403", st)
	}
	if st, _ := e.do("POST", mpath(id, "/totals"), sec, `{"proposal_id": "x"}`); st != 400 {
		t.Errorf("malformed totals = %d, want 400", st)
	}
	e.must(200, "POST", mpath(id, "/totals"), sec, map[string]any{"proposal_id": res[0], "yes": 1, "no": 0, "abstain": 0, "class": "users"})
	lines := e.must(200, "GET", mpath(id, "/totals"), toks[hs[2]], nil)["totals"].([]any)
	if len(lines) != 3 {
		t.Fatalf("show of hands has %d lines, want one per voting class: %v", len(lines), lines)
	}
	if w := lines[0].(map[string]any); w["class"] != "workers" || w["yes"] != 3.0 ||
		w["limit"].(map[string]any)["attendees"] != 3.0 || w["limit"].(map[string]any)["proxies"] != 1.0 {
		t.Errorf("workers' show of hands = %v, want 3 yes of at most 3 attendees and 1 proxy", w)
	}
	// tc3's hand and tc4's proxy were counted: she may not vote in the app
	// on top, until the secretary takes them out of the show of hands.
	if st, out := e.do("PUT", ballotPath(res[0]), toks[hs[3]], yes("no")); st != 409 {
		t.Errorf("voting in the app after one's hand was counted = %d, want 409: %s", st, out["_raw"])
	}
	if st, _ := totals("workers", 2, 0, 0); st != 200 { // re-posting replaces: tc0, tc2 yes
		t.Errorf("replacing the worker totals = %d", st)
	}
	e.vote(toks[hs[3]], res[0], yes("no")) // for herself and, by proxy, tc4
	if st, _ := totals("workers", 2, 1, 0); st != 422 {
		t.Errorf("3 worker hands once tc3 voted in the app = %d, want 422 (the cap is now 2)", st)
	}
	e.must(200, "POST", mpath(id, "/close"), sec, nil)
	r := e.result(sec, res[0])
	// workers: tc1 yes (app), tc0+tc2 yes (hands), tc3 no (app), tc4 no (follows tc3).
	// users: tc5 yes (hand), tc6 no (directed proxy).
	if w, u := counts(r, "workers"), counts(r, "users"); w["yes"] != 3.0 || w["no"] != 2.0 || u["yes"] != 1.0 || u["no"] != 1.0 {
		t.Errorf("counts: workers %v, users %v; want workers 3 yes 2 no, users 1 yes 1 no", w, u)
	}
	rec := e.recount(sec, res[0])
	if len(rec.Totals) != 6 {
		t.Errorf("record holds %d totals, want 3 choices × 2 classes: %+v", len(rec.Totals), rec.Totals)
	}
}

// TestDirectedAndDiscretionaryProxies: a directed proxy is the appointer's
// ballot, cast by the holder; a discretionary one follows the holder's
// ballot; the appointer's own ballot always wins over either, and an
// appointer who attends votes herself.
func TestDirectedAndDiscretionaryProxies(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("dd", "open", 0, "members", "members", "members", "members", "members", "members")
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "dd", time.Hour, "ordinary", "ordinary")
	e.must(200, "PATCH", "/api/v1/coops/dd", sec, map[string]any{"proxy_limit": 3})
	dir := func(r int64, c string) map[string]string { return map[string]string{fmt.Sprint(r): c} }
	// dd1 holds three: dd2 directed no on the first resolution only,
	// dd3 discretionary, dd4 directed yes on both but votes herself.
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[2]], map[string]any{"holder": hs[1], "directions": dir(res[0], "no")})
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[3]], map[string]any{"holder": hs[1]})
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[4]], map[string]any{"holder": hs[1],
		"directions": map[string]string{fmt.Sprint(res[0]): "yes", fmt.Sprint(res[1]): "yes"}})
	// dd6 gives dd5 a discretionary proxy, then comes to the meeting.
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[6]], map[string]any{"holder": hs[5]})
	for _, r := range res {
		e.vote(toks[hs[1]], r, yes("yes"))
		e.vote(toks[hs[4]], r, yes("no"))
	}
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": []string{hs[0], hs[5], hs[6]}})
	for _, r := range res {
		e.vote(toks[hs[6]], r, yes("abstain"))
		e.vote(toks[hs[5]], r, yes("no"))
	}
	minutes := e.must(200, "POST", mpath(id, "/close"), sec, nil)
	// First: dd1 yes, dd2 no (directed), dd3 yes (follows dd1), dd4 no (own ballot wins),
	// dd5 no, dd6 abstain (attended). Second: dd2 follows dd1 too.
	want := []map[string]float64{{"yes": 2, "no": 3, "abstain": 1}, {"yes": 3, "no": 2, "abstain": 1}}
	for i, r := range res {
		c := counts(e.result(sec, r), "members")
		for k, n := range want[i] {
			if c[k] != n {
				t.Errorf("resolution %d: %s = %v, want %v (counts %v)", i+1, k, c[k], n, c)
			}
		}
		rec := e.recount(sec, r)
		var proxied, delegated []string
		for _, b := range rec.Ballots {
			if b.Proxy != "" {
				proxied = append(proxied, b.Voter+"<-"+b.Proxy+":"+*b.Choice)
			}
		}
		for _, d := range rec.Delegations {
			if d.Kind == "proxy" {
				delegated = append(delegated, d.From+"->"+*d.To)
			}
		}
		wantP, wantD := "dd2<-dd1:no", "dd3->dd1"
		if i == 1 {
			wantP, wantD = "", "dd2->dd1,dd3->dd1"
		}
		if strings.Join(proxied, ",") != wantP || strings.Join(delegated, ",") != wantD {
			t.Errorf("resolution %d record: proxy ballots %v (want %q), proxy delegations %v (want %q)", i+1, proxied, wantP, delegated, wantD)
		}
	}
	q := minutes["markdown"].(string)
	for _, f := range []string{"Proxies (4): @dd2 held by @dd1 (directed), @dd3 held by @dd1 (discretionary), @dd4 held by @dd1 (directed), @dd6 held by @dd5 (discretionary)",
		"3 present, 3 represented by proxy"} {
		if !strings.Contains(q, f) {
			t.Errorf("minutes lack %q:\n%s", f, q)
		}
	}
}

// TestRegisterNumbering numbers passed resolutions YYYY/N per co-op and
// calendar year of the close, across meetings.
func TestRegisterNumbering(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("rg", "open", 0, "members", "members")
	sec := toks[hs[0]]
	run := func(at time.Duration, choices ...string) []int64 {
		kinds := make([]string, len(choices))
		for i := range kinds {
			kinds[i] = "ordinary"
		}
		id, res := e.meeting(sec, "rg", at, kinds...)
		e.clock.advance(at)
		e.must(200, "POST", mpath(id, "/open"), sec, nil)
		e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": hs})
		for i, c := range choices {
			for _, h := range hs {
				e.vote(toks[h], res[i], yes(c))
			}
		}
		e.must(200, "POST", mpath(id, "/close"), sec, nil)
		return res
	}
	first := run(time.Hour, "yes", "no", "yes") // 22 Nov 2026
	second := run(7*24*time.Hour, "yes")        // 29 Nov 2026
	third := run(45*24*time.Hour, "yes", "yes") // 13 Jan 2027
	reg := e.must(200, "GET", "/api/v1/coops/rg/resolutions", sec, nil)["resolutions"].([]any)
	want := []struct {
		number string
		id     int64
	}{{"2026/1", first[0]}, {"2026/2", first[2]}, {"2026/3", second[0]}, {"2027/1", third[0]}, {"2027/2", third[1]}}
	if len(reg) != len(want) {
		t.Fatalf("register has %d entries, want %d: %v", len(reg), len(want), reg)
	}
	for i, w := range want {
		r := reg[i].(map[string]any)
		if r["number"] != w.number || r["proposal_id"] != float64(w.id) || r["outcome"] != "passed" || r["kind"] != "ordinary" || r["passed_at"] == nil {
			t.Errorf("register[%d] = %v, want %s for proposal %d", i, r, w.number, w.id)
		}
	}
	all := e.must(200, "GET", "/api/v1/coops/rg/resolutions?all=true", sec, nil)["resolutions"].([]any)
	if len(all) != 6 || all[1].(map[string]any)["outcome"] != "rejected" || all[1].(map[string]any)["number"] != nil {
		t.Errorf("the whole register = %v, want six with the rejected one unnumbered", all)
	}
}

// TestMinutes checks what the minutes say, and their approval at the next
// meeting, which is put on its agenda.
func TestMinutes(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("mn", "open", 0, "members", "members", "members", "members")
	sec := toks[hs[0]]
	id, res := e.meeting(sec, "mn", time.Hour, "special", "ordinary")
	e.must(201, "POST", mpath(id, "/proxies"), toks[hs[3]], map[string]any{"holder": hs[1]})
	e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"apologies": []string{hs[4]}})
	if st, _ := e.do("GET", mpath(id, "/minutes"), sec, nil); st != 409 {
		t.Errorf("minutes before close = %d, want 409", st)
	}
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), sec, nil)
	e.must(200, "POST", mpath(id, "/attendance"), sec, map[string]any{"present": []string{hs[0], hs[1], hs[2]}})
	e.vote(toks[hs[0]], res[0], yes("yes"))
	e.vote(toks[hs[1]], res[0], yes("yes"))
	e.vote(toks[hs[2]], res[0], yes("no"))
	e.must(200, "POST", mpath(id, "/totals"), sec, map[string]any{"proposal_id": res[1], "yes": 2, "no": 1, "abstain": 0})
	closed := e.must(200, "POST", mpath(id, "/close"), sec, nil)
	got := e.must(200, "GET", mpath(id, "/minutes"), toks[hs[2]], nil)
	md := got["markdown"].(string)
	if md != closed["markdown"] {
		t.Errorf("GET minutes differ from those written at close")
	}
	for _, f := range []string{
		"# Minutes: General meeting mn",
		"- Present (3): @mn0, @mn1, @mn2",
		"- Apologies (1): @mn4",
		"- Proxies (1): @mn3 held by @mn1 (discretionary)",
		"5 members eligible to vote. Quorum: FairShares default for 5 eligible members (under 10): half and at least 3, so 3",
		"3 present, 1 represented by proxy, 0 voting remotely — 4 of 3 required. The meeting was quorate.",
		"### 1. Welcome",
		"### 2. Motion 1",
		"Special resolution (proposal",
		"> That we do it.",
		"For 3, against 1, abstain 0.", // mn3 follows mn1's yes
		"**Passed** as resolution 2026/1.",
		"For 2, against 1, abstain 0.",
		"members: for 2, against 1, abstain 0 (3 by show of hands)",
		"**Passed** as resolution 2026/2.",
	} {
		if !strings.Contains(md, f) {
			t.Errorf("minutes lack %q:\n%s", f, md)
		}
	}
	rs := got["resolutions"].([]any)
	if len(rs) != 2 || rs[0].(map[string]any)["number"] != "2026/1" || rs[1].(map[string]any)["outcome"] != "passed" || got["quorate"] != true {
		t.Errorf("minutes resolutions = %v, quorate %v", rs, got["quorate"])
	}
	e.recount(sec, res[1])

	// The next meeting approves them.
	next, _ := e.meeting(sec, "mn", 2*time.Hour)
	agenda := e.must(200, "GET", mpath(next, ""), sec, nil)["agenda"].([]any)
	first := agenda[0].(map[string]any)
	if !strings.HasPrefix(first["title"].(string), "Approve the minutes of General meeting mn") || first["approves_minutes"] != float64(id) {
		t.Errorf("next meeting's first item = %v", first)
	}
	if st, _ := e.do("POST", mpath(id, "/minutes/approve"), sec, nil); st != 409 {
		t.Errorf("approving before the next meeting is in session = %d, want 409", st)
	}
	e.clock.advance(2 * time.Hour)
	e.must(200, "POST", mpath(next, "/open"), sec, nil)
	if st, _ := e.do("POST", mpath(id, "/minutes/approve"), toks[hs[1]], nil); st != 403 {
		t.Errorf("a member approves minutes = %d, want 403", st)
	}
	ap := e.must(200, "POST", mpath(id, "/minutes/approve"), sec, nil)
	if ap["meeting_id"] != float64(next) {
		t.Errorf("approved at %v, want meeting %d", ap["meeting_id"], next)
	}
	if st, _ := e.do("POST", mpath(id, "/minutes/approve"), sec, nil); st != 409 {
		t.Errorf("approving twice = %d, want 409", st)
	}
	got = e.must(200, "GET", mpath(id, "/minutes"), sec, nil)
	if !strings.Contains(got["markdown"].(string), fmt.Sprintf("Approved at General meeting mn (meeting %d)", next)) || got["approved"] == nil {
		t.Errorf("approved minutes = %s", got["_raw"])
	}
	e.must(200, "POST", mpath(next, "/close"), sec, nil)
	third, _ := e.meeting(sec, "mn", time.Hour)
	a := e.must(200, "GET", mpath(third, ""), sec, nil)["agenda"].([]any)
	if len(a) != 2 || a[0].(map[string]any)["approves_minutes"] != float64(next) {
		t.Errorf("a meeting after one with unapproved minutes: agenda %v, want the approval of meeting %d and Welcome", a, next)
	}
}

// TestMeetingsOfOtherCoops: a meeting is not found by anyone outside its
// co-op, and its secretary actions are refused to plain members.
func TestMeetingsOfOtherCoops(t *testing.T) {
	e := newEnv(t)
	toks, hs := e.coop("oa", "open", 0, "members")
	btoks, bhs := e.coop("ob", "open", 0, "members")
	id, res := e.meeting(toks[hs[0]], "oa", time.Hour, "ordinary")
	bid, bres := e.meeting(btoks[bhs[0]], "ob", time.Hour, "ordinary")
	stranger := e.signup("stranger")
	for _, tok := range []string{btoks[bhs[0]], btoks[bhs[1]], stranger} {
		for _, req := range []struct {
			method, path string
			body         any
		}{
			{"GET", mpath(id, ""), nil},
			{"GET", mpath(id, "/minutes"), nil},
			{"POST", mpath(id, "/proxies"), map[string]any{"holder": hs[1]}},
			{"DELETE", mpath(id, "/proxies"), nil},
			{"POST", mpath(id, "/open"), nil},
			{"POST", mpath(id, "/close"), nil},
			{"POST", mpath(id, "/checkin"), nil},
			{"POST", mpath(id, "/attendance"), map[string]any{"present": []string{hs[1]}}},
			{"POST", mpath(id, "/totals"), map[string]any{"proposal_id": res[0], "yes": 1, "no": 0, "abstain": 0}},
			{"POST", mpath(id, "/minutes/approve"), nil},
			{"GET", mpath(999999, ""), nil},
			{"GET", "/api/v1/meetings/abc", nil},
		} {
			if st, out := e.do(req.method, req.path, tok, req.body); st != 404 {
				t.Errorf("%s %s by an outsider = %d, want 404: %s", req.method, req.path, st, out["_raw"])
			}
		}
	}
	for _, path := range []string{"/api/v1/coops/oa/meetings", "/api/v1/coops/oa/resolutions"} {
		if st, _ := e.do("GET", path, stranger, nil); st != 403 {
			t.Errorf("GET %s by a stranger = %d, want 403", path, st)
		}
	}
	// A proxy holder from another co-op, directions and totals naming
	// another co-op's resolution.
	if st, _ := e.do("POST", mpath(id, "/proxies"), toks[hs[1]], map[string]any{"holder": bhs[0]}); st != 422 {
		t.Errorf("proxy held by another co-op's member = %d, want 422", st)
	}
	if st, _ := e.do("POST", mpath(id, "/proxies"), toks[hs[1]], map[string]any{"holder": hs[0],
		"directions": map[string]string{fmt.Sprint(bres[0]): "yes"}}); st != 422 {
		t.Errorf("directions on another co-op's resolution = %d, want 422", st)
	}
	e.clock.advance(time.Hour)
	e.must(200, "POST", mpath(id, "/open"), toks[hs[0]], nil)
	if st, _ := e.do("POST", mpath(id, "/totals"), toks[hs[0]], map[string]any{"proposal_id": bres[0], "yes": 0, "no": 0, "abstain": 0}); st != 404 {
		t.Errorf("totals for another co-op's resolution = %d, want 404", st)
	}
	for _, path := range []string{"/open", "/close", "/call"} {
		if st, _ := e.do("POST", mpath(bid, path), toks[hs[0]], nil); st != 404 {
			t.Errorf("POST %s on another co-op's meeting = %d, want 404", path, st)
		}
	}
	for _, tc := range []struct {
		path string
		body any
	}{
		{mpath(id, "/proxies"), `{"holder": `},
		{mpath(id, "/attendance"), `{"present": "everyone"}`},
		{mpath(id, "/totals"), `[1, 2]`},
		{mpath(id, "/attendance"), nil},
	} {
		if st, out := e.do("POST", tc.path, toks[hs[0]], tc.body); st != 400 {
			t.Errorf("POST %s with %v = %d, want 400: %s", tc.path, tc.body, st, out["_raw"])
		}
	}
	list := e.must(200, "GET", "/api/v1/coops/oa/meetings", toks[hs[1]], nil)["meetings"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["state"] != "in_session" {
		t.Errorf("meetings of oa = %v", list)
	}
}
