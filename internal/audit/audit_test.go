// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// logOf writes n events to chains 1 and 2 alternately.
func logOf(t *testing.T, n int) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i := range n {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := audit.Record(ctx, tx, audit.Entry{Chain: int64(1 + i%2), At: at.Add(time.Duration(i) * time.Second),
				Actor: "account:1", Action: "test.event", Object: "thing:1", Payload: map[string]any{"i": i, "big": int64(1) << 60}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name   string
		tamper string
		want   string // fragment of the problem; "" = intact
	}{
		{"intact", "", ""},
		{"payload altered", `UPDATE audit_events SET payload = '{"i":99}' WHERE chain = 1 AND seq = 2`, "event 2: content"},
		{"actor altered", `UPDATE audit_events SET actor = 'account:2' WHERE chain = 2 AND seq = 1`, "chain 2, event 1: content"},
		{"middle removed", `DELETE FROM audit_events WHERE chain = 1 AND seq = 2`, "chain 1, event 2: missing"},
		{"last removed", `DELETE FROM audit_events WHERE chain = 2 AND seq = 3`, "chain 2, event 2: the chain's head"},
		{"rehashed but unlinked", `UPDATE audit_events SET prev_hash = 'x' WHERE chain = 1 AND seq = 3`, "chain 1, event 3: prev_hash"},
		{"whole chain removed", `DELETE FROM audit_events WHERE chain = 2`, "chain 2, event 1: the chain's head exists"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := logOf(t, 6)
			if tc.tamper != "" {
				if _, err := db.Read().Exec(tc.tamper); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := audit.Verify(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && rep.Problem != nil:
				t.Errorf("Verify = %v, want intact", rep.Problem)
			case tc.want == "" && rep.Events != 6:
				t.Errorf("Verify read %d events, want 6", rep.Events)
			case tc.want != "" && (rep.Problem == nil || !strings.Contains(rep.Problem.Error(), tc.want)):
				t.Errorf("Verify = %v, want a problem with %q", rep.Problem, tc.want)
			}
		})
	}
}

func TestListNewestFirst(t *testing.T) {
	db := logOf(t, 6)
	evs, err := audit.List(context.Background(), db, 1, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Seq != 3 || evs[1].Seq != 2 || evs[1].Hash != evs[0].PrevHash {
		t.Errorf("List(chain 1, limit 2) = %+v", evs)
	}
	if !evs[0].At.Equal(time.Date(2026, 1, 2, 3, 4, 9, 123456000, time.UTC)) {
		t.Errorf("time = %v, want microsecond precision kept in UTC", evs[0].At)
	}
}

func TestCanonical(t *testing.T) {
	a, _ := audit.Canonical(map[string]any{"b": 1, "a": []int{2, 1}})
	b, _ := audit.Canonical(struct {
		A []int `json:"a"`
		B int   `json:"b"`
	}{[]int{2, 1}, 1})
	if string(a) != `{"a":[2,1],"b":1}` || string(a) != string(b) {
		t.Errorf("Canonical = %s and %s, want both {\"a\":[2,1],\"b\":1}", a, b)
	}
	big, _ := audit.Canonical(map[string]int64{"n": 1<<62 + 1})
	if string(big) != `{"n":4611686018427387905}` {
		t.Errorf("Canonical(2^62+1) = %s: large integers must survive", big)
	}
}

// TestRecordAll: events appended together, across chains and past one
// INSERT's rows, are stored exactly as one Record call each would store
// them, in the same transaction or after earlier events.
func TestRecordAll(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var es []audit.Entry
	for i := range 41 { // chain 1 gets 27, more than one INSERT's rows
		chain := int64(1 + min(i%3, 1))
		es = append(es, audit.Entry{Chain: chain, At: at.Add(time.Duration(i) * time.Second), Actor: "account:1",
			Action: "test.event", Object: "thing:1", Payload: map[string]any{"i": i}})
	}
	one, all := storetest.Open(t), storetest.Open(t)
	for _, db := range []*store.DB{one, all} {
		// An event before, so the chain's head already exists.
		if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := audit.Record(ctx, tx, es[0]); return err }); err != nil {
			t.Fatal(err)
		}
	}
	var got []audit.Event
	err := all.InTx(ctx, func(tx *store.Tx) error {
		var err error
		got, err = audit.RecordAll(ctx, tx, es[1:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es[1:] {
		err := one.InTx(ctx, func(tx *store.Tx) error {
			want, err := audit.Record(ctx, tx, e)
			if err == nil && (got[i].Seq != want.Seq || got[i].PrevHash != want.PrevHash || got[i].Hash != want.Hash) {
				t.Errorf("event %d: RecordAll gave chain %d seq %d hash %.8s (prev %.8s), Record seq %d hash %.8s (prev %.8s)",
					i, got[i].Chain, got[i].Seq, got[i].Hash, got[i].PrevHash, want.Seq, want.Hash, want.PrevHash)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := audit.Verify(ctx, all)
	if err != nil || rep.Problem != nil || rep.Events != int64(len(es)) {
		t.Errorf("Verify = %+v, %v; want %d events intact", rep, err, len(es))
	}
}
