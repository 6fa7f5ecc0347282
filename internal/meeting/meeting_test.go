// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package meeting_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/meeting"
	"opencoop/internal/record"
	"opencoop/internal/storetest"
)

func TestRequiredQuorum(t *testing.T) {
	for _, tc := range []struct{ eligible, want int64 }{
		{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 3}, {5, 3}, {6, 3}, {7, 4}, {9, 5},
		{10, 4}, {11, 5}, {12, 5}, {13, 6}, {50, 20},
		{51, 20}, {1000, 20}, {2_000_000, 20},
	} {
		if got := meeting.RequiredQuorum(tc.eligible); got != tc.want {
			t.Errorf("RequiredQuorum(%d) = %d, want %d", tc.eligible, got, tc.want)
		}
	}
}

// world is a co-op of a secretary and members on a fresh store, with a
// settable clock.
type world struct {
	t     *testing.T
	s     *app.Services
	c     *coop.Coop
	now   time.Time
	accts []auth.Account
}

func newWorld(t *testing.T, members int) *world {
	t.Helper()
	w := &world{t: t, now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	w.s = app.New(storetest.Open(t), func() time.Time { return w.now }, []byte("0123456789abcdef0123456789abcdef"),
		slog.New(slog.DiscardHandler), "http://opencoop.test")
	ctx := t.Context()
	zero := 0
	for i := range members + 1 {
		h := fmt.Sprintf("p%d", i)
		a, err := w.s.Auth.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "correct horse " + h})
		if err != nil {
			t.Fatalf("SignUp: %v", err)
		}
		w.accts = append(w.accts, a)
		if i == 0 {
			if w.c, err = w.s.Coops.Found(ctx, a, coop.NewCoop{Slug: "w", Name: "W", Purpose: "p", Preset: "open", NoticeDays: &zero}); err != nil {
				t.Fatalf("Found: %v", err)
			}
			continue
		}
		inv, err := w.s.Coops.Invite(ctx, w.c, w.accts[0], coop.NewInvitation{Class: "members"})
		if err != nil {
			t.Fatalf("Invite: %v", err)
		}
		if _, err := w.s.Coops.Join(ctx, w.c, a, inv.Code); err != nil {
			t.Fatalf("Join: %v", err)
		}
	}
	return w
}

