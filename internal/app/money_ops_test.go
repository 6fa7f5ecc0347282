// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package app_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/ledger"
	"opencoop/internal/pool"
)

// The operations of the money property test: each generates a request
// (good, or deliberately bad), asks the model what must happen, runs it on
// the instance, holds the answer and the journal to the model's and moves
// the model. Here the ledger's own operations, incomes and pooling rules,
// replays and the schedulers; budget rounds are in money_budget_test.go,
// share offers in money_shares_test.go.

func (h *harness) randomOp() {
	// Keep a round and an offer going most of the time, so that their
	// later steps get their turn.
	now := h.clock()
	if !slices.ContainsFunc(h.m.rounds, func(r *mRound) bool { return r.state == "open" && now.Before(r.fundingTo) }) && h.chance(25) {
		h.opCreateRound()
		return
	}
	if !slices.ContainsFunc(h.m.offers, func(o *mOffer) bool { return o.accepting(now) }) && h.chance(10) {
		h.opCreateOffer()
		return
	}
	switch x := h.rng.IntN(100); {
	case x < 10:
		h.opTransfer(false)
	case x < 15:
		h.opTransfer(true)
	case x < 21:
		h.opResolve()
	case x < 25:
		h.opExpire()
	case x < 27:
		h.opTime()
	case x < 30:
		h.opReverse()
	case x < 34:
		h.opReplay(false)
	case x < 37:
		h.opReplay(true)
	case x < 43:
		h.opIncome()
	case x < 45:
		h.opSetRule()
	case x < 47:
		h.opCreateRound()
	case x < 50:
		h.opCreateBucket()
	case x < 61:
		h.opChangeBucket()
	case x < 73:
		h.opContribute()
	case x < 76:
		h.opWithdraw()
	case x < 79:
		h.opCloseRound()
	case x < 81:
		h.opCreateOffer()
	case x < 83:
		h.opRegister()
	case x < 91:
		h.opApply()
	case x < 93:
		h.opWithdrawApplication()
	case x < 97:
		h.opCloseOffer()
	case x < 98:
		h.opSuspend()
	default:
		h.opCloseDue()
	}
}

// ---- choosing ----

func pick[T any](h *harness, xs []T) T { return xs[h.rng.IntN(len(xs))] }

func (h *harness) chance(n int) bool { return h.rng.IntN(100) < n }

// withState lists the people in one of states, in a fixed order.
func (h *harness) withState(states ...string) []string {
	var out []string
	for _, hd := range h.m.handles {
		if slices.Contains(states, h.m.people[hd].state) {
			out = append(out, hd)
		}
	}
	return out
}

func (h *harness) members() []string { return h.withState("member") }

func (h *harness) treasurers() []string {
	var out []string
	for _, hd := range h.members() {
		if h.m.people[hd].treasurer {
			out = append(out, hd)
		}
	}
	return out
}

// plainMembers lists members who are neither treasurer nor secretary (or,
// should every one of them be suspended, the suspended).
func (h *harness) plainMembers() []string {
	var out []string
	for _, hd := range h.members() {
		if p := h.m.people[hd]; !p.treasurer && !p.secretary {
			out = append(out, hd)
		}
	}
	if len(out) == 0 {
		return h.withState("suspended")
	}
	return out
}

func without(xs []string, x string) []string {
	return slices.DeleteFunc(slices.Clone(xs), func(y string) bool { return y == x })
}

// nonMember is someone who may not act in the co-op: an applicant, a
// suspended member or a person with no membership.
func (h *harness) nonMember() string { return pick(h, h.withState("", "applicant", "suspended")) }

// amount is mostly small (remainders matter), sometimes large.
func (h *harness) amount(limit int64) int64 {
	if h.chance(50) {
		return 1 + h.rng.Int64N(min(limit, 60))
	}
	return 1 + h.rng.Int64N(max(limit, 1))
}

// ---- hand transfers (RULES.md 3.1) ----

