// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package app_test

import (
	"fmt"
	"slices"
	"time"

	"opencoop/internal/ledger"
	"opencoop/internal/shares"
)

// The share-offer operations of the money property test (RULES.md 3.4).

func (h *harness) offer(id int64) *mOffer {
	for _, o := range h.m.offers {
		if o.id == id {
			return o
		}
	}
	return nil
}

func (m *model) offerOfApp(a *mApp) *mOffer {
	for _, o := range m.offers {
		if slices.Contains(o.apps, a) {
			return o
		}
	}
	return nil
}

func (h *harness) opCreateOffer() {
	who := pick(h, h.treasurers())
	if h.chance(12) {
		who = pick(h, h.plainMembers())
	}
	now := h.clock()
	n := shares.NewOffer{Title: h.id("Offer "), Class: "investors", Par: 5 + h.rng.Int64N(200), MaxShares: 6 + h.rng.Int64N(20),
		Rule: pick(h, shares.Rules), LockInDays: 365, NoticeDays: 90}
	if h.chance(30) {
		n.Class = pick(h, []string{"workers", "users", "supporters"})
	}
	n.MemberMinShares = 1 + h.rng.Int64N(4)
	n.MemberMaxShares = n.MemberMinShares + h.rng.Int64N(n.MaxShares-n.MemberMinShares+1)
	n.MinShares = h.rng.Int64N(n.MaxShares - n.MemberMinShares + 2)
	n.OptimumShares = n.MinShares + h.rng.Int64N(n.MaxShares-n.MinShares+1)
	opens := now
	if h.chance(20) {
		opens = now.Add(time.Duration(10+h.rng.IntN(50)) * time.Minute)
		n.OpensAt = &opens
	}
	n.ClosesAt = opens.Add(time.Duration(60+h.rng.IntN(240)) * time.Minute)
	valid := true
	switch x := h.rng.IntN(100); {
	case x < 3:
		n.OptimumShares, valid = n.MaxShares+1, false
	case x < 6:
		n.ClosesAt, valid = now.Add(-time.Minute), false
	case x < 8:
		n.Rule, valid = "lottery", false
	case x < 10:
		n.MinShares, valid = n.MaxShares-n.MemberMinShares+2, false
	}
	h.what = fmt.Sprintf("CreateOffer by %s: %s of %s at %d, %d..%d..%d shares, %d..%d each, %s, %s to %s", who, n.Title, n.Class, n.Par,
		n.MinShares, n.OptimumShares, n.MaxShares, n.MemberMinShares, n.MemberMaxShares, n.Rule, opens.Format(time.TimeOnly), n.ClosesAt.Format(time.TimeOnly))
	want := "ok"
	switch p := h.m.people[who]; {
	case !valid:
		want = "invalid"
	case !p.manager():
		want = "forbidden"
	}
	o, err := h.svc.Shares.CreateOffer(h.ctx, h.c, h.acc[who], n)
	h.expect(want, outcome(err == nil, err), err)
	h.refused()
	if want != "ok" {
		return
	}
	h.m.offers = append(h.m.offers, &mOffer{id: o.ID, class: n.Class, unit: "EUR", par: n.Par, min: n.MinShares, max: n.MaxShares,
		memberMin: n.MemberMinShares, memberMax: n.MemberMaxShares, opens: opens, closes: n.ClosesAt, rule: n.Rule, state: "open"})
}

// randomOffer is mostly one taking applications.
func (h *harness) randomOffer() int64 {
	if len(h.m.offers) == 0 || h.chance(5) {
		return 999999
	}
	var open []*mOffer
	for _, o := range h.m.offers {
		if o.accepting(h.clock()) {
			open = append(open, o)
		}
	}
	if len(open) > 0 && h.chance(80) {
		return pick(h, open).id
	}
	return pick(h, h.m.offers).id
}

func (h *harness) opRegister() {
	who := pick(h, []string{"ivy", "jo", "kai"})
	if h.chance(20) {
		who = pick(h, h.members())
	}
	id := h.randomOffer()
	h.what = fmt.Sprintf("RegisterApplicant %s for offer %d", who, id)
	o := h.offer(id)
	p := h.m.people[who]
	want := "ok"
	switch {
	case o == nil:
		want = "notfound"
	case o.state != "open" || !h.clock().Before(o.closes):
		want = "conflict"
	case p.state == "suspended":
		want = "forbidden"
	case p.state != "":
		want = "replay"
	}
	_, created, err := h.svc.Shares.RegisterApplicant(h.ctx, h.c, h.acc[who], id)
	h.expect(want, outcome(created, err), err)
	h.refused()
	if want != "ok" {
		return
	}
	mem, err := h.svc.Coops.MemberOf(h.ctx, h.c, h.acc[who].ID)
	h.must(err)
	p.state, p.class, p.memberID = "applicant", o.class, mem.ID
	h.checkMembers()
}

