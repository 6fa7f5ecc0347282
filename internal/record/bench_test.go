// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package record

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"opencoop/internal/vote"
)

// benchMembers is the size of the delegation benchmark of
// docs/BENCHMARKS.md.
const benchMembers = 1_000_000

// millionRecord builds, deterministically, a Schulze record of n members in
// three classes (weights 1, 2 or 5) over 8 options with the default option
// "sq": 45% vote directly, 30% delegate, the rest stay silent. Delegators
// form chains of 1 to 10 members; most chains end at a direct voter (co-op
// or topic scope), some loop back to their start (a cycle), some end at a
// member who delegated "to nobody" on this proposal (a block), some at a
// silent member. Rankings rank 1 to 8 options with some level groups.
func millionRecord(n int) *Record {
	rng := rand.New(rand.NewPCG(2026, 0x11d))
	keys := []string{"sq", "o1", "o2", "o3", "o4", "o5", "o6", "o7"}
	opts := make([]vote.Option, len(keys))
	for i, k := range keys {
		opts[i] = vote.Option{Key: k, Label: k}
	}
	rec := &Record{Format: Format, Proposal: 7, Method: vote.Schulze, Weighting: vote.Equal, Topic: "budget",
		Params:  vote.Params{DefaultOption: "sq"},
		Classes: []vote.Class{{Key: "workers", Weight: 50}, {Key: "users", Weight: 30}, {Key: "investors", Weight: 20}},
		Options: opts, Electorate: make([]Voter, n)}
	classes := []string{"workers", "users", "investors"}
	weights := []int64{1, 1, 1, 1, 1, 1, 1, 2, 2, 5}
	for i := range rec.Electorate {
		rec.Electorate[i] = Voter{Voter: "m" + strconv.Itoa(i), Class: classes[rng.IntN(3)], Weight: weights[rng.IntN(len(weights))]}
	}
	// Roles by a shuffled order: direct voters first, then delegators.
	perm := rng.Perm(n)
	nDirect, nDeleg := n*45/100, n*30/100
	direct, deleg, silent := perm[:nDirect], perm[nDirect:nDirect+nDeleg], perm[nDirect+nDeleg:]
	rec.Ballots = make([]Ballot, 0, nDirect)
	for _, i := range direct {
		rec.Ballots = append(rec.Ballots, Ballot{Voter: rec.Electorate[i].Voter, Content: Content{Ranking: randomRanking(rng, keys)}})
	}
	name := func(i int) *string { return &rec.Electorate[i].Voter }
	rec.Delegations = make([]Delegation, 0, nDeleg+nDeleg/20)
	for len(deleg) > 0 {
		l := min(1+rng.IntN(10), len(deleg))
		chain := deleg[:l]
		deleg = deleg[l:]
		for j := 0; j+1 < l; j++ {
			rec.Delegations = append(rec.Delegations, Delegation{From: *name(chain[j]), To: name(chain[j+1]), Scope: ScopeCoop})
		}
		last := chain[l-1]
		switch x := rng.IntN(100); {
		case x < 3: // a cycle
			rec.Delegations = append(rec.Delegations, Delegation{From: *name(last), To: name(chain[0]), Scope: ScopeCoop})
		case x < 6: // a block: a co-op delegation overridden by one to nobody
			rec.Delegations = append(rec.Delegations,
				Delegation{From: *name(last), To: name(direct[rng.IntN(nDirect)]), Scope: ScopeCoop},
				Delegation{From: *name(last), Scope: ScopeProposal, Proposal: 7})
		case x < 8: // to a silent member
			rec.Delegations = append(rec.Delegations, Delegation{From: *name(last), To: name(silent[rng.IntN(len(silent))]), Scope: ScopeCoop})
		case x < 40: // a topic delegation
			rec.Delegations = append(rec.Delegations, Delegation{From: *name(last), To: name(direct[rng.IntN(nDirect)]), Scope: ScopeTopic, Topic: "budget"})
		default:
			rec.Delegations = append(rec.Delegations, Delegation{From: *name(last), To: name(direct[rng.IntN(nDirect)]), Scope: ScopeCoop})
		}
	}
	return rec
}

// randomRanking ranks 1 to all of keys in a random order, putting about
// one in four next to the one before it.
func randomRanking(rng *rand.Rand, keys []string) Ranking {
	p := rng.Perm(len(keys))[:1+rng.IntN(len(keys))]
	var r Ranking
	for _, o := range p {
		if len(r) > 0 && rng.IntN(4) == 0 {
			r[len(r)-1] = append(r[len(r)-1], keys[o])
		} else {
			r = append(r, []string{keys[o]})
		}
	}
	return r
}

var (
	benchOnce sync.Once
	benchRec  *Record
)

// BenchmarkCountMillionDelegated times Resolve, Input and vote.Count — all
// that record.Count does — on a record of a million members, 30% of them
// delegating (docs/BENCHMARKS.md). alloc-MB/op is the memory the count
// allocates, on top of the record itself.
func BenchmarkCountMillionDelegated(b *testing.B) {
	benchOnce.Do(func() { benchRec = millionRecord(benchMembers) })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ops := 0
	for b.Loop() {
		r, err := Count(benchRec)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Winners) != 1 || r.DelegatedWeight == 0 {
			b.Fatalf("Count = %v winners, %d delegated weight", r.Winners, r.DelegatedWeight)
		}
		ops++
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(ops)/1e6, "alloc-MB/op")
}