// handRequest is a transfer p might ask for by hand.
func (h *harness) handRequest(p *person) ledger.Request {
	r := ledger.Request{ID: h.id("h"), Kind: "payment"}
	switch {
	case h.chance(8):
		r.Unit = "HOURS"
	case h.chance(50):
		r.Unit = "EUR"
	}
	unit := r.Unit
	if unit == "" {
		unit = "EUR"
	}
	var holders []string // accounts money may go to
	for _, hd := range h.withState("member", "applicant", "suspended") {
		holders = append(holders, "member:"+hd)
	}
	if p.treasurer && h.chance(55) {
		r.Debit = pick(h, []string{"external", "external", "external", "coop:pool", "coop:reserves", "coop:foundation"})
		r.Credit = pick(h, append(holders, "coop:pool", "coop:pool", "coop:reserves", "coop:foundation", "external"))
		if h.chance(25) {
			if apps := h.withState("applicant"); len(apps) > 0 {
				r.Credit = "member:" + pick(h, apps)
			}
		}
		if r.Credit == r.Debit {
			r.Credit = "member:" + p.handle
		}
		if r.Debit == "external" {
			r.Amount = 100 + h.rng.Int64N(20000)
		} else {
			r.Amount = h.amount(h.m.available(r.Debit, unit)*2/3 + 1)
		}
	} else {
		r.Debit = "member:" + p.handle
		switch x := h.rng.IntN(100); {
		case x < 50:
			r.Credit = pick(h, without(holders, r.Debit))
		case x < 85:
			r.Credit = "coop:pool"
		default:
			r.Credit = "external"
		}
		r.Amount = h.amount(h.m.available(r.Debit, unit)/3 + 1)
	}
	if h.chance(25) {
		r.Pending = true
		if h.chance(50) {
			r.Timeout = 30 + h.rng.Int64N(600)
		}
	}
	return r
}

