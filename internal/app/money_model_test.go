// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package app_test

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"opencoop/internal/ledger"
	"opencoop/internal/pool"
)

// The reference model of the money property test (money_property_test.go):
// every account's four sums, the journal as the model expects it, and the
// business objects (rules, rounds, buckets, offers) whose rules decide
// what each operation must move. It is written from RULES.md 3.1–3.4 and
// the services' documented contracts, and shares none of their logic (only
// their types and names): its own largest-remainder split, its own split
// trees, its own allotment rules, its own half-even rounding.

type acctKey struct{ owner, unit string }

// sums are an account's totals: debits and credits posted, debits and
// credits pending.
type sums struct{ dp, cp, dq, cq int64 }

func (s sums) balance() int64   { return s.cp - s.dp }
func (s sums) available() int64 { return s.cp - s.dp - s.dq }

// leg is one journal entry an operation is expected to write.
type leg struct {
	id        string // "" when the rules leave the id to the service
	action    string // transfer, pending, post, void, expire, reverse
	debit     string
	credit    string
	unit      string
	amount    int64      // moved (transfer, post, reverse) or reserved (pending, void, expire)
	reserved  int64      // post, void, expire: what the pending transfer held
	pendingID string     // post, void, expire
	reverses  string     // reverse
	expires   *time.Time // pending with a timeout
}

func (l leg) String() string {
	s := fmt.Sprintf("%s %s→%s %d %s", l.action, l.debit, l.credit, l.amount, l.unit)
	if l.id != "" {
		s += " id=" + l.id
	}
	if l.pendingID != "" {
		s += " of " + l.pendingID
	}
	if l.reverses != "" {
		s += " reversing " + l.reverses
	}
	return s
}

// matches reports whether journal entry t is what l expects.
func (l leg) matches(t ledger.Transfer) bool {
	if t.Action != l.action || t.Debit != l.debit || t.Credit != l.credit || t.Unit != l.unit || t.Amount != l.amount {
		return false
	}
	if l.id != "" && t.ID != l.id {
		return false
	}
	if l.pendingID != "" && t.PendingID != l.pendingID {
		return false
	}
	if l.reverses != "" && t.Reverses != l.reverses {
		return false
	}
	if l.action == ledger.ActPending && ((l.expires == nil) != (t.ExpiresAt == nil) || l.expires != nil && !l.expires.Equal(*t.ExpiresAt)) {
		return false
	}
	return true
}

// mEntry is a journal entry as the model knows it.
type mEntry struct {
	t          ledger.Transfer
	req        *ledger.Request // the hand request that made it
	body       string          // resolutions and reversals: what a replay must repeat
	state      string          // pending entries: pending, posted, voided, expired
	reversedBy string
}

type model struct {
	accts   map[acctKey]*sums
	entries map[string]*mEntry
	journal []*mEntry
	now     time.Time
	start   time.Time

	people  map[string]*person
	handles []string // every person, in a fixed order
	rule    *mRule
	incomes map[string]incomeRec
	rounds  []*mRound
	buckets []*mBucket
	offers  []*mOffer
	// contribution client ids: bucket, member, id → amount
	clientIDs map[string]int64
	holdings  map[string]int64 // person + " " + class → shares held
}

// person is someone with an account on the instance; state is her
// membership of the co-op: "" (none), applicant or member.
type person struct {
	handle    string
	memberID  int64
	state     string
	class     string
	treasurer bool
	secretary bool
}

func (p *person) active() bool  { return p != nil && p.state == "member" }
func (p *person) manager() bool { return p.active() && (p.treasurer || p.secretary) }

func newModel(now time.Time) *model {
	return &model{accts: map[acctKey]*sums{}, entries: map[string]*mEntry{}, now: now, start: now,
		people: map[string]*person{}, incomes: map[string]incomeRec{}, clientIDs: map[string]int64{}, holdings: map[string]int64{}}
}

func (m *model) acct(owner, unit string) sums {
	if a := m.accts[acctKey{owner, unit}]; a != nil {
		return *a
	}
	return sums{}
}

func (m *model) available(owner, unit string) int64 { return m.acct(owner, unit).available() }

