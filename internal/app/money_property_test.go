// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"opencoop/internal/app"
	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/govern"
	"opencoop/internal/ledger"
	"opencoop/internal/pool"
	"opencoop/internal/storetest"
	"opencoop/internal/vote"
)

// The money property test builds a whole instance with app.New on a fresh
// store and a clock it moves, founds a co-op of eight members in four
// classes, sets a pooling rule, and then runs a random sequence of every
// money operation — hand transfers by members and treasurers, pending
// transfers posted (in part), voided or expired, reversals, replays and
// conflicting replays, incomes split by the pooling rule, budget rounds
// with their allowances, buckets, contributions, withdrawals,
// cancellations and closes, share offers with their applications,
// withdrawals, closes and allotments, and operations that must be
// refused. A reference model (money_model_test.go) decides, from
// RULES.md 3.1–3.4, what each operation must answer and move; the test
// then holds the instance to it. The operations are in money_ops_test.go,
// money_budget_test.go and money_shares_test.go.
//
// After every step: the answer is the model's (ok, replay, invalid,
// forbidden, notfound, conflict, insufficient); the journal entries the
// step wrote are exactly the legs the model expected; every account's
// four sums (so its balance and available amount) equal the model's and no
// other account exists; per unit the balances sum to zero; no
// no-overdraft account is below zero counting pending debits; the
// ledger's Check replays the journal to the same balances (every
// checkEvery steps and at the end, as it reads the whole journal); the audit
// chain verifies; and a refused operation or a replay wrote no audit event
// while an accepted one wrote at least one. Operations check what they
// return besides (allowances and their sum, close totals, allotments,
// memberships), and at the end the whole journal must be the model's.
//
// TestMoneyProperties runs fixed seeds. TestMoneyPropertiesRandom runs
// fresh seeds for OPENCOOP_PROPERTY_SECONDS seconds (3 by default; skipped
// with -short unless the variable is set), logging each. Replay a failure
// with
//
//	OPENCOOP_PROPERTY_SEED=<seed> go test ./internal/app -run TestMoneyPropertiesRandom -v
//
// (OPENCOOP_PROPERTY_STEPS=<n> stops after n steps; OPENCOOP_PROPERTY_TRACE=1
// logs every step with its answer.)

func TestMoneyProperties(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel() // each seed has a store of its own
			runMoney(t, seed, 600, 0)
		})
	}
}

func TestMoneyPropertiesRandom(t *testing.T) {
	secs, steps := os.Getenv("OPENCOOP_PROPERTY_SECONDS"), randomSteps
	if s := os.Getenv("OPENCOOP_PROPERTY_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("OPENCOOP_PROPERTY_STEPS: %v", err)
		}
		steps = n
	}
	if s := os.Getenv("OPENCOOP_PROPERTY_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OPENCOOP_PROPERTY_SEED: %v", err)
		}
		n := runMoney(t, seed, steps, 0)
		t.Logf("seed %d: %d steps held", seed, n)
		return
	}
	if secs == "" && testing.Short() {
		t.Skip("-short: set OPENCOOP_PROPERTY_SECONDS to run random seeds")
	}
	budget := 3 * time.Second
	if secs != "" {
		f, err := strconv.ParseFloat(secs, 64)
		if err != nil || f <= 0 {
			t.Fatalf("OPENCOOP_PROPERTY_SECONDS=%q: give a number of seconds", secs)
		}
		budget = time.Duration(f * float64(time.Second))
	}
	end := time.Now().Add(budget)
	for time.Now().Before(end) {
		seed := rand.Uint64()
		t.Logf("seed %d (replay: OPENCOOP_PROPERTY_SEED=%d go test ./internal/app -run TestMoneyPropertiesRandom -v)", seed, seed)
		ok := t.Run(fmt.Sprint(seed), func(t *testing.T) {
			n := runMoney(t, seed, steps, time.Until(end))
			t.Logf("seed %d: %d steps held", seed, n)
		})
		if !ok {
			return
		}
	}
}

// randomSteps bounds one random seed's run: the checks after each step
// read the whole journal and audit log, so a step costs more as the run
// goes on; fresh seeds find more than long runs.
const randomSteps = 1500

// harness drives one instance and its model.
type harness struct {
	t    *testing.T
	ctx  context.Context
	seed uint64
	step int
	what string
	rng  *rand.Rand

	mu  sync.Mutex // the clock, read by the services
	svc *app.Services
	c   *coop.Coop
	m   *model
	acc map[string]auth.Account

	passed, rejected int64 // proposals that passed and failed: core expenses cite them

	lastSeq  int64 // the journal's last entry seen
	events   int64 // audit events so far
	wrote    bool  // the step's operation is expected to write
	next     int   // for fresh ids
	outcomes map[string]int
	trace    bool // log every step (OPENCOOP_PROPERTY_TRACE)

	// Past requests, to replay.
	subs      []pastSubmit
	incs      []pastIncome
	gifts     []pastContribution
	resolves  []pastResolve
	reversals []pastReverse
}

