// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package app_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"opencoop/internal/budget"
	"opencoop/internal/ledger"
)

// The budget-round operations of the money property test (RULES.md 3.3).

func (h *harness) round(id int64) *mRound {
	for _, r := range h.m.rounds {
		if r.id == id {
			return r
		}
	}
	return nil
}

func (h *harness) bucket(id int64) *mBucket {
	for _, b := range h.m.buckets {
		if b.id == id {
			return b
		}
	}
	return nil
}

// roundPlan is what a round's creation moves, by member handle.
type roundPlan struct {
	c, e, d, s int64
	members    []string
	granted    map[string]int64
	basis      map[string]int64
	rolledIn   map[string]int64
	rolls      []leg // from the pots of earlier rounds; credit "new:<handle>" for the new round's pots
	claimed    []*mRound
}

func (h *harness) opCreateRound() {
	who := pick(h, h.treasurers())
	if h.chance(12) {
		who = pick(h, h.plainMembers())
	}
	now := h.clock()
	ff := now
	if h.chance(10) {
		ff = now.Add(time.Duration(1+h.rng.IntN(30)) * time.Minute)
	}
	n := budget.NewRound{Title: h.id("Round "), BucketsFrom: now.Add(-time.Minute), BucketsTo: now.Add(time.Duration(60+h.rng.IntN(240)) * time.Minute),
		FundingFrom: ff, FundingTo: ff.Add(time.Duration(180+h.rng.IntN(420)) * time.Minute),
		Underfunded: pick(h, []string{"", budget.Refund, budget.Keep, budget.ReclaimToPool}),
		Unspent:     pick(h, []string{"", budget.ReturnToPool, budget.RollOver}),
		Allowance:   pick(h, []string{"", budget.Equal, budget.ByClass, budget.Proportional})}
	if h.chance(50) {
		n.MemberCap = 100 + h.rng.Int64N(3000)
	}
	if h.chance(10) {
		n.Unit = "HOURS"
	}
	unit := n.Unit
	if unit == "" {
		unit = "EUR"
	}
	if n.Allowance == budget.Proportional || h.chance(20) {
		from, to := h.m.start, now
		n.PeriodFrom, n.PeriodTo = &from, &to
	}
	avail := h.m.available("coop:pool", unit)
	switch x := h.rng.IntN(100); {
	case x < 20:
		c := h.rng.Int64N(avail + 1)
		n.Contributions = &c
	case x < 28:
		c := avail + 1 + h.rng.Int64N(5000)
		n.Contributions = &c
	}
	switch x := h.rng.IntN(100); {
	case x < 25:
		n.Expenses = []budget.Expense{{Title: "Rent", Amount: 1 + h.rng.Int64N(avail*3/2+100), ProposalID: h.passed}}
	case x < 28:
		n.Expenses = []budget.Expense{{Title: "Rent", Amount: 100, ProposalID: h.rejected}}
	}
	if h.chance(5) {
		n.FundingFrom, n.FundingTo = now.Add(-2*time.Hour), now.Add(-time.Minute) // funding over before it began
	}
	h.what = fmt.Sprintf("CreateRound by %s: %s %s allowance %q underfunded %q unspent %q cap %d contributions %v expenses %v",
		who, n.Title, unit, n.Allowance, n.Underfunded, n.Unspent, n.MemberCap, ptr(n.Contributions), n.Expenses)
	want, plan := h.m.createRound(h.m.people[who], n, unit, h.passed)
	r, err := h.svc.Budget.CreateRound(h.ctx, h.c, h.acc[who], n)
	h.expect(want, outcome(err == nil, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	if r.Contributions != plan.c || r.CoreExpenses != plan.e || r.Discretionary != plan.d || r.Shortfall != plan.s || r.Members != len(plan.members) {
		h.fatalf("round C=%d E=%d D=%d shortfall=%d members=%d; the model %d %d %d %d %d", r.Contributions, r.CoreExpenses, r.Discretionary,
			r.Shortfall, r.Members, plan.c, plan.e, plan.d, plan.s, len(plan.members))
	}
	mr := &mRound{id: r.ID, unit: unit, bucketsFrom: n.BucketsFrom, bucketsTo: n.BucketsTo, fundingFrom: n.FundingFrom, fundingTo: n.FundingTo,
		cap: n.MemberCap, underfunded: or(n.Underfunded, budget.Refund), unspent: or(n.Unspent, budget.ReturnToPool),
		allowance: or(n.Allowance, budget.Equal), state: "open", pots: map[string]string{}, potMember: map[string]string{}, granted: plan.granted}
	var legs []leg
	if plan.s > 0 {
		legs = append(legs, leg{action: ledger.ActTransfer, debit: "coop:reserves", credit: "coop:pool", unit: unit, amount: plan.s})
	}
	var sum, rolledIn int64
	var wrong []string
	for _, hd := range plan.members {
		al, err := h.svc.Budget.Allowance(h.ctx, h.c, h.acc["ada"], r.ID, hd)
		if err != nil {
			h.fatalf("Allowance of %s: %v", hd, err)
		}
		if al.Granted != plan.granted[hd] || al.RolledIn != plan.rolledIn[hd] || al.Basis != plan.basis[hd] {
			wrong = append(wrong, fmt.Sprintf("%s: granted %d (basis %d, rolled in %d), the model %d (basis %d, rolled in %d)", hd,
				al.Granted, al.Basis, al.RolledIn, plan.granted[hd], plan.basis[hd], plan.rolledIn[hd]))
		}
		mr.pots[hd], mr.potMember[al.Account] = al.Account, hd
		sum += al.Granted
		rolledIn += al.RolledIn
		if al.Granted > 0 {
			legs = append(legs, leg{action: ledger.ActTransfer, debit: "coop:pool", credit: al.Account, unit: unit, amount: al.Granted})
		}
	}
	if len(wrong) > 0 {
		h.fatalf("the allowances (D=%d) are not the model's:\n  %s", plan.d, strings.Join(wrong, "\n  "))
	}
	if sum != plan.d || r.RolledIn != rolledIn {
		h.fatalf("the allowances sum to %d, not the discretionary budget %d (rolled in %d, the round says %d)", sum, plan.d, rolledIn, r.RolledIn)
	}
	for _, hd := range h.m.handles {
		if !slices.Contains(plan.members, hd) {
			if _, err := h.svc.Budget.Allowance(h.ctx, h.c, h.acc["ada"], r.ID, hd); outcome(false, err) != "notfound" {
				h.fatalf("%s, no member when the round began, has an allowance: %v", hd, err)
			}
		}
	}
	for _, l := range plan.rolls {
		if hd, ok := strings.CutPrefix(l.credit, "new:"); ok {
			l.credit = mr.pots[hd]
		}
		legs = append(legs, l)
	}
	for _, old := range plan.claimed {
		old.rolledInto = true
	}
	h.m.rounds = append(h.m.rounds, mr)
	h.settle(legs)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func ptr(p *int64) string {
	if p == nil {
		return "default"
	}
	return fmt.Sprint(*p)
}

// createRound is Service.CreateRound on the model: C, E, D, the
// shortfall, every allowance by the round's rule (largest remainder,
// members by id) and the allowances rolled over from earlier rounds.
func (m *model) createRound(caller *person, n budget.NewRound, unit string, passed int64) (string, roundPlan) {
	var p roundPlan
	if !caller.manager() {
		return "forbidden", p
	}
	now := m.now
	allowance := or(n.Allowance, budget.Equal)
	switch {
	case !n.BucketsFrom.Before(n.BucketsTo), !n.FundingFrom.Before(n.FundingTo), !n.FundingTo.After(now), !n.BucketsFrom.Before(n.FundingTo):
		return "invalid", p
	case n.PeriodFrom != nil && (!n.PeriodFrom.Before(*n.PeriodTo) || n.PeriodTo.After(now)):
		return "invalid", p
	case allowance == budget.Proportional && n.PeriodFrom == nil:
		return "invalid", p
	}
	for _, e := range n.Expenses {
		if e.ProposalID != passed {
			return "invalid", p
		}
		p.e += e.Amount
	}
	pool := m.available("coop:pool", unit)
	p.c = pool
	if n.Contributions != nil {
		p.c = *n.Contributions
	}
	p.d, p.s = max(0, p.c-p.e), max(0, p.e-p.c)
	var members []*person
	for _, hd := range m.handles {
		if pp := m.people[hd]; pp.active() {
			members = append(members, pp)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].memberID < members[j].memberID })
	p.granted, p.basis, p.rolledIn = map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, mm := range members {
		p.members = append(p.members, mm.handle)
		p.basis[mm.handle] = 1
		if allowance != budget.Equal {
			p.basis[mm.handle] = 0
		}
	}
	if len(members) > 0 && p.d > 0 {
		switch allowance {
		case budget.Equal:
			ones := make([]int64, len(members))
			for i := range ones {
				ones[i] = 1
			}
			for i, g := range lr(p.d, ones) {
				p.granted[members[i].handle] = g
			}
		case budget.Proportional:
			given := m.givenToPool(unit, *n.PeriodFrom, *n.PeriodTo)
			ws := make([]int64, len(members))
			anyone := false
			for i, mm := range members {
				ws[i] = max(0, given[mm.handle])
				p.basis[mm.handle] = ws[i]
				anyone = anyone || ws[i] > 0
			}
			if !anyone {
				return "invalid", p
			}
			for i, g := range lr(p.d, ws) {
				p.granted[members[i].handle] = g
			}
		case budget.ByClass:
			// Classes in the co-op's order, those with a weight and members.
			weight := map[string]int64{"workers": 50, "users": 30, "supporters": 20, "investors": 0}
			var classes []string
			var ws []int64
			for _, cl := range []string{"workers", "users", "supporters", "investors"} {
				in := 0
				for _, mm := range members {
					if mm.class == cl {
						in++
					}
				}
				if weight[cl] > 0 && in > 0 {
					classes, ws = append(classes, cl), append(ws, weight[cl])
				}
			}
			if len(classes) == 0 {
				return "invalid", p
			}
			for k, share := range lr(p.d, ws) {
				var in []*person
				for _, mm := range members {
					if mm.class == classes[k] {
						in = append(in, mm)
					}
				}
				ones := make([]int64, len(in))
				for i := range ones {
					ones[i] = 1
				}
				for i, g := range lr(share, ones) {
					p.granted[in[i].handle] = g
					p.basis[in[i].handle] = weight[classes[k]]
				}
			}
		}
	}
	// Unspent allowances of closed roll_over rounds of the unit move into
	// the new pots; a member no longer in good standing's go to the pool.
	for _, r := range m.rounds {
		if r.state != "closed" || r.unspent != budget.RollOver || r.unit != unit || r.rolledInto {
			continue
		}
		p.claimed = append(p.claimed, r)
		for _, pot := range sortedPots(r) {
			left := m.available(pot, unit)
			if left <= 0 {
				continue
			}
			hd := r.potMember[pot]
			if m.people[hd].active() {
				p.rolledIn[hd] += left
				p.rolls = append(p.rolls, leg{action: ledger.ActTransfer, debit: pot, credit: "new:" + hd, unit: unit, amount: left})
			} else {
				p.rolls = append(p.rolls, leg{action: ledger.ActTransfer, debit: pot, credit: "coop:pool", unit: unit, amount: left})
			}
		}
	}
	legs := slices.Clone(p.rolls)
	if p.s > 0 {
		legs = append(legs, leg{action: ledger.ActTransfer, debit: "coop:reserves", credit: "coop:pool", unit: unit, amount: p.s})
	}
	for hd, g := range p.granted {
		if g > 0 {
			legs = append(legs, leg{action: ledger.ActTransfer, debit: "coop:pool", credit: "new:" + hd, unit: unit, amount: g})
		}
	}
	if m.overdraws(legs) != "" {
		return "insufficient", p
	}
	return "ok", p
}

// sortedPots lists r's allowance pots by id.
func sortedPots(r *mRound) []string {
	var pots []string
	for pot := range r.potMember {
		pots = append(pots, pot)
	}
	sort.Slice(pots, func(i, j int) bool { return potID(pots[i]) < potID(pots[j]) })
	return pots
}

func potID(owner string) int64 {
	id, _ := ledger.OwnerID(owner, "bucket")
	return id
}

// givenToPool sums, by member, her contribution to coop:pool in unit in
// [from, to): RULES.md 3.3 makes allowances "proportional to her
// contribution (Enspiral)", C being "the pool of 3.2", and under 3.2 a
// member contributes to the pool through the pooling rule (by default 20%
// of her invoice to the collective, 75% of that to coop:pool) as well as
// by transferring to it herself. So it counts what she transferred to
// coop:pool and the coop:pool parts of the incomes recorded for her, less
// the reversals in the period of either.
func (m *model) givenToPool(unit string, from, to time.Time) map[string]int64 {
	out := map[string]int64{}
	// whose says whose contribution a transfer into coop:pool is.
	whose := func(t ledger.Transfer) string {
		if t.Credit != "coop:pool" || t.Action != ledger.ActTransfer && t.Action != ledger.ActPost {
			return ""
		}
		if hd, ok := strings.CutPrefix(t.Debit, "member:"); ok {
			return hd
		}
		if id, ok := strings.CutPrefix(t.Ref, "income:"); ok && t.Debit == "external" {
			return m.incomes[id].member
		}
		return ""
	}
	for _, e := range m.journal {
		t := e.t
		if t.Unit != unit || t.At.Before(from) || !t.At.Before(to) {
			continue
		}
		if hd := whose(t); hd != "" {
			out[hd] += t.Amount
		}
		if t.Action == ledger.ActReverse && t.Debit == "coop:pool" {
			if hd := whose(m.entries[t.Reverses].t); hd != "" {
				out[hd] -= t.Amount
			}
		}
	}
	return out
}

func (h *harness) opCreateBucket() {
	who := pick(h, h.members())
	if h.chance(8) {
		who = h.nonMember()
	}
	id := int64(999999)
	if len(h.m.rounds) > 0 && h.chance(95) {
		var open []*mRound
		for _, r := range h.m.rounds {
			if r.creationOpen(h.clock()) {
				open = append(open, r)
			}
		}
		if len(open) > 0 && h.chance(85) {
			id = pick(h, open).id
		} else {
			id = pick(h, h.m.rounds).id
		}
	}
	n := budget.NewBucket{Title: h.id("Bucket "), Description: "A thing.", Publish: h.chance(70)}
	for range 1 + h.rng.IntN(3) {
		lo := h.rng.Int64N(800)
		n.Items = append(n.Items, budget.Item{Title: "item", Min: lo, Max: lo + 1 + h.rng.Int64N(2000)})
	}
	switch x := h.rng.IntN(100); {
	case x < 4:
		n.Items[0].Max = n.Items[0].Min - 1 // less than its minimum (or 0)
	case x < 6:
		n.Items = nil
	}
	for _, co := range without(h.members(), who) {
		if h.chance(15) {
			n.Cocreators = append(n.Cocreators, co)
		}
	}
	if h.chance(4) {
		n.Cocreators = append(n.Cocreators, pick(h, []string{who, "zed"}))
	}
	h.what = fmt.Sprintf("CreateBucket by %s in round %d: items %v cocreators %v publish %v", who, id, n.Items, n.Cocreators, n.Publish)
	p := h.m.people[who]
	r := h.round(id)
	want := "ok"
	itemsOK := len(n.Items) > 0
	var lo, hi int64
	for _, it := range n.Items {
		itemsOK = itemsOK && it.Min >= 0 && it.Max >= 1 && it.Max >= it.Min
		lo, hi = lo+it.Min, hi+it.Max
	}
	coOK := true
	for i, co := range n.Cocreators {
		coOK = coOK && co != who && !slices.Contains(n.Cocreators[:i], co) && h.m.people[co].active()
	}
	switch {
	case !p.active():
		want = "forbidden"
	case !itemsOK, !coOK:
		want = "invalid"
	case r == nil:
		want = "notfound"
	case !r.creationOpen(h.clock()):
		want = "conflict"
	}
	b, err := h.svc.Budget.CreateBucket(h.ctx, h.c, h.acc[who], id, n)
	h.expect(want, outcome(err == nil, err), err)
	h.refused()
	if want != "ok" {
		return
	}
	mb := &mBucket{id: b.ID, round: r, author: who, cocreators: n.Cocreators, state: budget.Draft, min: lo, max: hi}
	if n.Publish {
		mb.state = budget.Idea
	}
	if b.State != mb.state || b.Min != lo || b.Max != hi || b.Account != mb.account() {
		h.fatalf("the bucket is %s, goals %d..%d, account %s; the model %s, %d..%d, %s", b.State, b.Min, b.Max, b.Account, mb.state, lo, hi, mb.account())
	}
	h.m.buckets = append(h.m.buckets, mb)
}

func (h *harness) opChangeBucket() {
	id := int64(999999)
	var b *mBucket
	var live []*mBucket // buckets of open rounds, and kept ones
	for _, x := range h.m.buckets {
		if x.round.state == "open" && x.state != budget.Cancelled && x.state != budget.Completed || x.outcome == budget.OutcomeKept && x.state == budget.Open {
			live = append(live, x)
		}
	}
	if len(live) == 0 && h.chance(70) {
		h.opCreateBucket() // a bucket to move on first
		return
	}
	switch x := h.rng.IntN(100); {
	case x < 85 && len(live) > 0:
		b = pick(h, live)
	case x < 96 && len(h.m.buckets) > 0:
		b = pick(h, h.m.buckets)
	}
	action := pick(h, []string{budget.ActPublish, budget.ActOpen, budget.ActAccept, budget.ActCancel, budget.ActComplete})
	if b != nil {
		id = b.id
		if h.chance(75) {
			// The next step of its life, mostly.
			switch b.state {
			case budget.Draft:
				action = budget.ActPublish
			case budget.Idea:
				action = budget.ActOpen
			case budget.Open:
				action = budget.ActAccept
				if b.outcome == budget.OutcomeKept {
					action = budget.ActComplete
				}
			case budget.Funded:
				action = budget.ActComplete
			}
			if h.chance(6) || b.state == budget.Funded && h.chance(20) {
				action = budget.ActCancel
			}
		}
	}
	who := pick(h, h.members())
	switch x := h.rng.IntN(100); {
	case b != nil && (x < 55 || action == budget.ActPublish && x < 90):
		who = pick(h, append([]string{b.author}, b.cocreators...))
	case x < 90:
		who = pick(h, h.treasurers())
	}
	if !h.m.people[who].active() {
		who = "ada"
	}
	payTo := ""
	if action == budget.ActComplete {
		switch x := h.rng.IntN(100); {
		case x < 20:
			payTo = "external"
		case x < 55:
			payTo = pick(h, h.members())
		case x < 60:
			payTo = "zed"
		}
	}
	h.changeBucket(who, id, action, payTo)
}

func (h *harness) changeBucket(who string, id int64, action, payTo string) {
	h.what = fmt.Sprintf("Change bucket %d by %s: %s %s", id, who, action, payTo)
	p := h.m.people[who]
	b := h.bucket(id)
	var legs []leg
	var reversed []*mContribution
	newState := ""
	to := "external"
	if payTo != "" && payTo != "external" {
		to = "member:" + payTo
	}
	want := func() string {
		if !p.active() {
			return "forbidden"
		}
		if action == budget.ActComplete && to != "external" && !h.m.people[payTo].active() {
			return "invalid"
		}
		if b == nil {
			return "notfound"
		}
		creator, manager := b.creator(who), p.treasurer || p.secretary
		if b.state == budget.Draft && !creator && !manager {
			return "notfound"
		}
		roundOpen := b.round.state == "open"
		switch action {
		case budget.ActPublish:
			switch {
			case !creator:
				return "forbidden"
			case !roundOpen || b.state != budget.Draft:
				return "conflict"
			}
			newState = budget.Idea
		case budget.ActOpen:
			switch {
			case !creator && !manager:
				return "forbidden"
			case !roundOpen || b.state != budget.Idea || !h.clock().Before(b.round.fundingTo):
				return "conflict"
			}
			newState = budget.Open
		case budget.ActAccept:
			switch {
			case !creator && !manager:
				return "forbidden"
			case !roundOpen || b.state != budget.Open || b.raised() < b.min:
				return "conflict"
			}
			newState = budget.Funded
		case budget.ActCancel:
			switch {
			case !creator && !manager:
				return "forbidden"
			case !roundOpen || !slices.Contains([]string{budget.Draft, budget.Idea, budget.Open, budget.Funded}, b.state):
				return "conflict"
			}
			for _, k := range b.contribs {
				if !k.reversed {
					reversed = append(reversed, k)
					legs = append(legs, leg{action: ledger.ActReverse, debit: b.account(), credit: k.pot, unit: b.round.unit, amount: k.amount, reverses: k.id})
				}
			}
			newState = budget.Cancelled
		case budget.ActComplete:
			switch {
			case !p.treasurer:
				return "forbidden"
			case b.state != budget.Funded && !(b.state == budget.Open && b.outcome == budget.OutcomeKept):
				return "conflict"
			}
			if held := h.m.available(b.account(), b.round.unit); held > 0 {
				legs = append(legs, leg{action: ledger.ActTransfer, debit: b.account(), credit: to, unit: b.round.unit, amount: held})
			}
			newState = budget.Completed
		}
		return "ok"
	}()
	out, err := h.svc.Budget.Change(h.ctx, h.c, h.acc[who], id, action, payTo)
	h.expect(want, outcome(err == nil, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	for _, k := range reversed {
		k.reversed = true
	}
	b.state = newState
	if out.State != b.state || out.Raised != b.raised() && action != budget.ActComplete {
		h.fatalf("the bucket is %s with %d raised; the model %s with %d", out.State, out.Raised, b.state, b.raised())
	}
	h.settle(legs)
}

func (h *harness) opContribute() {
	id := int64(999999)
	var b *mBucket
	var open []*mBucket
	for _, x := range h.m.buckets {
		if x.state == budget.Open && (x.round.fundingOpen(h.clock()) || h.chance(10)) {
			open = append(open, x)
		}
	}
	if len(open) == 0 && h.chance(70) {
		h.opChangeBucket() // move a bucket on instead
		return
	}
	switch x := h.rng.IntN(100); {
	case x < 90 && len(open) > 0:
		b = pick(h, open)
	case x < 96 && len(h.m.buckets) > 0:
		b = pick(h, h.m.buckets)
	}
	who := pick(h, h.members())
	var amount int64
	if b != nil {
		id = b.id
		var withPot, withMoney []string
		for hd, pot := range b.round.pots {
			withPot = append(withPot, hd)
			if h.m.available(pot, b.round.unit) > 0 {
				withMoney = append(withMoney, hd)
			}
		}
		sort.Strings(withPot)
		sort.Strings(withMoney)
		switch x := h.rng.IntN(100); {
		case x < 75 && len(withMoney) > 0:
			who = pick(h, withMoney)
		case x < 90 && len(withPot) > 0:
			who = pick(h, withPot)
		}
		left := h.m.available(b.round.pots[who], b.round.unit)
		var given int64
		for _, k := range b.contribs {
			if k.member == who && !k.reversed {
				given += k.amount
			}
		}
		switch x := h.rng.IntN(100); {
		case x < 8 && b.round.cap > 0:
			amount = max(1, b.round.cap-given+int64(h.rng.IntN(2))) // up to the cap, or one past it
		case x < 18:
			amount = max(1, b.max-b.raised()) // what it lacks: funded
		case x < 70:
			amount = h.amount(max(1, min(left, b.max-b.raised())))
		case x < 75:
			amount = left + 1
		case x < 80:
			amount = b.max - b.raised() + 1
		default:
			amount = h.amount(3000)
		}
	} else {
		amount = h.amount(500)
	}
	if h.chance(4) {
		amount = pick(h, []int64{0, -1})
	}
	if h.chance(5) {
		who = h.nonMember()
	}
	clientID := ""
	if h.chance(40) {
		clientID = h.id("k")
	}
	h.contribute(who, id, amount, clientID)
}

func clientKey(bucket int64, who, clientID string) string {
	return fmt.Sprintf("%d %s %s", bucket, who, clientID)
}

func (h *harness) contribute(who string, id, amount int64, clientID string) {
	h.what = fmt.Sprintf("Contribute by %s to bucket %d: %d (client id %q)", who, id, amount, clientID)
	p := h.m.people[who]
	b := h.bucket(id)
	var pot string
	want := func() string {
		switch {
		case !p.active():
			return "forbidden"
		case amount < 1 || amount > 1<<53:
			return "invalid"
		case b == nil:
			return "notfound"
		}
		if clientID != "" {
			if old, ok := h.m.clientIDs[clientKey(id, who, clientID)]; ok {
				if old == amount {
					return "replay"
				}
				return "conflict"
			}
		}
		r := b.round
		var given int64
		for _, k := range b.contribs {
			if k.member == who && !k.reversed {
				given += k.amount
			}
		}
		pot = r.pots[who]
		switch {
		case !r.fundingOpen(h.clock()), b.state != budget.Open:
			return "conflict"
		case r.cap > 0 && given+amount > r.cap:
			return "invalid"
		case b.raised()+amount > b.max, pot == "":
			return "conflict"
		case h.m.available(pot, r.unit) < amount:
			return "insufficient"
		}
		return "ok"
	}()
	out, created, err := h.svc.Budget.Contribute(h.ctx, h.c, h.acc[who], id, budget.NewContribution{Amount: amount, ID: clientID})
	h.expect(want, outcome(created, err), err)
	if want == "replay" && (out.Amount != amount || h.m.entries[out.ID] == nil || h.m.entries[out.ID].t.Amount != amount) {
		h.fatalf("the replay returned %+v, not the original contribution", out)
	}
	if want != "ok" {
		h.refused()
		return
	}
	b.contribs = append(b.contribs, &mContribution{id: out.ID, member: who, pot: pot, amount: amount})
	if b.raised() == b.max {
		b.state = budget.Funded
	}
	if clientID != "" {
		h.m.clientIDs[clientKey(id, who, clientID)] = amount
		h.gifts = append(h.gifts, pastContribution{who, id, amount, clientID})
	}
	h.settle([]leg{{id: out.ID, action: ledger.ActTransfer, debit: pot, credit: b.account(), unit: b.round.unit, amount: amount}})
}

func (h *harness) opWithdraw() {
	id := int64(999999)
	who := pick(h, h.members())
	if len(h.m.buckets) > 0 && h.chance(95) {
		var given, funded []*mBucket
		for _, b := range h.m.buckets {
			if b.raised() > 0 {
				given = append(given, b)
				if b.state == budget.Funded && b.round.state == "open" {
					funded = append(funded, b) // too late to withdraw
				}
			}
		}
		b := pick(h, h.m.buckets)
		switch {
		case len(funded) > 0 && h.chance(15):
			b = pick(h, funded)
		case len(given) > 0 && h.chance(80):
			b = pick(h, given)
		}
		id = b.id
		var gave []string
		for _, k := range b.contribs {
			if !k.reversed {
				gave = append(gave, k.member)
			}
		}
		if len(gave) > 0 && h.chance(80) {
			who = pick(h, gave)
		}
	}
	if h.chance(4) {
		who = h.nonMember()
	}
	h.what = fmt.Sprintf("Withdraw by %s from bucket %d", who, id)
	b := h.bucket(id)
	var legs []leg
	var back []*mContribution
	var sum int64
	want := func() string {
		switch {
		case !h.m.people[who].active():
			return "forbidden"
		case b == nil, b.state == budget.Draft:
			return "notfound"
		case b.round.state != "open", b.state != budget.Open:
			return "conflict"
		}
		for _, k := range b.contribs {
			if k.member == who && !k.reversed {
				back = append(back, k)
				sum += k.amount
				legs = append(legs, leg{action: ledger.ActReverse, debit: b.account(), credit: k.pot, unit: b.round.unit, amount: k.amount, reverses: k.id})
			}
		}
		if sum == 0 {
			return "conflict"
		}
		return "ok"
	}()
	got, err := h.svc.Budget.Withdraw(h.ctx, h.c, h.acc[who], id)
	h.expect(want, outcome(err == nil, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	if got != sum {
		h.fatalf("Withdraw returned %d, the model %d", got, sum)
	}
	for _, k := range back {
		k.reversed = true
	}
	h.settle(legs)
}

func (h *harness) opCloseRound() {
	id := int64(999999)
	if len(h.m.rounds) > 0 && h.chance(95) {
		var due, open []*mRound
		for _, r := range h.m.rounds {
			if r.state == "open" {
				open = append(open, r)
				if !r.fundingTo.After(h.clock()) {
					due = append(due, r)
				}
			}
		}
		r := pick(h, h.m.rounds)
		switch {
		case len(due) > 0 && h.chance(75):
			r = pick(h, due)
		case len(open) > 0 && h.chance(15):
			r = pick(h, open) // closed before its funding ends
		}
		id = r.id
	}
	who := pick(h, h.treasurers())
	if h.chance(12) {
		who = pick(h, h.plainMembers())
	}
	h.closeRound(who, id)
}

func (h *harness) closeRound(who string, id int64) {
	h.what = fmt.Sprintf("CloseRound %d by %s", id, who)
	r := h.round(id)
	want := "ok"
	switch {
	case !h.m.people[who].manager():
		want = "forbidden"
	case r == nil:
		want = "notfound"
	case r.state == "closed":
		want = "replay"
	}
	var legs []leg
	var totals budget.CloseTotals
	var commit func()
	if want == "ok" {
		legs, totals, commit = h.m.closeRound(r)
		h.what += fmt.Sprintf(" (%s, %s)", r.underfunded, r.unspent)
	}
	out, created, err := h.svc.Budget.CloseRound(h.ctx, h.c, h.acc[who], id)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	if out.Close == nil || *out.Close != totals {
		h.fatalf("the close moved %+v; the model %+v", out.Close, totals)
	}
	commit()
	h.settle(legs)
}

// closeRound is a round's close on the model (RULES.md 3.3): under-funded
// buckets (those still open) by the round's policy, then the unspent
// allowances by the other. commit records the new states.
func (m *model) closeRound(r *mRound) ([]leg, budget.CloseTotals, func()) {
	var t budget.CloseTotals
	var legs []leg
	back := map[string]int64{} // refunds, by pot
	var refunded []*mContribution
	for _, b := range m.buckets {
		if b.round != r || b.state != budget.Open {
			continue
		}
		held := m.available(b.account(), r.unit)
		switch r.underfunded {
		case budget.Refund:
			for _, k := range b.contribs {
				if !k.reversed {
					refunded = append(refunded, k)
					back[k.pot] += k.amount
					t.Refunded += k.amount
					legs = append(legs, leg{action: ledger.ActReverse, debit: b.account(), credit: k.pot, unit: r.unit, amount: k.amount, reverses: k.id})
				}
			}
		case budget.Keep:
			t.Kept += held
		case budget.ReclaimToPool:
			if held > 0 {
				legs = append(legs, leg{action: ledger.ActTransfer, debit: b.account(), credit: "coop:pool", unit: r.unit, amount: held})
			}
			t.Reclaimed += held
		}
	}
	for _, pot := range sortedPots(r) {
		left := m.available(pot, r.unit) + back[pot]
		if left <= 0 {
			continue
		}
		if r.unspent == budget.RollOver {
			t.RolledOver += left
			continue
		}
		t.Returned += left
		legs = append(legs, leg{action: ledger.ActTransfer, debit: pot, credit: "coop:pool", unit: r.unit, amount: left})
	}
	return legs, t, func() {
		r.state = "closed"
		for _, k := range refunded {
			k.reversed = true
		}
		for _, b := range m.buckets {
			if b.round == r && b.state == budget.Open {
				b.outcome = map[string]string{budget.Refund: budget.OutcomeRefunded, budget.Keep: budget.OutcomeKept,
					budget.ReclaimToPool: budget.OutcomeReclaimed}[r.underfunded]
			}
		}
	}
}