// noOverdraft: every account but the outside world's (RULES.md 3.1).
func noOverdraft(owner string) bool { return owner != "external" }

// delta is the net effect of legs on every account they touch.
func delta(legs []leg) map[acctKey]*sums {
	d := map[acctKey]*sums{}
	at := func(o, u string) *sums {
		k := acctKey{o, u}
		if d[k] == nil {
			d[k] = &sums{}
		}
		return d[k]
	}
	for _, l := range legs {
		dr, cr := at(l.debit, l.unit), at(l.credit, l.unit)
		switch l.action {
		case ledger.ActTransfer, ledger.ActReverse:
			dr.dp += l.amount
			cr.cp += l.amount
		case ledger.ActPending:
			dr.dq += l.amount
			cr.cq += l.amount
		case ledger.ActPost:
			dr.dq -= l.reserved
			cr.cq -= l.reserved
			dr.dp += l.amount
			cr.cp += l.amount
		case ledger.ActVoid, ledger.ActExpire:
			dr.dq -= l.reserved
			cr.cq -= l.reserved
		}
	}
	return d
}

// overdraws returns an account that legs, as one atomic batch, would leave
// below zero counting pending debits, or "".
func (m *model) overdraws(legs []leg) string {
	var bad []string
	for k, d := range delta(legs) {
		a := m.acct(k.owner, k.unit)
		if noOverdraft(k.owner) && a.cp+d.cp-a.dp-d.dp-a.dq-d.dq < 0 {
			bad = append(bad, k.owner+" "+k.unit)
		}
	}
	sort.Strings(bad)
	if len(bad) == 0 {
		return ""
	}
	return bad[0]
}

// move applies legs to the accounts.
func (m *model) move(legs []leg) {
	for k, d := range delta(legs) {
		a := m.accts[k]
		if a == nil {
			a = &sums{}
			m.accts[k] = a
		}
		a.dp, a.cp, a.dq, a.cq = a.dp+d.dp, a.cp+d.cp, a.dq+d.dq, a.cq+d.cq
	}
}

// learn enters journal entries into the model's journal: pending ones
// wait for their resolution, resolutions and reversals mark what they
// resolve or reverse.
func (m *model) learn(ts []ledger.Transfer) {
	for _, t := range ts {
		e := &mEntry{t: t}
		switch t.Action {
		case ledger.ActPending:
			e.state = "pending"
		case ledger.ActPost, ledger.ActVoid, ledger.ActExpire:
			p := m.entries[t.PendingID]
			p.state = map[string]string{ledger.ActPost: "posted", ledger.ActVoid: "voided", ledger.ActExpire: "expired"}[t.Action]
			e.body = fmt.Sprintf("%s %d", t.Action, t.Amount)
		case ledger.ActReverse:
			m.entries[t.Reverses].reversedBy = t.ID
			e.body = "reverse " + t.Reverses + " " + t.Kind
		}
		m.entries[t.ID] = e
		m.journal = append(m.journal, e)
	}
}

// ---- ledger requests (Service.Submit) ----

var (
	modelIDRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)
	modelKindRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	modelOwnerRE = regexp.MustCompile(`^(member:[a-z0-9_-]{1,40}|coop:(pool|foundation|reserves|users_pool|common)|bucket:[0-9]{1,18}|offer:[0-9]{1,18}|external)$`)
	modelUnitRE  = regexp.MustCompile(`^[A-Z][A-Z0-9]{2,9}$`)
)

// clientID reports whether id may name a new transfer: the ids of
// resolutions ("<id>:post", …) are kept for them.
func clientID(id string) bool {
	if !modelIDRE.MatchString(id) {
		return false
	}
	for _, s := range []string{":post", ":void", ":expire"} {
		if strings.HasSuffix(id, s) {
			return false
		}
	}
	return true
}

func validRequest(r ledger.Request) bool {
	return clientID(r.ID) && modelOwnerRE.MatchString(r.Debit) && modelOwnerRE.MatchString(r.Credit) && r.Debit != r.Credit &&
		r.Amount >= 1 && r.Amount <= 1<<53 && modelUnitRE.MatchString(r.Unit) && modelKindRE.MatchString(r.Kind) &&
		len(r.Ref) <= 200 && r.Timeout >= 0 && r.Timeout <= 366*24*3600 && (r.Timeout == 0 || r.Pending)
}