type pastSubmit struct {
	who  string
	reqs []ledger.Request
}

type pastIncome struct {
	who string
	in  pool.NewIncome
}

type pastContribution struct {
	who      string
	bucket   int64
	amount   int64
	clientID string
}

type pastResolve struct {
	who, id, action string
	amount          int64
}

type pastReverse struct {
	who, id, newID, kind string
}

// The people: eight members of mill (ada founded it and is its secretary
// and treasurer; bo is a treasurer too), three people who may apply for
// shares, and zed, who never joins.
var (
	memberClasses = []struct{ handle, class string }{{"ada", "workers"}, {"bo", "workers"}, {"cy", "workers"}, {"di", "users"},
		{"ed", "users"}, {"fay", "supporters"}, {"gus", "users"}, {"hal", "supporters"}}
	outsiders = []string{"ivy", "jo", "kai", "zed"}
)

// runMoney runs steps random operations (or until budget runs out, if
// set) on a fresh instance built from seed, and returns how many ran.
func runMoney(t *testing.T, seed uint64, steps int, budget time.Duration) int {
	h := &harness{t: t, ctx: context.Background(), seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d)),
		m: newModel(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)), acc: map[string]auth.Account{}, outcomes: map[string]int{},
		trace: os.Getenv("OPENCOOP_PROPERTY_TRACE") != ""}
	h.setup()
	start := time.Now()
	h.step = 1
	for ; h.step <= steps && (budget == 0 || time.Since(start) < budget); h.step++ {
		h.what, h.wrote = "", false
		before := h.events
		h.randomOp()
		h.checkInvariants(before)
	}
	h.checkJournal()
	var keys []string
	for k := range h.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, h.outcomes[k])
	}
	t.Logf("seed %d: %d steps, %d journal entries, %d audit events; outcomes:%s", seed, h.step-1, len(h.m.journal), h.events, b.String())
	return h.step - 1
}

func (h *harness) clock() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.m.now }

func (h *harness) advance(d time.Duration) { h.mu.Lock(); h.m.now = h.m.now.Add(d); h.mu.Unlock() }

// fatalf fails the run, naming the seed, the step and the operation.
func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("seed %d step %d: %s: %s\n(replay: OPENCOOP_PROPERTY_SEED=%d OPENCOOP_PROPERTY_STEPS=%d go test ./internal/app -run TestMoneyPropertiesRandom -v)",
		h.seed, h.step, h.what, fmt.Sprintf(format, args...), h.seed, h.step)
}

// must fails the run on a setup error.
func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.fatalf("%v", err)
	}
}

func (h *harness) id(prefix string) string { h.next++; return prefix + strconv.Itoa(h.next) }