func (h *harness) opApply() {
	id := h.randomOffer()
	o := h.offer(id)
	who := pick(h, h.withState("member", "applicant"))
	if apps := h.withState("applicant"); len(apps) > 0 && h.chance(40) {
		who = pick(h, apps)
	}
	if h.chance(5) {
		who = pick(h, h.withState(""))
	}
	n := 1 + h.rng.Int64N(5)
	if o != nil && h.chance(75) {
		// Mostly someone who can pay for the least she may ask, and has no
		// live application to this offer.
		var able []string
		for _, hd := range h.withState("member", "applicant") {
			if h.m.available("member:"+hd, o.unit) >= o.memberMin*o.par && !slices.ContainsFunc(o.apps, func(a *mApp) bool {
				return a.person == hd && a.state == "pending"
			}) {
				able = append(able, hd)
			}
		}
		if len(able) > 0 {
			who = pick(h, able)
		}
	}
	if o != nil {
		held := h.m.holdings[who+" "+o.class]
		lo, hi := o.memberMin, o.memberMax-held
		switch x := h.rng.IntN(100); {
		case x < 30 && hi >= lo:
			n = lo // the least one may: scaled back, it may be raised to it
		case x < 80 && hi >= lo:
			n = lo + h.rng.Int64N(hi-lo+1)
		case x < 88:
			n = o.memberMax + 1
		case x < 93:
			n = hi + 1
		case x < 96:
			n = 0
		}
	}
	h.apply(who, id, n)
}

func (h *harness) apply(who string, id, n int64) {
	h.what = fmt.Sprintf("Apply by %s to offer %d for %d shares", who, id, n)
	o := h.offer(id)
	p := h.m.people[who]
	want := func() string {
		switch {
		case n < 1 || n > shares.MaxShares:
			return "invalid"
		case p.state == "", p.state == "suspended":
			return "forbidden"
		case o == nil:
			return "notfound"
		}
		for _, a := range o.apps {
			if a.person == who && a.state == "pending" {
				if a.shares == n {
					return "replay"
				}
				return "conflict"
			}
		}
		held := h.m.holdings[who+" "+o.class]
		switch {
		case n < o.memberMin || n > o.memberMax || n > o.memberMax-held:
			return "invalid"
		case !o.accepting(h.clock()):
			return "conflict"
		case h.m.available("member:"+who, o.unit) < n*o.par:
			return "insufficient"
		}
		return "ok"
	}()
	a, created, err := h.svc.Shares.Apply(h.ctx, h.c, h.acc[who], id, n)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	if a.Amount != n*o.par || a.State != shares.AppPending {
		h.fatalf("the application reserves %d (%s); the model %d", a.Amount, a.State, n*o.par)
	}
	o.apps = append(o.apps, &mApp{id: a.ID, person: who, shares: n, transfer: a.TransferID, state: "pending"})
	h.settle([]leg{{id: a.TransferID, action: ledger.ActPending, debit: "member:" + who, credit: o.account(), unit: o.unit, amount: n * o.par}})
}

func (h *harness) opWithdrawApplication() {
	var all, live []*mApp
	for _, o := range h.m.offers {
		for _, a := range o.apps {
			all = append(all, a)
			if a.state == "pending" {
				live = append(live, a)
			}
		}
	}
	if len(all) == 0 {
		h.opApply()
		return
	}
	a := pick(h, all)
	if len(live) > 0 && h.chance(80) {
		a = pick(h, live)
	}
	who := a.person
	if h.chance(12) {
		who = pick(h, h.withState("member", "applicant"))
	}
	o := h.m.offerOfApp(a)
	h.what = fmt.Sprintf("WithdrawApplication %d (%s, %d shares) from offer %d by %s", a.id, a.person, a.shares, o.id, who)
	var legs []leg
	want := "ok"
	switch {
	case who != a.person:
		want = "forbidden"
	case a.state == "withdrawn":
		want = "replay"
	case a.state != "pending", o.state != "open", !h.clock().Before(o.closes):
		want = "conflict"
	default:
		legs = []leg{{action: ledger.ActVoid, debit: "member:" + a.person, credit: o.account(), unit: o.unit, amount: a.shares * o.par,
			reserved: a.shares * o.par, pendingID: a.transfer}}
	}
	_, created, err := h.svc.Shares.WithdrawApplication(h.ctx, h.c, h.acc[who], o.id, a.id)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	a.state = "withdrawn"
	h.settle(legs)
}