func fmtReqs(reqs []ledger.Request) string {
	var parts []string
	for _, r := range reqs {
		s := fmt.Sprintf("%s %s→%s %d %s", r.ID, r.Debit, r.Credit, r.Amount, r.Unit)
		if r.Pending {
			s += fmt.Sprintf(" pending(%ds)", r.Timeout)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// opTransfer submits a batch of hand transfers; bad makes one of them
// wrong in one way.
func (h *harness) opTransfer(bad bool) {
	defect := -1
	if bad {
		defect = h.rng.IntN(10)
	}
	who := pick(h, h.members())
	switch {
	case defect == 2:
		who = pick(h, h.plainMembers())
	case defect == 6:
		who = h.nonMember()
	case h.chance(35):
		who = pick(h, h.treasurers())
	}
	p := h.m.people[who]
	reqs := []ledger.Request{h.handRequest(p)}
	for range h.rng.IntN(3) {
		reqs = append(reqs, h.handRequest(p))
	}
	r := &reqs[h.rng.IntN(len(reqs))]
	switch defect {
	case 0: // a bad amount
		r.Amount = pick(h, []int64{0, -7, 1<<53 + 1})
	case 1: // another member's money
		r.Debit = "member:" + pick(h, without(h.members(), who))
	case 2: // the co-op's money, by a member who is no treasurer
		r.Debit = "coop:pool"
	case 3: // to someone who is not a member
		r.Credit = pick(h, []string{"member:zed", "member:nobody"})
	case 4: // more than there is, counting reservations
		reqs = []ledger.Request{*r}
		r = &reqs[0]
		if r.Debit == "external" {
			r.Debit = "member:" + who
		}
		unit := r.Unit
		if unit == "" {
			unit = "EUR"
		}
		r.Amount = h.m.available(r.Debit, unit) + 1 + h.rng.Int64N(50)
	case 5: // an account that moves only by its rules
		var ruled []string
		for k := range h.m.accts {
			if !byRules(k.owner) {
				ruled = append(ruled, k.owner)
			}
		}
		sort.Strings(ruled)
		ruled = append(ruled, "bucket:1", "offer:1")
		r.Credit = pick(h, ruled)
	case 7: // one id twice
		dup := *r
		dup.Amount++
		reqs = append(reqs, dup)
	case 8: // an id kept for resolutions
		r.ID += pick(h, []string{":post", ":void", ":expire"})
	case 9:
		r.Credit = r.Debit
	}
	h.submit(who, reqs)
}

// submit runs Service.Submit for who.
func (h *harness) submit(who string, reqs []ledger.Request) {
	h.t.Helper()
	h.what = fmt.Sprintf("Submit by %s %s", who, fmtReqs(reqs))
	norm := slices.Clone(reqs)
	want, legs := h.m.submit(h.m.people[who], norm)
	out, created, err := h.svc.Ledger.Submit(h.ctx, h.c, h.acc[who], slices.Clone(reqs))
	h.expect(want, outcome(created, err), err)
	if want == "replay" {
		for i, t := range out {
			if o := h.m.entries[norm[i].ID].t; t.ID != o.ID || t.Action != o.Action || t.Amount != o.Amount || t.Debit != o.Debit ||
				t.Credit != o.Credit || !t.At.Equal(o.At) {
				h.fatalf("the replay returned %+v, not the original %+v", t, o)
			}
		}
	}
	if want != "ok" {
		h.refused()
		return
	}
	h.settle(legs)
	for i := range norm {
		h.m.entries[norm[i].ID].req = &norm[i]
	}
	h.subs = append(h.subs, pastSubmit{who, reqs})
}

// ---- pending transfers: post, void, expire ----

func (h *harness) opResolve() {
	var open, all, apps []*mEntry
	for _, e := range h.m.journal {
		switch {
		case e.req != nil && e.req.Pending:
			all = append(all, e)
			if e.state == "pending" {
				open = append(open, e)
			}
		case e.t.Action == ledger.ActPending:
			apps = append(apps, e)
		}
	}
	var id string
	var e *mEntry
	switch x := h.rng.IntN(100); {
	case x < 70 && len(open) > 0:
		e = pick(h, open)
	case x < 85 && len(all) > 0:
		e = pick(h, all)
	case x < 90 && len(apps) > 0:
		e = pick(h, apps) // a share application's reservation: moves only by the offer's rules
	case x < 95 || len(all) == 0:
		id = "nope" + fmt.Sprint(h.rng.IntN(3))
	default:
		e = pick(h, all)
	}
	who := pick(h, h.members())
	if e != nil {
		id = e.t.ID
		if hd, ok := strings.CutPrefix(e.t.Debit, "member:"); ok && h.m.people[hd].active() {
			who = hd
		} else if !ok {
			who = pick(h, h.treasurers())
		}
		if h.chance(15) {
			who = pick(h, h.members())
		}
	}
	action, amount := ledger.ActVoid, int64(0)
	switch x := h.rng.IntN(100); {
	case x < 60:
		action = ledger.ActPost
		if e != nil {
			switch y := h.rng.IntN(10); {
			case y < 4:
				amount = 1 + h.rng.Int64N(e.t.Amount)
			case y == 4:
				amount = e.t.Amount + 1
			}
		}
	case x < 95:
	default:
		action = ledger.ActExpire
	}
	h.resolve(who, id, action, amount)
}

func (h *harness) resolve(who, id, action string, amount int64) {
	h.what = fmt.Sprintf("SubmitResolve by %s: %s %s %d", who, action, id, amount)
	want, legs := h.m.resolve(h.m.people[who], id, action, amount)
	t, created, err := h.svc.Ledger.SubmitResolve(h.ctx, h.c, h.acc[who], id, action, amount)
	h.expect(want, outcome(created, err), err)
	if o := h.m.entries[id+":"+action]; want == "replay" && (o == nil || t.ID != o.t.ID || t.Amount != o.t.Amount || !t.At.Equal(o.t.At)) {
		h.fatalf("the replay returned %+v, not the original resolution", t)
	}
	if want != "ok" {
		h.refused()
		return
	}
	h.settle(legs)
	h.resolves = append(h.resolves, pastResolve{who, id, action, amount})
}

// opExpire lets a little time pass and runs the ledger's scheduler.
func (h *harness) opExpire() {
	// Mostly a little time; sometimes exactly up to the next expiry, where
	// a reservation is due (and may no longer be posted).
	var next *mEntry
	for _, e := range h.m.journal {
		if e.state == "pending" && e.t.ExpiresAt != nil && e.t.ExpiresAt.After(h.clock()) && (next == nil || e.t.ExpiresAt.Before(*next.t.ExpiresAt)) {
			next = e
		}
	}
	if next == nil || h.chance(60) {
		h.advance(time.Duration(1+h.rng.IntN(240)) * time.Second)
	} else {
		h.advance(next.t.ExpiresAt.Sub(h.clock()))
		if h.chance(50) {
			who := "ada"
			if hd, ok := strings.CutPrefix(next.t.Debit, "member:"); ok && h.m.people[hd].active() {
				who = hd
			}
			h.resolve(who, next.t.ID, ledger.ActPost, 0) // too late
			return
		}
	}
	h.what = "ExpireDue at " + h.clock().Format(time.RFC3339)
	legs := h.m.dueToExpire()
	n, err := h.svc.Ledger.ExpireDue(h.ctx)
	if err != nil || n != len(legs) {
		h.fatalf("ExpireDue = %d, %v; the model expires %d", n, err, len(legs))
	}
	h.outcomes["ExpireDue:expired"] += n
	h.wrote = n > 0
	h.settle(legs)
}

// opTime lets time pass: windows open and close.
func (h *harness) opTime() {
	h.advance(time.Duration(5+h.rng.IntN(55)) * time.Minute)
	h.what = "time passes to " + h.clock().Format(time.RFC3339)
	h.refused()
}

// ---- reversals ----

func (h *harness) opReverse() {
	var live, done, other []*mEntry
	for _, e := range h.m.journal {
		switch {
		case (e.t.Action == ledger.ActTransfer || e.t.Action == ledger.ActPost) && e.reversedBy == "":
			live = append(live, e)
		case e.t.Action == ledger.ActTransfer || e.t.Action == ledger.ActPost:
			done = append(done, e)
		default:
			other = append(other, e)
		}
	}
	id := "nope" + fmt.Sprint(h.rng.IntN(3))
	switch x := h.rng.IntN(100); {
	case x < 70 && len(live) > 0:
		id = pick(h, live).t.ID
	case x < 80 && len(done) > 0:
		id = pick(h, done).t.ID
	case x < 90 && len(other) > 0:
		id = pick(h, other).t.ID
	}
	newID, kind := h.id("rv"), pick(h, []string{"", "correction"})
	switch x := h.rng.IntN(100); {
	case x < 15 && len(h.reversals) > 0:
		newID = pick(h, h.reversals).newID // a replay, or a clash
	case x < 25 && len(h.m.journal) > 0:
		newID = pick(h, h.m.journal).t.ID
	}
	who := pick(h, h.treasurers())
	if h.chance(15) {
		who = pick(h, h.members())
	}
	h.reverse(who, id, newID, kind)
}

func (h *harness) reverse(who, id, newID, kind string) {
	h.what = fmt.Sprintf("SubmitReverse by %s: %s as %s (%q)", who, id, newID, kind)
	want, legs := h.m.reverse(h.m.people[who], id, newID, kind)
	_, created, err := h.svc.Ledger.SubmitReverse(h.ctx, h.c, h.acc[who], id, newID, kind)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	h.settle(legs)
	h.reversals = append(h.reversals, pastReverse{who, id, newID, kind})
}

// ---- replays ----

// opReplay repeats an earlier request exactly (nothing may change), or,
// with conflict, the same id with other content (refused, nothing
// changes). Requests whose business object has moved on since go through
// the model like any other.
func (h *harness) opReplay(conflict bool) {
	switch x := h.rng.IntN(10); {
	case x < 3 && len(h.subs) > 0:
		s := pick(h, h.subs)
		reqs := slices.Clone(s.reqs)
		if conflict {
			reqs[0].Amount++
		}
		h.submit(s.who, reqs)
	case x < 5 && len(h.incs) > 0:
		s := pick(h, h.incs)
		in := s.in
		if conflict {
			in.Amount++
		}
		h.income(s.who, in)
	case x < 6 && len(h.gifts) > 0:
		s := pick(h, h.gifts)
		amount := s.amount
		if conflict {
			amount++
		}
		h.contribute(s.who, s.bucket, amount, s.clientID)
	case x < 7 && len(h.resolves) > 0:
		s := pick(h, h.resolves)
		action, amount := s.action, s.amount
		if conflict {
			if action == ledger.ActPost {
				action = ledger.ActVoid
			} else {
				action, amount = ledger.ActPost, 0
			}
		}
		h.resolve(s.who, s.id, action, amount)
	case x < 8 && len(h.reversals) > 0:
		s := pick(h, h.reversals)
		kind := s.kind
		if conflict {
			kind = "other_kind"
		}
		h.reverse(s.who, s.id, s.newID, kind)
	case x < 9:
		var closed []*mRound
		for _, r := range h.m.rounds {
			if r.state == "closed" {
				closed = append(closed, r)
			}
		}
		if len(closed) > 0 {
			h.closeRound("ada", pick(h, closed).id)
			return
		}
		h.opTransfer(false)
	default:
		var done []*mOffer
		var live []*mApp
		for _, o := range h.m.offers {
			if o.state != "open" {
				done = append(done, o)
			}
			for _, a := range o.apps {
				if a.state == "pending" {
					live = append(live, a)
				}
			}
		}
		switch {
		case len(live) > 0 && h.chance(60):
			a := pick(h, live)
			n := a.shares
			if conflict {
				n++
			}
			h.apply(a.person, h.m.offerOfApp(a).id, n)
		case len(done) > 0:
			h.closeOffer("ada", pick(h, done).id)
		default:
			h.opTransfer(false)
		}
	}
}

// ---- incomes (RULES.md 3.2) ----

func (h *harness) opIncome() {
	who := pick(h, h.treasurers())
	if h.chance(8) {
		who = pick(h, h.plainMembers())
	}
	kinds := h.m.rule.knownKinds()
	if h.m.rule.preset == pool.Custom {
		kinds = append(kinds, "rent", pool.KindInvoice)
	}
	in := pool.NewIncome{ID: h.id("inc-"), Kind: pick(h, kinds), Amount: h.amount(100000)}
	if h.chance(5) {
		in.Kind = "donation" // a kind the presets do not split
	}
	switch x := h.rng.IntN(100); {
	case x < 80:
		in.Member = pick(h, h.members())
	case x < 86:
		in.Member = pick(h, []string{"zed", "ivy", "jo"}) // no member, or an applicant
	}
	if h.chance(30) || h.m.rule.preset == pool.Custom && h.chance(50) {
		in.Buyer = pick(h, without(h.members(), in.Member))
	}
	if h.chance(8) {
		in.Unit = "HOURS"
	}
	if h.chance(4) {
		in.Amount = pick(h, []int64{0, -3})
	}
	h.income(who, in)
}

func (h *harness) income(who string, in pool.NewIncome) {
	h.what = fmt.Sprintf("RecordIncome by %s: %s %s of %d %s for %q (buyer %q) under %s", who, in.ID, in.Kind, in.Amount, in.Unit,
		in.Member, in.Buyer, h.m.rule.preset)
	want, legs := h.m.income(h.m.people[who], in)
	out, created, err := h.svc.Pool.RecordIncome(h.ctx, h.c, h.acc[who], in)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	var sum int64
	for _, p := range out.Postings {
		sum += p.Amount
	}
	if sum != in.Amount {
		h.fatalf("the postings of %s sum to %d, not %d", in.ID, sum, in.Amount)
	}
	h.settle(legs)
	h.incs = append(h.incs, pastIncome{who, in})
}

var (
	incomeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)
	handleRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,31}$`)
)

// income is Service.RecordIncome on the model.
func (m *model) income(caller *person, in pool.NewIncome) (string, []leg) {
	if !caller.active() || !caller.treasurer {
		return "forbidden", nil
	}
	if in.Unit == "" {
		in.Unit = "EUR"
	}
	if !incomeIDRE.MatchString(in.ID) || in.Amount < 1 || in.Amount > 1<<53 || !modelUnitRE.MatchString(in.Unit) ||
		!modelKindRE.MatchString(in.Kind) || in.Member != "" && !handleRE.MatchString(in.Member) ||
		in.Buyer != "" && (!handleRE.MatchString(in.Buyer) || in.Buyer == in.Member) {
		return "invalid", nil
	}
	rec := incomeRec{member: in.Member, buyer: in.Buyer, kind: in.Kind, unit: in.Unit, amount: in.Amount}
	if old, ok := m.incomes[in.ID]; ok {
		if old == rec {
			return "replay", nil
		}
		return "conflict", nil
	}
	parts, ok := m.rule.incomeLegs(in.Kind, in.Amount)
	if !ok {
		return "invalid", nil
	}
	for _, p := range parts {
		if p.to == pool.ToMember && in.Member == "" || p.to == pool.ToBuyer && in.Buyer == "" {
			return "invalid", nil
		}
	}
	for _, hd := range []string{in.Member, in.Buyer} {
		if hd != "" && m.people[hd].state != "member" && m.people[hd].state != "suspended" {
			return "invalid", nil // a member (suspended or not) is paid; an applicant is not one yet
		}
	}
	var legs []leg
	for _, p := range parts {
		if p.amount == 0 {
			continue
		}
		to := p.to
		switch to {
		case pool.ToMember:
			to = "member:" + in.Member
		case pool.ToBuyer:
			to = "member:" + in.Buyer
		}
		legs = append(legs, leg{action: ledger.ActTransfer, debit: "external", credit: to, unit: in.Unit, amount: p.amount})
	}
	m.incomes[in.ID] = rec // only kept if the instance agrees (the run stops otherwise)
	return "ok", legs
}

// opSetRule puts a new pooling rule in force: Enspiral with its shares,
// a marketplace, or a custom tree (sometimes one that is refused).
func (h *harness) opSetRule() {
	who := pick(h, []string{"ada", "bo"})
	if h.chance(10) {
		who = pick(h, h.plainMembers())
	}
	r := &mRule{}
	valid := true
	var params any
	switch x := h.rng.IntN(100); {
	case x < 30:
		bp := func() int64 { return pick(h, []int64{0, 1, 2000, 2500, 3333, 5000, 9999, 10000, h.rng.Int64N(10001)}) }
		r.preset, r.collective, r.foundation, r.venture = pool.Enspiral, bp(), bp(), bp()
		if h.chance(8) {
			r.collective, valid = 10001, false
		}
		params = pool.EnspiralParams{CollectiveBP: r.collective, FoundationBP: r.foundation, VentureBP: r.venture}
	case x < 55:
		r.preset, r.fee, r.common = pool.Marketplace, pick(h, []int64{0, 1, 500, 1250, 10000, h.rng.Int64N(10001)}), h.rng.Int64N(10001)
		params = pool.MarketplaceParams{FeeBP: r.fee, CommonBP: r.common}
	default:
		r.preset = pool.Custom
		t := h.tree(0)
		r.tree = &t
		if h.chance(40) {
			k := h.tree(0)
			r.kinds = map[string]*pool.Node{"rent": &k}
		}
		if h.chance(10) {
			valid = false
			switch h.rng.IntN(3) {
			case 0:
				r.tree.Parts = append(r.tree.Parts, pool.Node{BP: 1, To: "coop:pool"}) // the shares sum to more than 100%
				if len(r.tree.Parts) == 1 {
					r.tree.Parts = append(r.tree.Parts, pool.Node{BP: 1, To: "coop:pool"})
				}
			case 1:
				r.tree.Parts = []pool.Node{{BP: 5000, To: "external"}, {BP: 5000, To: "member"}}
			case 2:
				r.tree.Parts = []pool.Node{{BP: 5000, To: "member:" + pick(h, h.withState("", "applicant"))}, {BP: 5000, To: "member"}}
			}
		}
		params = pool.CustomParams{Tree: r.tree, Kinds: r.kinds}
	}
	raw, err := json.Marshal(params)
	h.must(err)
	h.what = fmt.Sprintf("SetRule by %s: %s %s", who, r.preset, raw)
	p := h.m.people[who]
	want := "ok"
	switch {
	case !p.active() || !p.treasurer && !p.secretary:
		want = "forbidden"
	case !valid:
		want = "invalid"
	}
	_, err = h.svc.Pool.SetRule(h.ctx, h.c, h.acc[who], pool.SetRule{Preset: r.preset, Params: raw})
	h.expect(want, outcome(err == nil, err), err)
	if want == "ok" {
		h.m.rule = r
	}
	h.refused()
}

// tree is a random split tree: shares of at least 1 basis point summing
// to 10000 at every node, leaves paying the member, a buyer, a named
// member or the co-op's accounts.
func (h *harness) tree(depth int) pool.Node {
	n := 2 + h.rng.IntN(3)
	cuts := map[int64]bool{}
	for len(cuts) < n-1 {
		cuts[1+h.rng.Int64N(pool.Whole-1)] = true
	}
	var bounds []int64
	for c := range cuts {
		bounds = append(bounds, c)
	}
	slices.Sort(bounds)
	bounds = append(append([]int64{0}, bounds...), pool.Whole)
	node := pool.Node{}
	leaves := []string{pool.ToMember, pool.ToMember, "coop:pool", "coop:foundation", "coop:reserves", "coop:common", "coop:users_pool",
		"member:" + pick(h, h.members())}
	if h.chance(15) {
		leaves = append(leaves, pool.ToBuyer)
	}
	for i := range n {
		c := pool.Node{BP: bounds[i+1] - bounds[i]}
		if depth < 2 && h.chance(25) {
			sub := h.tree(depth + 1)
			c.Parts = sub.Parts
		} else {
			c.To = pick(h, leaves)
		}
		node.Parts = append(node.Parts, c)
	}
	return node
}

// opCloseDue runs the budget or the shares scheduler's close.
func (h *harness) opCloseDue() {
	now := h.clock()
	if h.chance(50) {
		h.what = "Budget.CloseDue at " + now.Format(time.RFC3339)
		var due []*mRound
		for _, r := range h.m.rounds {
			if r.state == "open" && !r.fundingTo.After(now) {
				due = append(due, r)
			}
		}
		var legs []leg
		var commits []func()
		for _, r := range due {
			l, _, commit := h.m.closeRound(r)
			legs = append(legs, l...)
			commits = append(commits, commit)
		}
		n, err := h.svc.Budget.CloseDue(h.ctx)
		if err != nil || n != len(due) {
			h.fatalf("Budget.CloseDue = %d, %v; the model closes %d", n, err, len(due))
		}
		for _, c := range commits {
			c()
		}
		h.wrote = n > 0
		h.settle(legs)
		return
	}
	h.what = "Shares.CloseDue at " + now.Format(time.RFC3339)
	var due []*mOffer
	for _, o := range h.m.offers {
		if o.state == "open" && !o.closes.After(now) {
			due = append(due, o)
		}
	}
	// In the scheduler's order: an applicant allotted shares by two offers
	// joins the class of the one closed first.
	slices.SortStableFunc(due, func(a, b *mOffer) int {
		if c := a.closes.Compare(b.closes); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	var legs []leg
	var commits []func()
	for _, o := range due {
		l, commit := h.m.closeOffer(o)
		legs = append(legs, l...)
		commits = append(commits, commit)
	}
	n, err := h.svc.Shares.CloseDue(h.ctx)
	if err != nil || n != len(due) {
		h.fatalf("Shares.CloseDue = %d, %v; the model closes %d", n, err, len(due))
	}
	for _, c := range commits {
		c()
	}
	h.wrote = n > 0
	h.settle(legs)
	h.checkMembers()
}

// opSuspend has the secretary suspend a member in good standing, or
// reinstate a suspended one (RULES.md 1): a suspended member moves no
// money, applies for nothing and gets no allowance, yet incomes still pay
// her and her account stays.
func (h *harness) opSuspend() {
	var cands []string
	for _, hd := range h.withState("member", "suspended") {
		if p := h.m.people[hd]; !p.treasurer && !p.secretary {
			cands = append(cands, hd)
		}
	}
	who := pick(h, cands)
	p := h.m.people[who]
	to := "suspended"
	if p.state == "suspended" {
		to = "member"
	}
	by := "ada"
	if h.chance(10) {
		by = pick(h, h.plainMembers())
	}
	h.what = fmt.Sprintf("UpdateMember %s to %s by %s", who, to, by)
	want := "ok"
	if b := h.m.people[by]; !b.active() || !b.secretary {
		want = "forbidden"
	}
	_, err := h.svc.Coops.UpdateMember(h.ctx, h.c, h.acc[by], who, coop.MemberUpdate{State: &to})
	h.expect(want, outcome(err == nil, err), err)
	if want == "ok" {
		p.state = to
	}
	h.refused()
	h.checkMembers()
}
