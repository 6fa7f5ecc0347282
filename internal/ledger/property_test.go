// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// The property test drives the ledger with random sequences of every
// operation — transfers, pending ones, posts (partial), voids, expiry by
// the clock, reversals, replays, conflicting replays, overdraft attempts,
// good and bad batches — and runs the same sequence on a small in-memory
// model of RULES.md 3.1. After every step the ledger must have answered
// as the model did, every balance and available amount must equal the
// model's, per unit the balances must sum to zero, no no-overdraft
// account may be below zero counting pending debits, and Check must
// report the books whole.
//
// TestLedgerProperties runs fixed seeds (the same sequence every run);
// TestLedgerPropertiesRandom runs a fresh seed for about two seconds and
// logs it. Replay a failure with
//
//	LEDGER_SEED=<seed> LEDGER_STEPS=<steps> go test ./internal/ledger -run TestLedgerPropertiesRandom -v

func TestLedgerProperties(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			runProperties(t, seed, 400, 0)
		})
	}
}

func TestLedgerPropertiesRandom(t *testing.T) {
	seed, steps, budget := rand.Uint64(), 1<<30, 2*time.Second
	if s := os.Getenv("LEDGER_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("LEDGER_SEED: %v", err)
		}
		budget = time.Hour
	}
	if s := os.Getenv("LEDGER_STEPS"); s != "" {
		steps, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestLedgerPropertiesRandom -v)", seed, seed)
	n := runProperties(t, seed, steps, budget)
	t.Logf("seed %d: %d steps held", seed, n)
}

type key struct{ owner, unit string }

type sums struct{ dp, cp, dq, cq int64 }

func (s sums) balance() int64   { return s.cp - s.dp }
func (s sums) available() int64 { return s.cp - s.dp - s.dq }

// mEntry is one journal entry as the model keeps it.
type mEntry struct {
	req    *ledger.Request // set for entries a request created
	body   string          // what a replay must repeat, for the others
	t      ledger.Transfer
	state  string // pending, posted, voided, expired (pending entries)
	undone bool   // reversed
}

type model struct {
	accts   map[key]*sums
	entries map[string]*mEntry
	ids     []string // every entry id, in order
	pending []string // ids of pending transfers
	posted  []string // ids of posted transfers (transfer or post)
	reqs    [][]ledger.Request
	now     time.Time
}

var (
	owners = []string{"external", "coop:pool", "coop:reserves", "member:ada", "member:bo", "member:cy"}
	units  = []string{"EUR", "HOURS"}
)

func (m *model) acct(k key) *sums {
	a := m.accts[k]
	if a == nil {
		a = &sums{}
		m.accts[k] = a
	}
	return a
}

// outcome names an answer: ok, replay, invalid, conflict, insufficient,
// notfound.
func outcome(created bool, err error) string {
	switch {
	case err == nil && created:
		return "ok"
	case err == nil:
		return "replay"
	case errors.Is(err, ledger.ErrInsufficient):
		return "insufficient"
	case errors.Is(err, errs.ErrConflict):
		return "conflict"
	case errors.Is(err, errs.ErrNotFound):
		return "notfound"
	case errors.Is(err, errs.ErrForbidden):
		return "forbidden"
	}
	if _, ok := errors.AsType[*errs.ValidationError](err); ok {
		return "invalid"
	}
	return "error: " + err.Error()
}

func validReq(r ledger.Request) bool {
	if r.Amount <= 0 || r.Amount > money.MaxAmount || r.Debit == r.Credit || r.ID == "" {
		return false
	}
	for _, s := range []string{":post", ":void", ":expire"} {
		if strings.HasSuffix(r.ID, s) {
			return false
		}
	}
	return r.Timeout == 0 || r.Pending && r.Timeout > 0
}