// setup builds the instance: accounts, the co-op and its members, a
// second treasurer, a passed and a failed proposal (for core expenses),
// and the Enspiral pooling rule.
func (h *harness) setup() {
	h.what = "setup"
	db := storetest.Open(h.t)
	h.svc = app.New(db, h.clock, make([]byte, 32), slog.New(slog.DiscardHandler), "http://127.0.0.1:8080")
	ctx := h.ctx
	var handles []string
	for _, mc := range memberClasses {
		handles = append(handles, mc.handle)
	}
	handles = append(handles, outsiders...)
	for _, hd := range handles {
		a, err := h.svc.Auth.CreateAccount(ctx, auth.NewAccount{Handle: hd, Name: hd, Email: hd + "@example.org", Password: "password-" + hd})
		h.must(err)
		h.acc[hd] = a
		h.m.people[hd] = &person{handle: hd}
		h.m.handles = append(h.m.handles, hd)
	}
	no := false
	c, err := h.svc.Coops.Found(ctx, h.acc["ada"], coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour for all.", Preset: "somerset",
		Classes: []coop.ClassSpec{{Key: "workers", Weight: 50}, {Key: "users", Weight: 30}, {Key: "supporters", Weight: 20},
			{Key: "investors", Weight: 0, Votes: &no}}, FounderClass: "workers"})
	h.must(err)
	h.c = c
	for _, mc := range memberClasses[1:] {
		inv, err := h.svc.Coops.Invite(ctx, c, h.acc["ada"], coop.NewInvitation{Class: mc.class})
		h.must(err)
		_, err = h.svc.Coops.Join(ctx, c, h.acc[mc.handle], inv.Code)
		h.must(err)
	}
	yes := true
	_, err = h.svc.Coops.UpdateMember(ctx, c, h.acc["ada"], "bo", coop.MemberUpdate{Treasurer: &yes})
	h.must(err)
	for _, mc := range memberClasses {
		mem, err := h.svc.Coops.MemberByHandle(ctx, c, mc.handle)
		h.must(err)
		p := h.m.people[mc.handle]
		p.memberID, p.state, p.class = mem.ID, "member", mc.class
		p.treasurer, p.secretary = mem.Treasurer, mem.Secretary
	}
	if p := h.m.people["ada"]; !p.treasurer || !p.secretary {
		h.fatalf("the founder is not secretary and treasurer: %+v", p)
	}
	if p := h.m.people["bo"]; !p.treasurer || p.secretary {
		h.fatalf("bo is not treasurer only: %+v", p)
	}
	h.passed, h.rejected = h.decision(true), h.decision(false)

	// Without a rule an income is refused.
	_, _, err = h.svc.Pool.RecordIncome(ctx, c, h.acc["ada"], pool.NewIncome{ID: "early", Member: "bo", Amount: 100, Kind: pool.KindInvoice})
	if !errors.Is(err, errs.ErrConflict) {
		h.fatalf("an income before any pooling rule: %v, want a conflict", err)
	}
	_, err = h.svc.Pool.SetRule(ctx, c, h.acc["ada"], pool.SetRule{Preset: pool.Enspiral})
	h.must(err)
	h.m.rule = &mRule{preset: pool.Enspiral, collective: 2000, foundation: 2500, venture: 500}

	rep, err := audit.Verify(ctx, h.svc.DB)
	h.must(err)
	h.events = rep.Events
	h.checkInvariants(h.events)

	// Money to start with: the treasurer records payments from outside to
	// every member and to the pool.
	for _, to := range append(handles[:len(memberClasses):len(memberClasses)], "pool") {
		owner := "member:" + to
		if to == "pool" {
			owner = "coop:pool"
		}
		before := h.events
		h.submit("ada", []ledger.Request{{ID: h.id("fund"), Debit: "external", Credit: owner, Amount: 5000 + h.rng.Int64N(20000), Kind: "payment"}})
		h.checkInvariants(before)
	}
}

// decision returns a yes/no proposal that everyone voted on, closed: passed
// if yes.
func (h *harness) decision(yes bool) int64 {
	p, err := h.svc.Govern.Create(h.ctx, h.c, h.acc["ada"], govern.NewProposal{Title: "Rent", Method: vote.YesNo, ClosesAt: h.clock().Add(time.Hour)})
	h.must(err)
	choice := "no"
	if yes {
		choice = "yes"
	}
	for _, mc := range memberClasses {
		_, err := h.svc.Govern.Cast(h.ctx, h.acc[mc.handle], p.ID, govern.BallotInput{Choice: &choice})
		h.must(err)
	}
	_, err = h.svc.Govern.Close(h.ctx, h.c, h.acc["ada"], p.ID)
	h.must(err)
	return p.ID
}

// outcome names an answer.
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
	return "error"
}

// expect holds the answer to the model's.
func (h *harness) expect(want, got string, err error) {
	h.t.Helper()
	h.outcomes[strings.Fields(h.what)[0]+":"+got]++
	if h.trace {
		h.t.Logf("step %d %s %s: %s (%v)", h.step, h.clock().Format(time.TimeOnly), got, h.what, err)
	}
	if got != want {
		h.fatalf("the instance answered %s (%v), the model says %s", got, err, want)
	}
	h.wrote = want == "ok"
}

// newEntries returns the journal entries written since the last call, in
// order.
func (h *harness) newEntries() []ledger.Entry {
	h.t.Helper()
	var out []ledger.Entry
	before := int64(0)
	for {
		es, err := h.svc.Ledger.Transfers(h.ctx, h.c, ledger.Filter{Before: before, Limit: 8})
		if err != nil {
			h.fatalf("Transfers: %v", err)
		}
		done := len(es) < 8
		for _, e := range es {
			if e.Seq <= h.lastSeq {
				done = true
				break
			}
			out = append(out, e)
		}
		if done {
			break
		}
		before = es[len(es)-1].Seq
	}
	slices.Reverse(out)
	if len(out) > 0 {
		h.lastSeq = out[len(out)-1].Seq
	}
	return out
}

// settle holds the journal entries the step wrote to legs, each entry one
// leg, and moves the model by them.
func (h *harness) settle(legs []leg) {
	h.t.Helper()
	es := h.newEntries()
	used := make([]bool, len(es))
	var missing []string
	for _, l := range legs {
		found := false
		for i, e := range es {
			if !used[i] && l.matches(e.Transfer) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, l.String())
		}
	}
	var extra []string
	var ts []ledger.Transfer
	for i, e := range es {
		if !used[i] {
			extra = append(extra, fmt.Sprintf("%s %s→%s %d %s id=%s", e.Action, e.Debit, e.Credit, e.Amount, e.Unit, e.ID))
		}
		if !e.At.Equal(h.clock()) {
			h.fatalf("journal entry %s is dated %s, the clock says %s", e.ID, e.At, h.clock())
		}
		ts = append(ts, e.Transfer)
	}
	if len(missing) > 0 || len(extra) > 0 {
		h.fatalf("the journal differs from the model's legs:\n  expected, not written: %v\n  written, not expected: %v", missing, extra)
	}
	h.m.move(legs)
	h.m.learn(ts)
}