// TestRecordFixedAtClose closes a meeting with a proxy, attendance and
// totals, then changes what is still changeable — the proxy holder leaves,
// the co-op's proxy limit — and wants the same decision record, which
// recounts to the stored result.
func TestRecordFixedAtClose(t *testing.T) {
	w := newWorld(t, 4)
	ctx := context.Background()
	sec := w.accts[0]
	m, err := w.s.Meetings.Create(ctx, w.c, sec, meeting.NewMeeting{Title: "GM", StartsAt: w.now.Add(time.Hour),
		Agenda: []meeting.NewItem{{Title: "Motion", Resolution: &meeting.Resolution{Title: "Motion", Kind: meeting.Ordinary}}}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	pid := m.Agenda[0].ProposalID
	if _, err := w.s.Meetings.AppointProxy(ctx, w.accts[3], m.ID, meeting.NewProxy{Holder: "p1"}); err != nil {
		t.Fatalf("AppointProxy: %v", err)
	}
	yes := "yes"
	if _, err := w.s.Govern.Cast(ctx, w.accts[4], pid, record.Content{Choice: &yes}); err != nil {
		t.Fatalf("remote Cast: %v", err)
	}
	w.now = w.now.Add(time.Hour)
	if _, err := w.s.Meetings.Open(ctx, sec, m.ID); err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := w.s.Govern.Cast(ctx, w.accts[4], pid, record.Content{Choice: &yes}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("remote Cast in session = %v, want ErrForbidden", err)
	}
	if _, err := w.s.Meetings.RecordAttendance(ctx, sec, m.ID, meeting.Attendance{Present: []string{"p0", "p1", "p2"}}); err != nil {
		t.Fatalf("RecordAttendance: %v", err)
	}
	if _, err := w.s.Meetings.EnterTotals(ctx, sec, m.ID, meeting.Totals{ProposalID: pid, Yes: 3, No: 1}); err != nil {
		t.Fatalf("EnterTotals: %v", err)
	}
	if _, err := w.s.Meetings.Close(ctx, sec, m.ID); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := w.s.Govern.Cast(ctx, w.accts[1], pid, record.Content{Choice: &yes}); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Cast after close = %v, want ErrConflict", err)
	}
	p, _, err := w.s.Govern.Proposal(ctx, &sec, pid)
	if err != nil {
		t.Fatal(err)
	}
	before, err := w.s.Govern.Record(ctx, p)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if err := w.s.Coops.Leave(ctx, w.c, w.accts[1]); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	limit := 5
	if _, err := w.s.Coops.UpdateSettings(ctx, w.c, sec, coop.Settings{ProxyLimit: &limit}); err != nil {
		t.Fatalf("UpdateSettings: %v", err)
	}
	after, err := w.s.Govern.Record(ctx, p)
	if err != nil {
		t.Fatalf("Record after changes: %v", err)
	}
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) {
		t.Errorf("the record changed after close:\n before %s\n after  %s", a, b)
	}
	got, err := record.Count(after)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	c, _ := json.Marshal(got)
	d, _ := json.Marshal(p.Result)
	if string(c) != string(d) {
		t.Errorf("recount = %s, stored %s", c, d)
	}
	if after.Meeting == nil || !after.Meeting.Quorate || after.Meeting.Present != 3 || after.Meeting.Remote != 1 || after.Meeting.Proxies != 1 {
		t.Errorf("record's meeting = %+v, want quorate with 3 present + 1 remote voter and 1 proxy", after.Meeting)
	}
	// p4 yes (remote), p0..p2 and p3's proxy held by p1 by hands: 3 yes, 1 no.
	if n := p.Result.Classes["members"].Counts; n["yes"] != 4 || n["no"] != 1 {
		t.Errorf("counts = %v, want 4 yes 1 no", n)
	}
}

// TestCloseWhileVoting closes a meeting while every attendee keeps voting:
// each ballot either lands before the close and is counted, or is refused
// as too late — never an error of the database, such as a deadlock
// between a ballot (proposal, then meeting) and the close (PostgreSQL).
func TestCloseWhileVoting(t *testing.T) {
	w := newWorld(t, 12)
	ctx := context.Background()
	sec := w.accts[0]
	m, err := w.s.Meetings.Create(ctx, w.c, sec, meeting.NewMeeting{Title: "GM", StartsAt: w.now.Add(time.Hour),
		Agenda: []meeting.NewItem{{Title: "A", Resolution: &meeting.Resolution{Title: "A"}}, {Title: "B", Resolution: &meeting.Resolution{Title: "B"}}}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	w.now = w.now.Add(time.Hour)
	if _, err := w.s.Meetings.Open(ctx, sec, m.ID); err != nil {
		t.Fatalf("Open: %v", err)
	}
	var handles []string
	for _, a := range w.accts {
		handles = append(handles, a.Handle)
	}
	if _, err := w.s.Meetings.RecordAttendance(ctx, sec, m.ID, meeting.Attendance{Present: handles}); err != nil {
		t.Fatalf("RecordAttendance: %v", err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(w.accts))
	start, closed := make(chan struct{}), make(chan struct{})
	for _, a := range w.accts[1:] {
		wg.Go(func() {
			<-start
			// A bounded run: PostgreSQL lets a stream of share locks (each
			// ballot read-locks its proposal) starve a writer, which is not
			// what this test is about.
			for i := range 40 {
				choice := []string{"yes", "no"}[i%2]
				_, err := w.s.Govern.Cast(ctx, a, m.Agenda[i%2].ProposalID, record.Content{Choice: &choice})
				if errors.Is(err, errs.ErrConflict) {
					return // closed
				}
				if err != nil {
					errc <- fmt.Errorf("%s: Cast: %w", a.Handle, err)
					return
				}
				select {
				case <-closed:
					return // the close failed
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
	close(start)
	time.Sleep(20 * time.Millisecond)
	if _, err := w.s.Meetings.Close(ctx, sec, m.ID); err != nil {
		t.Errorf("Close: %v", err)
	}
	close(closed)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