// apply is Service.Apply on the model.
func (m *model) apply(reqs []ledger.Request) string {
	seen := map[string]bool{}
	norm := make([]ledger.Request, len(reqs))
	for i, r := range reqs {
		if r.Unit == "" {
			r.Unit = "EUR"
		}
		norm[i] = r
		if !validReq(r) || seen[r.ID] {
			return "invalid"
		}
		seen[r.ID] = true
	}
	old := 0
	for _, r := range norm {
		if e, ok := m.entries[r.ID]; ok {
			if e.req == nil || *e.req != r {
				return "conflict"
			}
			old++
		}
	}
	switch {
	case len(norm) == 0 || old == len(norm):
		return "replay"
	case old > 0:
		return "conflict"
	}
	for _, r := range norm {
		if r.Debit == "member:zed" || r.Credit == "member:zed" {
			return "invalid"
		}
	}
	delta := map[key]*sums{}
	at := func(k key) *sums {
		if delta[k] == nil {
			delta[k] = &sums{}
		}
		return delta[k]
	}
	for _, r := range norm {
		d, c := at(key{r.Debit, r.Unit}), at(key{r.Credit, r.Unit})
		if r.Pending {
			d.dq += r.Amount
			c.cq += r.Amount
		} else {
			d.dp += r.Amount
			c.cp += r.Amount
		}
	}
	for k, d := range delta {
		a := m.accts[k]
		if a == nil {
			a = &sums{}
		}
		if k.owner != "external" && a.cp+d.cp-a.dp-d.dp-a.dq-d.dq < 0 {
			return "insufficient"
		}
	}
	for k, d := range delta {
		a := m.acct(k)
		a.dp, a.cp, a.dq, a.cq = a.dp+d.dp, a.cp+d.cp, a.dq+d.dq, a.cq+d.cq
	}
	for _, r := range norm {
		e := &mEntry{req: &r}
		if r.Pending {
			e.state = "pending"
			m.pending = append(m.pending, r.ID)
		} else {
			m.posted = append(m.posted, r.ID)
		}
		m.entries[r.ID] = e
		m.ids = append(m.ids, r.ID)
	}
	return "ok"
}

// resolve is Service.Resolve on the model.
func (m *model) resolve(id, action string, amount int64) string {
	p, ok := m.entries[id]
	if !ok {
		return "notfound"
	}
	if p.req == nil || !p.req.Pending {
		return "invalid"
	}
	if amount == 0 || action != ledger.ActPost {
		amount = p.req.Amount
	}
	if amount < 0 || amount > p.req.Amount {
		return "invalid"
	}
	body := fmt.Sprintf("%s %s %d", id, action, amount)
	if p.state != "pending" {
		was := map[string]string{"posted": ledger.ActPost, "voided": ledger.ActVoid, "expired": ledger.ActExpire}[p.state]
		if e := m.entries[id+":"+was]; e != nil && e.body == body {
			return "replay"
		}
		return "conflict"
	}
	exp := p.t.ExpiresAt
	if action == ledger.ActPost && exp != nil && !m.now.Before(*exp) {
		return "conflict"
	}
	if action == ledger.ActExpire && (exp == nil || m.now.Before(*exp)) {
		return "invalid"
	}
	r := p.req
	d, c := m.acct(key{r.Debit, r.Unit}), m.acct(key{r.Credit, r.Unit})
	d.dq -= r.Amount
	c.cq -= r.Amount
	p.state = map[string]string{ledger.ActPost: "posted", ledger.ActVoid: "voided", ledger.ActExpire: "expired"}[action]
	rid := id + ":" + action
	if action == ledger.ActPost {
		d.dp += amount
		c.cp += amount
		m.posted = append(m.posted, rid)
	}
	m.entries[rid] = &mEntry{body: body}
	m.ids = append(m.ids, rid)
	return "ok"
}

// reverse is Service.Reverse on the model.
func (m *model) reverse(id, newID, kind string) string {
	if kind == "" {
		kind = "reversal"
	}
	for _, s := range []string{":post", ":void", ":expire"} {
		if strings.HasSuffix(newID, s) {
			return "invalid"
		}
	}
	o, ok := m.entries[id]
	if !ok {
		return "notfound"
	}
	if o.t.Action != ledger.ActTransfer && o.t.Action != ledger.ActPost {
		return "invalid"
	}
	body := "reverse " + id + " " + kind
	if e, ok := m.entries[newID]; ok {
		if e.body == body {
			return "replay"
		}
		return "conflict"
	}
	if o.undone {
		return "conflict"
	}
	c := m.acct(key{o.t.Credit, o.t.Unit})
	if o.t.Credit != "external" && c.available() < o.t.Amount {
		return "insufficient"
	}
	d := m.acct(key{o.t.Debit, o.t.Unit})
	c.dp += o.t.Amount
	d.cp += o.t.Amount
	o.undone = true
	m.entries[newID] = &mEntry{body: body}
	m.ids = append(m.ids, newID)
	m.posted = append(m.posted, newID) // a reversal is not reversed again: Reverse refuses it
	return "ok"
}