func byRules(owner string) bool {
	return !strings.HasPrefix(owner, "bucket:") && !strings.HasPrefix(owner, "offer:")
}

// mayDebit says whether p may move money out of owner by hand.
func mayDebit(p *person, owner string) bool {
	switch {
	case owner == "member:"+p.handle:
		return true
	case p.treasurer && (strings.HasPrefix(owner, "coop:") || owner == "external"):
		return true
	}
	return false
}

// ownerExists says whether the ledger may open an account for owner.
func (m *model) ownerExists(owner string) bool {
	if h, ok := strings.CutPrefix(owner, "member:"); ok {
		p := m.people[h]
		return p != nil && p.state != ""
	}
	if strings.HasPrefix(owner, "bucket:") {
		for _, r := range m.rounds {
			if r.potMember[owner] != "" {
				return true
			}
		}
		for _, b := range m.buckets {
			if b.account() == owner {
				return true
			}
		}
		return false
	}
	if strings.HasPrefix(owner, "offer:") {
		for _, o := range m.offers {
			if o.account() == owner {
				return true
			}
		}
		return false
	}
	return true
}

// submit is Service.Submit on the model: the outcome and, if ok, the legs.
func (m *model) submit(caller *person, reqs []ledger.Request) (string, []leg) {
	if len(reqs) == 0 || len(reqs) > ledger.MaxBatch {
		return "invalid", nil
	}
	if !caller.active() {
		return "forbidden", nil
	}
	seen := map[string]bool{}
	for i := range reqs {
		r := &reqs[i]
		if r.Unit == "" {
			r.Unit = "EUR"
		}
		if !validRequest(*r) || seen[r.ID] {
			return "invalid", nil
		}
		seen[r.ID] = true
		if !byRules(r.Debit) || !byRules(r.Credit) || !mayDebit(caller, r.Debit) {
			return "forbidden", nil
		}
	}
	old := 0
	for _, r := range reqs {
		if e, ok := m.entries[r.ID]; ok {
			if e.req == nil || *e.req != r {
				return "conflict", nil
			}
			old++
		}
	}
	switch {
	case old == len(reqs):
		return "replay", nil
	case old > 0:
		return "conflict", nil
	}
	for _, r := range reqs {
		for _, o := range []string{r.Debit, r.Credit} {
			if _, open := m.accts[acctKey{o, r.Unit}]; !open && !m.ownerExists(o) {
				return "invalid", nil
			}
		}
	}
	legs := make([]leg, len(reqs))
	for i, r := range reqs {
		legs[i] = leg{id: r.ID, action: ledger.ActTransfer, debit: r.Debit, credit: r.Credit, unit: r.Unit, amount: r.Amount}
		if r.Pending {
			legs[i].action = ledger.ActPending
			if r.Timeout > 0 {
				exp := m.now.Add(time.Duration(r.Timeout) * time.Second)
				legs[i].expires = &exp
			}
		}
	}
	if m.overdraws(legs) != "" {
		return "insufficient", nil
	}
	return "ok", legs
}

// resolve is Service.SubmitResolve on the model.
func (m *model) resolve(caller *person, id, action string, amount int64) (string, []leg) {
	if !caller.active() {
		return "forbidden", nil
	}
	p, ok := m.entries[id]
	if !ok {
		return "notfound", nil
	}
	if !byRules(p.t.Debit) || !byRules(p.t.Credit) || !mayDebit(caller, p.t.Debit) {
		return "forbidden", nil
	}
	return m.resolveAs(p, action, amount)
}

