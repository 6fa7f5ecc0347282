// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/storetest"
)

// books is a co-op with a treasurer (its founder, ada) and a member, bo.
type books struct {
	t      *testing.T
	ledger *ledger.Service
	coop   *coop.Coop
	ada    auth.Account
	bo     auth.Account
	now    time.Time
}

func newBooks(t *testing.T) *books {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t)
	b := &books{t: t, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return b.now }
	as := auth.NewService(db, clock)
	cs := &coop.Service{DB: db, Now: clock}
	b.ledger = &ledger.Service{DB: db, Coops: cs, Now: clock}
	var err error
	if b.ada, err = as.CreateAccount(ctx, auth.NewAccount{Handle: "ada", Name: "Ada", Email: "ada@example.org", Password: "password-ada"}); err != nil {
		t.Fatal(err)
	}
	if b.bo, err = as.CreateAccount(ctx, auth.NewAccount{Handle: "bo", Name: "Bo", Email: "bo@example.org", Password: "password-bo"}); err != nil {
		t.Fatal(err)
	}
	if b.coop, err = cs.Found(ctx, b.ada, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "worker"}); err != nil {
		t.Fatal(err)
	}
	inv, err := cs.Invite(ctx, b.coop, b.ada, coop.NewInvitation{Class: b.coop.Classes[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Join(ctx, b.coop, b.bo, inv.Code); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *books) submit(a auth.Account, reqs ...ledger.Request) ([]ledger.Transfer, bool, error) {
	return b.ledger.Submit(context.Background(), b.coop, a, reqs)
}

func (b *books) balance(owner string) (bal, avail int64) {
	b.t.Helper()
	accts, err := b.ledger.Accounts(context.Background(), b.coop, owner)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, a := range accts {
		return a.Balance, a.Available
	}
	return 0, 0
}

func (b *books) check() {
	b.t.Helper()
	rep, err := b.ledger.Check(context.Background(), b.coop)
	if err != nil || !rep.OK {
		b.t.Fatalf("ledger check: %v %+v", err, rep)
	}
}

func TestTransfersAndBalances(t *testing.T) {
	b := newBooks(t)
	in := ledger.Request{ID: "in-1", Debit: "external", Credit: "member:bo", Amount: 5000, Kind: "income"}
	if _, created, err := b.submit(b.ada, in); err != nil || !created {
		t.Fatalf("treasurer records income: %v %v", created, err)
	}
	// A replay is harmless; the same id with other content is refused.
	if _, created, err := b.submit(b.ada, in); err != nil || created {
		t.Fatalf("replay: created %v, %v", created, err)
	}
	other := in
	other.Amount = 5001
	if _, _, err := b.submit(b.ada, other); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("same id, other amount: %v, want conflict", err)
	}
	if bal, _ := b.balance("member:bo"); bal != 5000 {
		t.Fatalf("bo has %d, want 5000", bal)
	}
	// Bo reserves 3000 for the pool, then can spend only 2000 more.
	if _, _, err := b.submit(b.bo, ledger.Request{ID: "r1", Debit: "member:bo", Credit: "coop:pool", Amount: 3000, Kind: "pledge", Pending: true}); err != nil {
		t.Fatal(err)
	}
	if bal, avail := b.balance("member:bo"); bal != 5000 || avail != 2000 {
		t.Fatalf("after reserving: balance %d available %d, want 5000, 2000", bal, avail)
	}
	if _, _, err := b.submit(b.bo, ledger.Request{ID: "x1", Debit: "member:bo", Credit: "coop:pool", Amount: 2001, Kind: "gift"}); !errors.Is(err, ledger.ErrInsufficient) {
		t.Fatalf("overdraft: %v, want insufficient", err)
	}
	// Post 2500 of the 3000: 500 comes back.
	if _, _, err := b.ledger.SubmitResolve(context.Background(), b.coop, b.bo, "r1", ledger.ActPost, 2500); err != nil {
		t.Fatal(err)
	}
	if bal, avail := b.balance("member:bo"); bal != 2500 || avail != 2500 {
		t.Fatalf("after posting 2500: balance %d available %d", bal, avail)
	}
	if _, _, err := b.ledger.SubmitResolve(context.Background(), b.coop, b.bo, "r1", ledger.ActVoid, 0); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("void after post: %v, want conflict", err)
	}
	if _, created, err := b.ledger.SubmitResolve(context.Background(), b.coop, b.bo, "r1", ledger.ActPost, 2500); err != nil || created {
		t.Fatalf("repeating the post: %v %v, want a replay", created, err)
	}
	// Bo may not move Ada's money nor the pool; Ada reverses a transfer.
	if _, _, err := b.submit(b.bo, ledger.Request{ID: "x2", Debit: "coop:pool", Credit: "member:bo", Amount: 1, Kind: "grab"}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("member moving the pool: %v", err)
	}
	if _, _, err := b.ledger.SubmitReverse(context.Background(), b.coop, b.ada, "r1:post", "fix-1", ""); err != nil {
		t.Fatal(err)
	}
	if bal, _ := b.balance("member:bo"); bal != 5000 {
		t.Fatalf("after the reversal bo has %d, want 5000", bal)
	}
	if _, _, err := b.ledger.SubmitReverse(context.Background(), b.coop, b.ada, "r1:post", "fix-2", ""); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("second reversal: %v, want conflict", err)
	}
	b.check()
}

