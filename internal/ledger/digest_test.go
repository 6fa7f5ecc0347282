// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// digestCases are transfers with every optional field and strings that
// JSON escapes.
func digestCases() []ledger.Transfer {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.UTC)
	exp := at.Add(time.Hour)
	return []ledger.Transfer{
		{ID: "a1", Action: ledger.ActTransfer, Debit: "coop:pool", Credit: "member:m1", Amount: 5, Unit: "EUR", Kind: "allowance", Actor: "system", At: at},
		{ID: "a2", Action: ledger.ActPending, Debit: "member:m1", Credit: "bucket:7", Amount: 1 << 50, Unit: "HOURS", Kind: "x",
			Ref: `say "<hi>" & \ bye`, ExpiresAt: &exp, Batch: "a1", Actor: "account:3", At: at, State: "pending"},
		{ID: "a3:post", Action: ledger.ActPost, Debit: "member:m1", Credit: "bucket:7", Amount: 1, Unit: "EUR", Kind: "x",
			Ref: "café ☕ \u2028 \x01", PendingID: "a2", Actor: "system", At: at.Add(time.Nanosecond)},
		{ID: "a4", Action: ledger.ActReverse, Debit: "member:m1", Credit: "coop:pool", Amount: 9, Unit: "EUR", Kind: "reversal",
			Reverses: "a1", Actor: "system", At: at, Ref: "bad \xff utf-8"},
	}
}

// TestDigestIsCanonical holds Digest to the hash of audit.Canonical of
// the same list, with every optional field and strings that JSON escapes.
func TestDigestIsCanonical(t *testing.T) {
	ts := digestCases()
	for n := range len(ts) + 1 {
		c, err := audit.Canonical(ts[:n])
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			c = json.RawMessage("[]")
		}
		sum := sha256.Sum256(c)
		if got, want := ledger.Digest(ts[:n]), hex.EncodeToString(sum[:]); got != want {
			t.Errorf("Digest(ts[:%d]) = %s, want %s (of %s)", n, got, want, c)
		}
	}
}

// TestAuditPayloadIsCanonical holds the list payload the ledger writes by
// hand to audit.Canonical of the same value.
func TestAuditPayloadIsCanonical(t *testing.T) {
	ts := digestCases()
	for n := 1; n <= len(ts); n++ {
		want, err := audit.Canonical(map[string]any{"transfers": ts[:n]})
		if err != nil {
			t.Fatal(err)
		}
		got, err := audit.Canonical(ledger.AuditPayload(ts[:n]))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("the payload of %d transfers is\n%s\nwant\n%s", n, got, want)
		}
	}
}

// TestLargeBatchAudit checks that a batch too large to list in its audit
// event is recorded by its count, sums, first and last ids and a digest
// that the journal reproduces, and that the chain verifies.
func TestLargeBatchAudit(t *testing.T) {
	ls, c, db := bigCoop(t, 300)
	ctx := context.Background()
	var reqs []ledger.Request
	for i := range 250 {
		reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("big%d", i), Debit: "coop:pool", Credit: fmt.Sprintf("member:m%d", i+1),
			Amount: int64(i + 1), Kind: "allowance", Ref: "round:1"})
	}
	var out []ledger.Transfer
	err := db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		out, _, err = ls.Apply(ctx, tx, c, "system", reqs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := audit.List(ctx, db, c.ID, 0, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("audit.List = %v, %v", evs, err)
	}
	var p struct {
		Count       int
		First, Last string
		Sums        map[string]int64
		SHA256      string
		Transfers   []any
	}
	if err := json.Unmarshal(evs[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	journal := make([]ledger.Transfer, len(reqs))
	for i, r := range reqs {
		if journal[i], err = ls.TransferByID(ctx, c, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if p.Count != 250 || p.First != "big0" || p.Last != "big249" || p.Sums[c.Currency] != 250*251/2 || p.Transfers != nil {
		t.Errorf("payload %s: want count 250, first big0, last big249, sum 31375, no list", evs[0].Payload)
	}
	if p.SHA256 != ledger.Digest(journal) || p.SHA256 != ledger.Digest(out) {
		t.Errorf("payload sha256 %s; the journal's digest is %s, Apply's answer's %s", p.SHA256, ledger.Digest(journal), ledger.Digest(out))
	}
	if r, err := audit.Verify(ctx, db); err != nil || r.Problem != nil {
		t.Errorf("audit.Verify = %v, %v", r.Problem, err)
	}
}