// resolveAs is Service.Resolve on the model, for whoever may.
func (m *model) resolveAs(p *mEntry, action string, amount int64) (string, []leg) {
	if p.t.Action != ledger.ActPending {
		return "invalid", nil
	}
	if amount == 0 || action != ledger.ActPost {
		amount = p.t.Amount
	}
	if amount < 0 || amount > p.t.Amount {
		return "invalid", nil
	}
	if p.state != "pending" {
		was := map[string]string{"posted": ledger.ActPost, "voided": ledger.ActVoid, "expired": ledger.ActExpire}[p.state]
		if r := m.entries[p.t.ID+":"+was]; r != nil && r.body == fmt.Sprintf("%s %d", action, amount) {
			return "replay", nil
		}
		return "conflict", nil
	}
	exp := p.t.ExpiresAt
	if action == ledger.ActPost && exp != nil && !m.now.Before(*exp) {
		return "conflict", nil
	}
	if action == ledger.ActExpire && (exp == nil || m.now.Before(*exp)) {
		return "invalid", nil
	}
	return "ok", []leg{{id: p.t.ID + ":" + action, action: action, debit: p.t.Debit, credit: p.t.Credit, unit: p.t.Unit,
		amount: amount, reserved: p.t.Amount, pendingID: p.t.ID}}
}

// reverse is Service.SubmitReverse on the model.
func (m *model) reverse(caller *person, id, newID, kind string) (string, []leg) {
	if !caller.active() || !caller.treasurer {
		return "forbidden", nil
	}
	o, ok := m.entries[id]
	if !ok {
		return "notfound", nil
	}
	if !byRules(o.t.Debit) || !byRules(o.t.Credit) {
		return "forbidden", nil
	}
	if !clientID(newID) {
		return "invalid", nil
	}
	if kind == "" {
		kind = "reversal"
	}
	if o.t.Action != ledger.ActTransfer && o.t.Action != ledger.ActPost {
		return "invalid", nil
	}
	if e, ok := m.entries[newID]; ok {
		if e.body == "reverse "+id+" "+kind {
			return "replay", nil
		}
		return "conflict", nil
	}
	if o.reversedBy != "" {
		return "conflict", nil
	}
	legs := []leg{{id: newID, action: ledger.ActReverse, debit: o.t.Credit, credit: o.t.Debit, unit: o.t.Unit, amount: o.t.Amount, reverses: id}}
	if m.overdraws(legs) != "" {
		return "insufficient", nil
	}
	return "ok", legs
}

// dueToExpire lists the pending transfers whose time has run out.
func (m *model) dueToExpire() []leg {
	var legs []leg
	for _, e := range m.journal {
		if e.t.Action == ledger.ActPending && e.state == "pending" && e.t.ExpiresAt != nil && !m.now.Before(*e.t.ExpiresAt) {
			_, l := m.resolveAs(e, ledger.ActExpire, 0)
			legs = append(legs, l...)
		}
	}
	return legs
}

// ---- splitting (RULES.md: largest remainder) ----

// lr divides total among weights by the largest remainder: every part
// gets floor(total·w/W), then the units left over go one each to the
// largest remainders, the earlier part first on equal ones.
func lr(total int64, weights []int64) []int64 {
	var w big.Int
	for _, x := range weights {
		w.Add(&w, big.NewInt(x))
	}
	out := make([]int64, len(weights))
	rems := make([]*big.Int, len(weights))
	var given int64
	for i, x := range weights {
		var q, r big.Int
		q.QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(x)), &w, &r)
		out[i], rems[i] = q.Int64(), &r
		given += out[i]
	}
	var idx []int
	for i, x := range weights {
		if x > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return rems[idx[a]].Cmp(rems[idx[b]]) > 0 })
	for k := range total - given {
		out[idx[k]]++
	}
	return out
}

// treeLeg is what a split tree gives one leaf.
type treeLeg struct {
	to     string
	amount int64
}

// splitTree divides amount by n, largest remainder at every node
// (RULES.md 3.2).
func splitTree(n pool.Node, amount int64) []treeLeg {
	if len(n.Parts) == 0 {
		return []treeLeg{{n.To, amount}}
	}
	ws := make([]int64, len(n.Parts))
	for i, c := range n.Parts {
		ws[i] = c.BP
	}
	var out []treeLeg
	for i, part := range lr(amount, ws) {
		out = append(out, splitTree(n.Parts[i], part)...)
	}
	return out
}