// expireDue is Service.ExpireDue on the model.
func (m *model) expireDue() int {
	n := 0
	for _, id := range m.pending {
		p := m.entries[id]
		if p.state == "pending" && p.t.ExpiresAt != nil && !m.now.Before(*p.t.ExpiresAt) {
			m.resolve(id, ledger.ActExpire, 0)
			n++
		}
	}
	return n
}

// runProperties runs steps random operations (or until budget runs out,
// if set) and returns how many ran.
func runProperties(t *testing.T, seed uint64, steps int, budget time.Duration) int {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	db := storetest.Open(t)
	m := &model{accts: map[key]*sums{}, entries: map[string]*mEntry{}, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return m.now }
	as := auth.NewService(db, clock)
	cs := &coop.Service{DB: db, Now: clock}
	ls := &ledger.Service{DB: db, Coops: cs, Now: clock}
	var founder auth.Account
	for _, h := range []string{"ada", "bo", "cy", "zed"} {
		a, err := as.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
		if err != nil {
			t.Fatal(err)
		}
		if h == "ada" {
			founder = a
		}
	}
	c, err := cs.Found(ctx, founder, coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "open"})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"bo", "cy"} {
		inv, err := cs.Invite(ctx, c, founder, coop.NewInvitation{Class: "members"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := as.AccountByHandle(ctx, h)
		if _, err := cs.Join(ctx, c, a, inv.Code); err != nil {
			t.Fatal(err)
		}
	}

	inTx := func(fn func(tx *store.Tx) error) error { return db.InTx(ctx, fn) }
	next := 0
	newID := func(p string) string { next++; return fmt.Sprintf("%s%d", p, next) }
	amount := func() int64 {
		switch x := rng.IntN(100); {
		case x < 3:
			return -rng.Int64N(3) // 0 or negative: refused
		case x < 7:
			return 1 + rng.Int64N(100000) // mostly an overdraft
		default:
			return 1 + rng.Int64N(500)
		}
	}
	request := func() ledger.Request {
		r := ledger.Request{ID: newID("t"), Debit: owners[rng.IntN(len(owners))], Credit: owners[rng.IntN(len(owners))],
			Amount: amount(), Unit: units[rng.IntN(len(units))], Kind: "payment"}
		switch x := rng.IntN(20); {
		case x < 9:
			r.Debit = "external" // money in, so there is some to move
		case x == 6:
			r.Unit = "" // the co-op's currency
		case x == 7:
			r.Credit = "member:zed" // not a member
		}
		return r
	}
	pick := func(ids []string) string {
		if len(ids) == 0 || rng.IntN(20) == 0 {
			return "nope" + strconv.Itoa(rng.IntN(3))
		}
		return ids[rng.IntN(len(ids))]
	}
	// open mostly lists the pending transfers still pending, sometimes
	// all of them (to post or void one resolved already).
	open := func() []string {
		if rng.IntN(4) == 0 {
			return m.pending
		}
		var ids []string
		for _, id := range m.pending {
			if m.entries[id].state == "pending" {
				ids = append(ids, id)
			}
		}
		return ids
	}
	start := time.Now()
	step := 0
	seenOutcome := map[string]int{}
	for ; step < steps && (budget == 0 || time.Since(start) < budget); step++ {
		var what, want, got string
		var reqs []ledger.Request
		switch op := rng.IntN(100); {
		case op < 22: // one transfer, sometimes pending
			r := request()
			if rng.IntN(2) == 0 {
				r.Pending = true
				if rng.IntN(2) == 0 {
					r.Timeout = 1 + rng.Int64N(120)
				}
			} else if rng.IntN(30) == 0 {
				r.Timeout = 10 // refused: only pending transfers expire
			}
			reqs = []ledger.Request{r}
		case op < 32: // a batch of 2 to 6, sometimes with a bad one
			for range 2 + rng.IntN(5) {
				reqs = append(reqs, request())
			}
			switch rng.IntN(8) {
			case 0:
				reqs[len(reqs)-1].ID = reqs[0].ID // twice one id
			case 1:
				reqs[len(reqs)-1].Credit = reqs[len(reqs)-1].Debit
			case 2:
				if len(m.reqs) > 0 {
					reqs[0] = m.reqs[rng.IntN(len(m.reqs))][0] // mixes old and new
				}
			case 3:
				reqs[0].ID = "x" + strconv.Itoa(next) + ":post" // a reserved id
			}
		case op < 38: // an overdraft attempt: an account pays more than it has
			k := key{owners[1+rng.IntN(5)], units[rng.IntN(2)]}
			// Mostly one with reservations, whose balance would still
			// cover the amount: only the pending debits refuse it.
			var reserved []key
			for k, a := range m.accts {
				if a.dq > 0 && k.owner != "external" {
					reserved = append(reserved, k)
				}
			}
			if len(reserved) > 0 && rng.IntN(4) > 0 {
				slices.SortFunc(reserved, func(a, b key) int { return strings.Compare(a.owner+a.unit, b.owner+b.unit) })
				k = reserved[rng.IntN(len(reserved))]
			}
			avail := int64(0)
			if a := m.accts[k]; a != nil {
				avail = a.available()
			}
			credit := "coop:common"
			if k.owner == credit {
				credit = "coop:pool"
			}
			reqs = []ledger.Request{{ID: newID("o"), Debit: k.owner, Credit: credit, Amount: avail + 1 + rng.Int64N(3), Unit: k.unit, Kind: "payment"}}
		case op < 46: // replay a request exactly
			if len(m.reqs) == 0 {
				continue
			}
			reqs = slices.Clone(m.reqs[rng.IntN(len(m.reqs))])
		case op < 51: // a conflicting replay: the same id, other content
			if len(m.reqs) == 0 {
				continue
			}
			reqs = slices.Clone(m.reqs[rng.IntN(len(m.reqs))])
			reqs[0].Amount++
		case op < 65: // post, all or part, sometimes too much
			id := pick(open())
			var amt int64
			if e := m.entries[id]; e != nil && e.req != nil && rng.IntN(2) == 0 {
				amt = 1 + rng.Int64N(e.req.Amount+1)
			}
			what = fmt.Sprintf("post %s %d", id, amt)
			want = m.resolve(id, ledger.ActPost, amt)
			inTx(func(tx *store.Tx) error {
				_, created, err := ls.Resolve(ctx, tx, c, "system", id, ledger.ActPost, amt)
				got = outcome(created, err)
				return err
			})
		case op < 73: // void
			id := pick(open())
			what = "void " + id
			want = m.resolve(id, ledger.ActVoid, 0)
			inTx(func(tx *store.Tx) error {
				_, created, err := ls.Resolve(ctx, tx, c, "system", id, ledger.ActVoid, 0)
				got = outcome(created, err)
				return err
			})
		case op < 80: // time passes; the scheduler expires what is due
			m.now = m.now.Add(time.Duration(1+rng.IntN(90)) * time.Second)
			what = "expire at " + m.now.Format(time.RFC3339)
			n, err := ls.ExpireDue(ctx)
			want, got = strconv.Itoa(m.expireDue()), strconv.Itoa(n)
			if err != nil {
				got = err.Error()
			}
		default: // reverse a posted transfer (or something else), sometimes replayed
			id := pick(m.posted)
			if rng.IntN(8) == 0 {
				id = pick(m.ids)
			}
			nid := newID("rv")
			if rng.IntN(5) == 0 && len(m.ids) > 0 {
				nid = m.ids[rng.IntN(len(m.ids))] // an id in use: a replay or a clash
			}
			kind := []string{"", "correction"}[rng.IntN(2)]
			what = fmt.Sprintf("reverse %s as %s (%s)", id, nid, kind)
			want = m.reverse(id, nid, kind)
			inTx(func(tx *store.Tx) error {
				_, created, err := ls.Reverse(ctx, tx, c, "system", id, nid, kind)
				got = outcome(created, err)
				return err
			})
		}
		if reqs != nil {
			what = fmt.Sprintf("apply %+v", reqs)
			want = m.apply(reqs)
			var out []ledger.Transfer
			inTx(func(tx *store.Tx) error {
				var created bool
				var err error
				out, created, err = ls.Apply(ctx, tx, c, "system", reqs)
				got = outcome(created, err)
				return err
			})
			if got == "ok" {
				m.reqs = append(m.reqs, reqs)
				for _, t := range out {
					m.entries[t.ID].t = t
				}
			}
			if got == "replay" {
				for _, tr := range out {
					if o := m.entries[tr.ID].t; o.ID != tr.ID || o.Amount != tr.Amount || o.Debit != tr.Debit || !o.At.Equal(tr.At) {
						t.Fatalf("seed %d step %d: %s: the replay returned %+v, not the original %+v", seed, step, what, tr, o)
					}
				}
			}
		}
		if got != want {
			t.Fatalf("seed %d step %d: %s: ledger says %s, model says %s", seed, step, what, got, want)
		}
		seenOutcome[strings.Fields(what)[0]+" "+got]++
		// Fill in what the ledger stored for the entries the model made.
		for _, id := range m.ids {
			if e := m.entries[id]; e.t.ID == "" {
				tr, err := ls.TransferByID(ctx, c, id)
				if err != nil {
					t.Fatalf("seed %d step %d: %s: %s is not in the journal: %v", seed, step, what, id, err)
				}
				e.t = tr
			}
		}
		compare(t, ctx, ls, c, m, fmt.Sprintf("seed %d step %d: after %s", seed, step, what))
	}
	t.Logf("seed %d: outcomes %v", seed, seenOutcome)
	// At the end, the whole journal: every entry, once, as the model has it.
	es, err := ls.Transfers(ctx, c, ledger.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(m.ids) {
		t.Fatalf("seed %d: the journal has %d entries, the model %d", seed, len(es), len(m.ids))
	}
	// (Entries expired at the same moment may stand in either order.)
	for _, e := range es {
		me, ok := m.entries[e.ID]
		if !ok || e.State != me.state {
			t.Errorf("seed %d: journal entry %s (%s) is not the model's (%+v)", seed, e.ID, e.State, me)
		}
	}
	return step
}

// compare checks the ledger's accounts against the model and the
// invariants of RULES.md 3.1.
func compare(t *testing.T, ctx context.Context, ls *ledger.Service, c *coop.Coop, m *model, where string) {
	t.Helper()
	accts, err := ls.Accounts(ctx, c, "")
	if err != nil {
		t.Fatal(err)
	}
	sum := map[string]int64{}
	seen := 0
	for _, a := range accts {
		want, ok := m.accts[key{a.Owner, a.Unit}]
		if !ok {
			t.Fatalf("%s: the ledger has an account %s %s the model never opened", where, a.Owner, a.Unit)
		}
		seen++
		if a.Balance != want.balance() || a.Available != want.available() || a.DebitsPending != want.dq || a.CreditsPending != want.cq {
			t.Fatalf("%s: %s %s is %d (available %d, pending %d/%d), model %d (available %d, pending %d/%d)", where, a.Owner, a.Unit,
				a.Balance, a.Available, a.DebitsPending, a.CreditsPending, want.balance(), want.available(), want.dq, want.cq)
		}
		if a.NoOverdraft == a.External || a.External != (a.Owner == "external") {
			t.Fatalf("%s: %s has flags no_overdraft %v external %v", where, a.Owner, a.NoOverdraft, a.External)
		}
		if a.NoOverdraft && a.Available < 0 {
			t.Fatalf("%s: %s %s is overdrawn: available %d", where, a.Owner, a.Unit, a.Available)
		}
		sum[a.Unit] += a.Balance
	}
	if seen != len(m.accts) {
		t.Fatalf("%s: the ledger has %d accounts, the model %d", where, seen, len(m.accts))
	}
	for u, s := range sum {
		if s != 0 {
			t.Fatalf("%s: %s balances sum to %d", where, u, s)
		}
	}
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("%s: Check = %v %+v", where, err, rep)
	}
}