func TestPendingExpires(t *testing.T) {
	b := newBooks(t)
	if _, _, err := b.submit(b.ada, ledger.Request{ID: "in", Debit: "external", Credit: "member:bo", Amount: 100, Kind: "income"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.submit(b.bo, ledger.Request{ID: "p", Debit: "member:bo", Credit: "coop:pool", Amount: 100, Kind: "pledge", Pending: true, Timeout: 60}); err != nil {
		t.Fatal(err)
	}
	b.now = b.now.Add(time.Minute)
	if _, _, err := b.ledger.SubmitResolve(context.Background(), b.coop, b.bo, "p", ledger.ActPost, 0); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("posting an expired transfer: %v", err)
	}
	if n, err := b.ledger.ExpireDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	if _, avail := b.balance("member:bo"); avail != 100 {
		t.Fatalf("after expiry bo may spend %d, want 100", avail)
	}
	if n, _ := b.ledger.ExpireDue(context.Background()); n != 0 {
		t.Fatalf("expired again: %d", n)
	}
	b.check()
}

func TestBadRequestsWriteNothing(t *testing.T) {
	b := newBooks(t)
	good := ledger.Request{ID: "g", Debit: "external", Credit: "member:bo", Amount: 10, Kind: "income"}
	for _, r := range []ledger.Request{
		{ID: "a", Debit: "external", Credit: "member:bo", Amount: 0, Kind: "income"},
		{ID: "b", Debit: "external", Credit: "member:bo", Amount: -5, Kind: "income"},
		{ID: "c", Debit: "external", Credit: "member:bo", Amount: 1 << 60, Kind: "income"},
		{ID: "d", Debit: "external", Credit: "member:bo", Amount: 5, Unit: "eur", Kind: "income"},
		{ID: "e", Debit: "external", Credit: "member:nobody", Amount: 5, Kind: "income"},
		{ID: "f", Debit: "external", Credit: "bucket:99", Amount: 5, Kind: "income"},
		{ID: "", Debit: "external", Credit: "member:bo", Amount: 5, Kind: "income"},
		{ID: "h", Debit: "external", Credit: "external", Amount: 5, Kind: "income"},
		{ID: "i", Debit: "external", Credit: "member:bo", Amount: 5, Kind: "Income!"},
	} {
		// Each bad request rides in a batch after a good one: nothing of
		// the batch may stay.
		if _, _, err := b.submit(b.ada, good, r); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
	rep, _ := b.ledger.Check(context.Background(), b.coop)
	if n := rep.Units["EUR"].Transfers; n != 0 {
		t.Errorf("refused batches left %d transfers", n)
	}
	b.check()
}

// TestConcurrentSpending: many clients spend one balance at once; it is
// never overdrawn, and exactly as many succeed as it covers.
func TestConcurrentSpending(t *testing.T) {
	b := newBooks(t)
	if _, _, err := b.submit(b.ada, ledger.Request{ID: "in", Debit: "external", Credit: "member:bo", Amount: 1000, Kind: "income"}); err != nil {
		t.Fatal(err)
	}
	const clients = 40
	errc := make(chan error, clients)
	for i := range clients {
		go func() {
			_, _, err := b.submit(b.bo, ledger.Request{ID: fmt.Sprintf("s%d", i), Debit: "member:bo", Credit: "coop:pool", Amount: 100, Kind: "gift"})
			errc <- err
		}()
	}
	ok := 0
	for range clients {
		switch err := <-errc; {
		case err == nil:
			ok++
		case !errors.Is(err, ledger.ErrInsufficient):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if bal, _ := b.balance("member:bo"); ok != 10 || bal != 0 {
		t.Errorf("%d spends succeeded leaving %d; want 10 leaving 0", ok, bal)
	}
	b.check()
}