// halfEven is a·num/den rounded half to even.
func halfEven(a, num, den int64) int64 {
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(num))
	var q, r big.Int
	q.QuoRem(p, big.NewInt(den), &r)
	twice := new(big.Int).Mul(&r, big.NewInt(2))
	if c := twice.Cmp(big.NewInt(den)); c > 0 || c == 0 && q.Bit(0) == 1 {
		q.Add(&q, big.NewInt(1))
	}
	return q.Int64()
}

// ---- pooling rules (RULES.md 3.2) ----

type mRule struct {
	preset string
	// enspiral
	collective, foundation, venture int64
	// marketplace
	fee, common int64
	// custom
	tree  *pool.Node
	kinds map[string]*pool.Node
}

// plan returns the tree that splits an income of kind, the fee in basis
// points taken first (marketplace), and whether the rule splits the kind.
func (r *mRule) plan(kind string) (tree pool.Node, feeBP int64, ok bool) {
	leaf := func(bp int64, to string) pool.Node { return pool.Node{BP: bp, To: to} }
	// A preset's part of 0% is no part: it is paid nothing and names
	// nobody (an invoice whose member keeps 0% needs no member).
	nz := func(parts ...pool.Node) []pool.Node {
		return slices.DeleteFunc(parts, func(n pool.Node) bool { return n.BP == 0 })
	}
	switch r.preset {
	case pool.Enspiral:
		// 20% of an invoice to the collective, 25% of that to the
		// foundation and the rest to the pool: member, then collective;
		// foundation, then pool.
		switch kind {
		case pool.KindInvoice:
			return pool.Node{Parts: nz(leaf(pool.Whole-r.collective, pool.ToMember),
				pool.Node{BP: r.collective, Parts: nz(leaf(r.foundation, "coop:foundation"), leaf(pool.Whole-r.foundation, "coop:pool"))})}, 0, true
		case pool.KindVenture:
			return pool.Node{Parts: nz(leaf(pool.Whole-r.venture, pool.ToMember), leaf(r.venture, "coop:pool"))}, 0, true
		}
	case pool.Marketplace:
		if kind == pool.KindSale {
			return pool.Node{Parts: nz(leaf(r.common, "coop:common"), leaf(pool.Whole-r.common, "coop:users_pool"))}, r.fee, true
		}
	case pool.Custom:
		if t := r.kinds[kind]; t != nil {
			return *t, 0, true
		}
		return *r.tree, 0, true
	}
	return pool.Node{}, 0, false
}