// refused checks that a refused operation or a replay wrote nothing to
// the journal.
func (h *harness) refused() { h.t.Helper(); h.settle(nil) }

// checkInvariants holds the instance to the model and to RULES.md 3.1
// after a step; before is the audit event count before it.
func (h *harness) checkInvariants(before int64) {
	h.t.Helper()
	accts, err := h.svc.Ledger.Accounts(h.ctx, h.c, "")
	if err != nil {
		h.fatalf("Accounts: %v", err)
	}
	sum := map[string]int64{}
	for _, a := range accts {
		want, ok := h.m.accts[acctKey{a.Owner, a.Unit}]
		if !ok {
			h.fatalf("the ledger has an account %s %s the model never opened (balance %d)", a.Owner, a.Unit, a.Balance)
		}
		if a.Balance != want.balance() || a.Available != want.available() || a.DebitsPending != want.dq || a.CreditsPending != want.cq {
			h.fatalf("%s %s holds %d (available %d, pending debits %d, credits %d); the model %d (available %d, pending %d, %d)",
				a.Owner, a.Unit, a.Balance, a.Available, a.DebitsPending, a.CreditsPending, want.balance(), want.available(), want.dq, want.cq)
		}
		if a.External != (a.Owner == "external") || a.NoOverdraft != noOverdraft(a.Owner) {
			h.fatalf("%s %s has flags external=%v no_overdraft=%v", a.Owner, a.Unit, a.External, a.NoOverdraft)
		}
		if a.NoOverdraft && a.Available < 0 {
			h.fatalf("%s %s is overdrawn: available %d", a.Owner, a.Unit, a.Available)
		}
		sum[a.Unit] += a.Balance
	}
	if len(accts) != len(h.m.accts) {
		h.fatalf("the ledger has %d accounts, the model %d", len(accts), len(h.m.accts))
	}
	for u, s := range sum {
		if s != 0 {
			h.fatalf("the %s balances sum to %d, not 0", u, s)
		}
	}
	// The full recomputation reads the whole journal: every checkEvery
	// steps, and at the end, keeps the run linear in its length while a
	// broken step is still caught within a few of it (the model's balances
	// above are compared at every step).
	if h.step%checkEvery == 0 {
		h.checkLedger()
	}
	ar, err := audit.Verify(h.ctx, h.svc.DB)
	if err != nil || ar.Problem != nil {
		h.fatalf("audit.Verify: %v %v", err, ar.Problem)
	}
	switch {
	case h.wrote && ar.Events <= before:
		h.fatalf("an accepted operation wrote no audit event")
	case !h.wrote && ar.Events != before:
		h.fatalf("a refused operation, or a replay, wrote %d audit events", ar.Events-before)
	}
	h.events = ar.Events
}

// checkEvery is how often, in steps, the property test recomputes every
// balance from the journal.
const checkEvery = 5

// checkLedger recomputes every balance from the journal (RULES.md 3.1).
func (h *harness) checkLedger() {
	h.t.Helper()
	rep, err := h.svc.Ledger.Check(h.ctx, h.c)
	if err != nil || !rep.OK {
		h.fatalf("ledger Check: %v %+v", err, rep)
	}
}

// checkJournal holds the whole journal, at the end, to the model's: every
// entry once, unchanged since it was written, in its state.
func (h *harness) checkJournal() {
	h.what = "the journal at the end"
	h.checkLedger()
	es, err := h.svc.Ledger.Transfers(h.ctx, h.c, ledger.Filter{})
	if err != nil {
		h.fatalf("Transfers: %v", err)
	}
	if len(es) != len(h.m.journal) {
		h.fatalf("the journal has %d entries, the model %d", len(es), len(h.m.journal))
	}
	for _, e := range es {
		me, ok := h.m.entries[e.ID]
		if !ok {
			h.fatalf("journal entry %s is not the model's", e.ID)
		}
		want := me.t
		want.State = me.state
		if e.Transfer.State != want.State || e.Action != want.Action || e.Debit != want.Debit || e.Credit != want.Credit ||
			e.Amount != want.Amount || e.Unit != want.Unit || !e.At.Equal(want.At) || e.PendingID != want.PendingID || e.Reverses != want.Reverses {
			h.fatalf("journal entry %s is %+v; the model %+v", e.ID, e.Transfer, want)
		}
	}
}