func (h *harness) opCloseOffer() {
	id := int64(999999)
	if len(h.m.offers) > 0 && h.chance(95) {
		var ended, open []*mOffer
		for _, o := range h.m.offers {
			if o.state == "open" {
				open = append(open, o)
				if !h.clock().Before(o.closes) {
					ended = append(ended, o)
				}
			}
		}
		o := pick(h, h.m.offers)
		switch {
		case len(ended) > 0 && h.chance(75):
			o = pick(h, ended)
		case len(open) > 0 && h.chance(20):
			o = pick(h, open) // the board closes it early
		}
		id = o.id
	}
	who := pick(h, []string{"ada", "ada", "bo"})
	if h.chance(12) {
		who = pick(h, h.plainMembers())
	}
	h.closeOffer(who, id)
}

func (h *harness) closeOffer(who string, id int64) {
	h.what = fmt.Sprintf("Close offer %d by %s", id, who)
	o := h.offer(id)
	p := h.m.people[who]
	want := "ok"
	switch {
	case !p.manager():
		want = "forbidden"
	case o == nil:
		want = "notfound"
	case o.state == "open" && h.clock().Before(o.closes) && !p.secretary:
		want = "forbidden"
	case o.state != "open":
		want = "replay"
	}
	var legs []leg
	var commit func()
	if want == "ok" {
		legs, commit = h.m.closeOffer(o)
		h.what += fmt.Sprintf(" (%s, %d..%d shares, %d each at least)", o.rule, o.min, o.max, o.memberMin)
	}
	out, created, err := h.svc.Shares.Close(h.ctx, h.c, h.acc[who], id)
	h.expect(want, outcome(created, err), err)
	if want != "ok" {
		h.refused()
		return
	}
	commit()
	var issued int64
	for _, a := range o.apps {
		issued += a.allotted
	}
	if out.Offer.State != o.state || out.Offer.AllottedShares != issued {
		h.fatalf("the offer closed %s with %d shares allotted; the model %s with %d", out.Offer.State, out.Offer.AllottedShares, o.state, issued)
	}
	h.settle(legs)
	h.checkMembers()
}

// closeOffer is an offer's close on the model (RULES.md 3.4): below its
// minimum every reservation is voided; otherwise each application is
// allotted by the offer's rule, shares × par posted and the rest released
// (voided when it gets none), and the escrow moves to coop:reserves.
func (m *model) closeOffer(o *mOffer) ([]leg, func()) {
	var apps []*mApp
	var applied []int64
	var total int64
	for _, a := range o.apps {
		if a.state == "pending" {
			apps = append(apps, a)
			applied = append(applied, a.shares)
			total += a.shares
		}
	}
	state, allotted := "failed", make([]int64, len(apps))
	if total > 0 && total >= o.min {
		state, allotted = "allotted", allot(o.rule, applied, o.max, o.memberMin)
	}
	var legs []leg
	var issued int64
	for i, a := range apps {
		res := a.shares * o.par
		if allotted[i] == 0 {
			legs = append(legs, leg{action: ledger.ActVoid, debit: "member:" + a.person, credit: o.account(), unit: o.unit, amount: res,
				reserved: res, pendingID: a.transfer})
			continue
		}
		legs = append(legs, leg{action: ledger.ActPost, debit: "member:" + a.person, credit: o.account(), unit: o.unit,
			amount: allotted[i] * o.par, reserved: res, pendingID: a.transfer})
		issued += allotted[i]
	}
	if issued > 0 {
		legs = append(legs, leg{action: ledger.ActTransfer, debit: o.account(), credit: "coop:reserves", unit: o.unit, amount: issued * o.par})
	}
	return legs, func() {
		o.state = state
		for i, a := range apps {
			a.allotted = allotted[i]
			if allotted[i] == 0 {
				a.state = "refunded"
				continue
			}
			a.state = "allotted"
			m.holdings[a.person+" "+o.class] += allotted[i]
			if p := m.people[a.person]; p.state == "applicant" {
				p.state, p.class = "member", o.class
			}
		}
	}
}

// checkMembers holds every person's membership to the model's: share
// offers make applicants members.
func (h *harness) checkMembers() {
	for _, hd := range h.m.handles {
		p := h.m.people[hd]
		mem, err := h.svc.Coops.MemberOf(h.ctx, h.c, h.acc[hd].ID)
		state := mem.State
		if outcome(false, err) == "notfound" {
			state = ""
		} else if err != nil {
			h.fatalf("MemberOf(%s): %v", hd, err)
		}
		if state != p.state || state != "" && mem.Class != p.class {
			h.fatalf("%s is %q of %q; the model says %q of %q", hd, state, mem.Class, p.state, p.class)
		}
	}
}