// kinds lists the income kinds r splits by a tree of their own.
func (r *mRule) knownKinds() []string {
	switch r.preset {
	case pool.Enspiral:
		return []string{pool.KindInvoice, pool.KindVenture}
	case pool.Marketplace:
		return []string{pool.KindSale}
	}
	var ks []string
	for k := range r.kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// incomeRec is an income as recorded, to judge replays.
type incomeRec struct {
	member, buyer, kind, unit string
	amount                    int64
}

// incomeLegs splits amount by r for kind: the member's rest of a fee
// first, then the tree's leaves, leaving out the empty ones.
func (r *mRule) incomeLegs(kind string, amount int64) (legs []treeLeg, ok bool) {
	tree, feeBP, ok := r.plan(kind)
	if !ok {
		return nil, false
	}
	base := amount
	if r.preset == pool.Marketplace {
		base = halfEven(amount, feeBP, pool.Whole)
		legs = append(legs, treeLeg{pool.ToMember, amount - base})
	}
	legs = append(legs, splitTree(tree, base)...)
	return legs, true
}

// ---- budget rounds (RULES.md 3.3) ----

type mRound struct {
	id          int64
	unit        string
	bucketsFrom time.Time
	bucketsTo   time.Time
	fundingFrom time.Time
	fundingTo   time.Time
	cap         int64
	underfunded string
	unspent     string
	allowance   string
	state       string // open, closed
	rolledInto  bool
	pots        map[string]string // member handle → pot owner
	potMember   map[string]string // pot owner → member handle
	granted     map[string]int64
}

func (r *mRound) creationOpen(now time.Time) bool {
	return r.state == "open" && !now.Before(r.bucketsFrom) && now.Before(r.bucketsTo)
}

func (r *mRound) fundingOpen(now time.Time) bool {
	return r.state == "open" && !now.Before(r.fundingFrom) && now.Before(r.fundingTo)
}

type mBucket struct {
	id         int64
	round      *mRound
	author     string
	cocreators []string
	state      string
	outcome    string
	min, max   int64
	contribs   []*mContribution
}

func (b *mBucket) account() string { return fmt.Sprintf("bucket:%d", b.id) }

func (b *mBucket) creator(h string) bool { return h == b.author || slices.Contains(b.cocreators, h) }

// raised is what b's live contributions add up to.
func (b *mBucket) raised() int64 {
	var n int64
	for _, k := range b.contribs {
		if !k.reversed {
			n += k.amount
		}
	}
	return n
}

type mContribution struct {
	id       string
	member   string
	pot      string
	amount   int64
	reversed bool
}

// ---- share offers (RULES.md 3.4) ----

type mOffer struct {
	id                   int64
	class                string
	unit                 string
	par                  int64
	min, max             int64
	memberMin, memberMax int64
	opens, closes        time.Time
	rule                 string
	state                string // open, allotted, failed
	apps                 []*mApp
}

func (o *mOffer) account() string { return fmt.Sprintf("offer:%d", o.id) }

func (o *mOffer) accepting(now time.Time) bool {
	return o.state == "open" && !now.Before(o.opens) && now.Before(o.closes)
}

type mApp struct {
	id       int64
	person   string
	shares   int64
	transfer string
	state    string // pending, withdrawn, allotted, refunded
	allotted int64
}

// allot divides limit shares among applications asking for applied[i]
// each (earliest first), never below memberMin, by rule — RULES.md 3.4
// and the allotment rules as the shares package documents them, worked
// out here step by step.
func allot(rule string, applied []int64, limit, memberMin int64) []int64 {
	out := make([]int64, len(applied))
	var total int64
	for _, a := range applied {
		total += a
	}
	if total <= limit {
		copy(out, applied)
		return out
	}
	if rule == "fcfs" {
		left := limit
		for i, a := range applied {
			if left < memberMin {
				break
			}
			out[i] = min(a, left)
			left -= out[i]
		}
		return out
	}
	// Only as many applications as can each have memberMin are kept, the
	// earliest.
	n := len(applied)
	if int64(n)*memberMin > limit {
		n = int(limit / memberMin)
	}
	kept := applied[:n]
	var keptTotal int64
	for _, a := range kept {
		keptTotal += a
	}
	if keptTotal <= limit {
		copy(out, kept)
		return out
	}
	switch rule {
	case "pro_rata":
		// Proportional shares; those that would fall below memberMin get
		// memberMin, and the rest is shared again among the others.
		fixed := make([]bool, n)
		for {
			budget, weight := limit, int64(0)
			for i, a := range kept {
				if fixed[i] {
					budget -= memberMin
				} else {
					weight += a
				}
			}
			changed := false
			for i, a := range kept {
				// budget·a/weight < memberMin
				if !fixed[i] && weight > 0 && new(big.Int).Mul(big.NewInt(budget), big.NewInt(a)).Cmp(new(big.Int).Mul(big.NewInt(memberMin), big.NewInt(weight))) < 0 {
					fixed[i], changed = true, true
					break // one at a time: the budget and weight change
				}
			}
			if changed {
				continue
			}
			var idx []int
			var ws []int64
			for i, a := range kept {
				if fixed[i] {
					out[i] = memberMin
				} else {
					idx = append(idx, i)
					ws = append(ws, a)
				}
			}
			if len(ws) > 0 {
				for j, part := range lr(budget, ws) {
					out[idx[j]] = part
				}
			}
			return out
		}
	case "cap_largest":
		// The largest common cap whose total fits, found by counting up.
		capAt := func(c int64) int64 {
			var s int64
			for _, a := range kept {
				s += min(a, c)
			}
			return s
		}
		c := int64(0)
		for capAt(c+1) <= limit {
			c++
		}
		left := limit
		for i, a := range kept {
			out[i] = min(a, c)
			left -= out[i]
		}
		for i, a := range kept {
			if left > 0 && a > c {
				out[i]++
				left--
			}
		}
		return out
	}
	panic("allot: rule " + rule)
}
