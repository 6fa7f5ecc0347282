// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// election builds an input from "count: A>B=C" lines over options named by
// single letters.
func election(t *testing.T, m Method, p Params, options string, lines ...string) *Input {
	t.Helper()
	in := &Input{Method: m, Params: p, Classes: []Class{{Key: "all", Weight: 100}}, Weighting: Equal}
	idx := map[string]int{}
	for i, o := range strings.Split(options, ",") {
		in.Options = append(in.Options, Option{Key: o, Label: o})
		idx[o] = i
	}
	for _, l := range lines {
		var w int64
		var rest string
		if _, err := fmt.Sscanf(l, "%d:", &w); err != nil {
			t.Fatalf("bad line %q", l)
		}
		_, rest, _ = strings.Cut(l, ":")
		rest = strings.TrimSpace(rest)
		b := Ballot{Weight: w}
		if strings.Contains(rest, "=") && strings.ContainsAny(rest, "0123456789") {
			b.Scores = make([]int, len(in.Options))
			for _, f := range strings.Fields(rest) {
				name, v, _ := strings.Cut(f, "=")
				fmt.Sscan(v, &b.Scores[idx[name]])
			}
		} else if rest != "" {
			var groups [][]int
			for _, g := range strings.Split(rest, ">") {
				var grp []int
				for _, o := range strings.Split(g, "=") {
					grp = append(grp, idx[o])
				}
				groups = append(groups, grp)
			}
			b.Ranking = RankingOf(groups)
		}
		in.Ballots = append(in.Ballots, b)
	}
	return in
}

func mustCount(t *testing.T, in *Input) *Result {
	t.Helper()
	r, err := Count(in)
	if err != nil {
		t.Fatalf("Count(%s) error: %v", in.Method, err)
	}
	return r
}

func TestRankingGroups(t *testing.T) {
	for _, groups := range [][][]int{nil, {{0}}, {{2}, {0, 1}, {3}}, {{1, 0}}, {{4}, {3}, {2}, {1}, {0}}} {
		r := RankingOf(groups)
		got := r.Groups()
		if len(groups) == 0 {
			groups = nil
		}
		if diff := cmp.Diff(groups, got); diff != "" {
			t.Errorf("RankingOf(%v).Groups() (-want +got):\n%s", groups, diff)
		}
	}
	if got, want := Strict(2, 0, 1), RankingOf([][]int{{2}, {0}, {1}}); !slices.Equal(got, want) {
		t.Errorf("Strict(2, 0, 1) = %v, want %v", got, want)
	}
}

// TestRankingNext checks the overvote rule of RULES.md 2.2.
func TestRankingNext(t *testing.T) {
	r := RankingOf([][]int{{0, 1}, {2}, {3, 4}, {5}})
	tests := []struct {
		live     []bool
		pos      int
		want     int
		wantPos  int
		describe string
	}{
		{[]bool{true, true, true, true, true, true}, 0, -1, len(r), "level first rank, both live: overvote"},
		{[]bool{false, true, true, true, true, true}, 0, 1, 0, "one member of the group live: counts for it"},
		{[]bool{false, false, true, true, true, true}, 0, 2, 2, "no member live: skipped"},
		{[]bool{false, false, false, true, true, true}, 0, -1, len(r), "second group overvoted"},
		{[]bool{false, false, false, true, false, true}, 0, 3, 3, "second group has one live member"},
		{[]bool{false, false, false, false, false, true}, 2, 5, 5, "from a later position"},
		{[]bool{false, false, false, false, false, false}, 0, -1, len(r), "exhausted"},
	}
	for _, tc := range tests {
		got, pos := r.next(tc.pos, tc.live)
		if got != tc.want || pos != tc.wantPos {
			t.Errorf("%v.next(%d, %v) = %d, %d, want %d, %d (%s)", r.Groups(), tc.pos, tc.live, got, pos, tc.want, tc.wantPos, tc.describe)
		}
	}
}

func TestRankedErrors(t *testing.T) {
	for _, m := range []Method{IRV, Borda, Schulze, STV} {
		in := election(t, m, Params{}, "A,B", "1: A>B")
		in.Ballots[0].Ranking = Ranking{0, 0}
		if _, err := Count(in); err == nil {
			t.Errorf("Count(%s) with an option ranked twice: no error", m)
		}
		in.Ballots[0].Ranking = Ranking{0, 7}
		if _, err := Count(in); err == nil {
			t.Errorf("Count(%s) with an unknown option: no error", m)
		}
		in.Ballots[0].Ranking = Ranking{^0}
		if _, err := Count(in); err == nil {
			t.Errorf("Count(%s) with a ranking starting level: no error", m)
		}
	}
	in := election(t, STV, Params{Rules: "droop"}, "A,B", "1: A>B")
	if _, err := Count(in); err == nil {
		t.Errorf("Count(stv, rules droop): no error")
	}
	in = election(t, Schulze, Params{DefaultOption: "Z"}, "A,B", "1: A>B")
	if _, err := Count(in); err == nil {
		t.Errorf("Count(schulze, default Z): no error")
	}
}

// TestTieBreaks checks each method's own tie rule and then the lot.
func TestTieBreaks(t *testing.T) {
	lot := func(seed string, keys ...string) string { return Lot(seed, keys)[0] }
	loser := func(seed string, keys ...string) string { d := Lot(seed, keys); return d[len(d)-1] }
	tests := []struct {
		name     string
		in       *Input
		winners  []string
		excluded []string // the first exclusion, if any
		lot      []string
	}{
		{
			// Round 2 ties B and C at 6; round 1 had B 5 < C 6, so B goes.
			name:     "irv earlier round",
			in:       election(t, IRV, Params{Seed: "s"}, "A,B,C,D", "10: A", "5: B>C", "6: C", "1: D>B"),
			winners:  []string{"C"},
			excluded: []string{"D"},
		},
		{
			name:    "irv lot",
			in:      election(t, IRV, Params{Seed: "seed-1"}, "A,B", "1: A", "1: B"),
			winners: []string{lot("seed-1", "A", "B")},
			lot:     []string{"A", "B"},
		},
		{
			name:    "irv lot, other seed",
			in:      election(t, IRV, Params{Seed: "seed-2"}, "A,B", "1: A", "1: B"),
			winners: []string{lot("seed-2", "A", "B")},
			lot:     []string{"A", "B"},
		},
		{
			// Stage 1: A 5 elected (quota 4), B 2, C 2, D 1 (quota
			// floor(10/3)+1 = 4). A's surplus 1 goes to C (value 0.2 each),
			// then D (1) is out: D>B gives B 3, C 2 + 1 = 3; both 3 at
			// stage 3, the latest stage where they differ (stage 2: B 2 <
			// C 3) puts B out; C wins the last seat.
			name:     "scottish most recent stage",
			in:       election(t, STV, Params{Seats: 2, Seed: "s"}, "A,B,C,D", "5: A>C", "2: B", "2: C", "1: D>B"),
			winners:  []string{"A", "C"},
			excluded: []string{"D"},
		},
		{
			name:    "scottish lot",
			in:      election(t, STV, Params{Seats: 1, Seed: "x"}, "A,B,C", "2: A", "2: B", "2: C"),
			winners: []string{lot("x", "A", "B", "C")},
			// Exclusion is drawn twice; the last lot is between the two left.
			excluded: []string{loser("x", "A", "B", "C")},
		},
		{
			name:    "schulze lot",
			in:      election(t, Schulze, Params{Seed: "y"}, "A,B", "1: A>B", "1: B>A"),
			winners: []string{lot("y", "A", "B")},
			lot:     []string{"A", "B"},
		},
		{
			name:    "borda lot",
			in:      election(t, Borda, Params{Seed: "z"}, "A,B,C", "1: A>B>C", "1: B>A>C"),
			winners: []string{lot("z", "A", "B")},
			lot:     []string{"A", "B"},
		},
		{
			// Totals A 6, B 6: runoff 1-1, totals level, A has the only five.
			name:    "star runoff tie by five-star count",
			in:      election(t, STAR, Params{Seed: "s"}, "A,B,C", "1: A=5 B=2 C=0", "1: A=1 B=4 C=0"),
			winners: []string{"A"},
		},
		{
			// Totals A 7, B 6, C 6: C has a five and B none, so C is the
			// second finalist and beats A 2-1 in the runoff.
			name:    "star scoring tie by five-star count",
			in:      election(t, STAR, Params{Seed: "s"}, "A,B,C", "1: A=0 B=0 C=1", "1: A=2 B=4 C=5", "1: A=5 B=2 C=0"),
			winners: []string{"C"},
		},
		{
			name:    "star lot",
			in:      election(t, STAR, Params{Seed: "w"}, "A,B", "1: A=5 B=4", "1: A=4 B=5"),
			winners: []string{lot("w", "A", "B")},
			lot:     []string{"A", "B"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCount(t, tc.in)
			if !slices.Equal(r.Winners, tc.winners) {
				t.Errorf("Count(%s).Winners = %q, want %q", tc.name, r.Winners, tc.winners)
			}
			if tc.excluded != nil {
				var got []string
				for _, rd := range r.Rounds {
					if len(rd.Excluded) > 0 {
						got = rd.Excluded
						break
					}
				}
				if !slices.Equal(got, tc.excluded) {
					t.Errorf("Count(%s) first exclusion = %q, want %q", tc.name, got, tc.excluded)
				}
			}
			if tc.lot != nil && !slices.Equal(r.TieBroken, tc.lot) {
				t.Errorf("Count(%s).TieBroken = %q, want %q", tc.name, r.TieBroken, tc.lot)
			}
			if tc.lot == nil && tc.name != "scottish lot" && r.TieBroken != nil {
				t.Errorf("Count(%s).TieBroken = %q, want no lot", tc.name, r.TieBroken)
			}
		})
	}
}

// TestIRVBurlingtonOvervote checks the overvote rule on a small case: a
// ballot whose first rank is level is exhausted for good, even once one of
// the two is out; a later level group counts once only one is left.
func TestIRVOvervote(t *testing.T) {
	in := election(t, IRV, Params{}, "A,B,C", "4: A", "3: B", "2: C>A=B", "1: C=A")
	r := mustCount(t, in)
	// Round 1: A 4, B 3, C 2, exhausted 1 (C=A). C out: C>A=B has both A
	// and B live, so it exhausts too: A 4, B 3, exhausted 3; A has 4 of 7.
	if got := r.Rounds[len(r.Rounds)-1].Exhausted.String(); got != "3" {
		t.Errorf("Count(irv) exhausted = %s, want 3", got)
	}
	if !slices.Equal(r.Winners, []string{"A"}) {
		t.Errorf("Count(irv).Winners = %q, want [A]", r.Winners)
	}
}

func TestMeekKeepFactors(t *testing.T) {
	// OpaVote's example: Alice 28 and Bob 26 of 60 are elected in round 1
	// with the reference rule's quota 60/4 + 0.000000001 (the blog uses the
	// whole-number threshold 16 instead, hence its 16/28 and 16/26).
	in := election(t, STV, Params{Seats: 3, Rules: "meek"}, "Alice,Bob,Chris,Don,Eric",
		"28: Alice>Bob>Chris", "26: Bob>Alice>Chris", "3: Chris", "2: Don", "1: Eric")
	r := mustCount(t, in)
	if got := r.Rounds[0].Quota.String(); got != "15.000000001" {
		t.Errorf("Count(meek) first quota = %s, want 15.000000001", got)
	}
	if got := r.Rounds[0].Elected; !slices.Equal(got, []string{"Alice", "Bob"}) {
		t.Errorf("Count(meek) round 1 elected %q, want [Alice Bob]", got)
	}
	// In the last round the counts follow from the keep factors: Alice
	// keeps kA of her 28 and kA of what Bob's 26 pass on, and so on.
	last := r.Rounds[len(r.Rounds)-1]
	kA, kB := last.Keep["Alice"].Float(), last.Keep["Bob"].Float()
	for _, c := range []struct {
		name string
		want float64
	}{
		{"Alice", 28*kA + 26*(1-kB)*kA},
		{"Bob", 26*kB + 28*(1-kA)*kB},
		{"Chris", 3 + 28*(1-kA)*(1-kB) + 26*(1-kB)*(1-kA)},
	} {
		if got := last.Counts[c.name].Float(); got < c.want-1e-6 || got > c.want+1e-6 {
			t.Errorf("Count(meek) %s = %v, want %v from keep factors %v, %v", c.name, got, c.want, kA, kB)
		}
	}
	var sum float64
	for _, v := range last.Counts {
		sum += v.Float()
	}
	if sum+last.Exhausted.Float() < 60-1e-6 || sum+last.Exhausted.Float() > 60+1e-6 {
		t.Errorf("Count(meek) last round holds %v + exhausted %v, want 60", sum, last.Exhausted)
	}
}

// randomElection makes a random ranked election: nb ballots over nc
// options, each with a weight 1..maxW; with ties set, some rankings have
// level groups.
func randomElection(rng *rand.Rand, m Method, nc, nb int, maxW int64, ties bool) *Input {
	in := &Input{Method: m, Classes: []Class{{Key: "all", Weight: 100}}, Weighting: Equal}
	for i := range nc {
		k := string(rune('A' + i))
		in.Options = append(in.Options, Option{Key: k, Label: k})
	}
	for range nb {
		perm := rng.Perm(nc)[:1+rng.IntN(nc)]
		var groups [][]int
		for _, o := range perm {
			if ties && len(groups) > 0 && rng.IntN(4) == 0 {
				groups[len(groups)-1] = append(groups[len(groups)-1], o)
			} else {
				groups = append(groups, []int{o})
			}
		}
		in.Ballots = append(in.Ballots, Ballot{Weight: 1 + rng.Int64N(maxW), Ranking: RankingOf(groups)})
	}
	return in
}

// pairwise counts, independently of countSchulze, how many ballots rank a
// above b (unranked below ranked).
func pairwise(in *Input) [][]int64 {
	n := len(in.Options)
	d := make([][]int64, n)
	for i := range d {
		d[i] = make([]int64, n)
	}
	for _, b := range in.Ballots {
		lvl := make([]int, n)
		for i := range lvl {
			lvl[i] = n + 1
		}
		for l, g := range b.Ranking.Groups() {
			for _, o := range g {
				lvl[o] = l
			}
		}
		for a := range n {
			for c := range n {
				if lvl[a] < lvl[c] {
					d[a][c] += b.Weight
				}
			}
		}
	}
	return d
}

func TestPropertyCondorcetWinsSchulze(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	found := 0
	for trial := range 300 {
		in := randomElection(rng, Schulze, 2+rng.IntN(5), 1+rng.IntN(30), 5, true)
		d := pairwise(in)
		cw := -1
		for a := range d {
			beats := true
			for c := range d {
				if a != c && d[a][c] <= d[c][a] {
					beats = false
				}
			}
			if beats {
				cw = a
			}
		}
		r := mustCount(t, in)
		for a := range d {
			for c := range d {
				if a != c && r.Pairwise[in.Options[a].Key][in.Options[c].Key].Rat().Num().Int64() != d[a][c] {
					t.Fatalf("trial %d: Pairwise[%d][%d] = %v, want %d", trial, a, c, r.Pairwise[in.Options[a].Key][in.Options[c].Key], d[a][c])
				}
			}
		}
		if cw < 0 {
			continue
		}
		found++
		if !slices.Equal(r.Winners, []string{in.Options[cw].Key}) {
			t.Errorf("trial %d: Count(schulze).Winners = %q, want Condorcet winner %s", trial, r.Winners, in.Options[cw].Key)
		}
	}
	if found < 100 {
		t.Errorf("only %d elections had a Condorcet winner", found)
	}
}

func TestPropertyMajorityWinsIRV(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	found := 0
	for trial := range 300 {
		in := randomElection(rng, IRV, 2+rng.IntN(6), 1+rng.IntN(20), 10, trial%2 == 0)
		first := make([]int64, len(in.Options))
		var total int64
		for _, b := range in.Ballots {
			if g := b.Ranking.Groups(); len(g) > 0 && len(g[0]) == 1 {
				first[g[0][0]] += b.Weight
				total += b.Weight
			}
		}
		for o, v := range first {
			if 2*v > total {
				found++
				r := mustCount(t, in)
				if !slices.Equal(r.Winners, []string{in.Options[o].Key}) {
					t.Errorf("trial %d: Count(irv).Winners = %q, want majority winner %s", trial, r.Winners, in.Options[o].Key)
				}
			}
		}
	}
	if found < 50 {
		t.Errorf("only %d elections had a majority winner", found)
	}
}

// hasLowTie reports whether some round of r had two continuing candidates
// level, where tie rules of different methods may legitimately part ways.
func hasLowTie(r *Result) bool {
	for _, rd := range r.Rounds {
		seen := map[string]bool{}
		for _, v := range rd.Counts {
			if seen[v.Exact()] {
				return true
			}
			seen[v.Exact()] = true
		}
	}
	return false
}

func TestPropertySTVOneSeatIsIRV(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	compared := 0
	for trial := range 300 {
		in := randomElection(rng, IRV, 2+rng.IntN(6), 5+rng.IntN(60), 1000, false)
		irv := mustCount(t, in)
		for _, rules := range []string{"scottish", "meek"} {
			s := *in
			s.Method, s.Params = STV, Params{Seats: 1, Rules: rules}
			stv := mustCount(t, &s)
			if hasLowTie(irv) || hasLowTie(stv) {
				continue
			}
			compared++
			if !slices.Equal(stv.Winners, irv.Winners) {
				t.Errorf("trial %d: Count(stv %s, 1 seat).Winners = %q, want IRV's %q", trial, rules, stv.Winners, irv.Winners)
			}
		}
	}
	if compared < 300 {
		t.Errorf("only %d comparisons without ties", compared)
	}
}

var propertyMethods = []struct {
	m Method
	p Params
}{
	{IRV, Params{}}, {Borda, Params{}}, {Schulze, Params{}},
	{STV, Params{Seats: 2, Rules: "scottish"}}, {STV, Params{Seats: 2, Rules: "meek"}},
}

func TestPropertyPermutationInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 100 {
		for _, pm := range propertyMethods {
			in := randomElection(rng, pm.m, 2+rng.IntN(6), 1+rng.IntN(40), 20, true)
			in.Params = pm.p
			in.Params.Seed = "perm"
			want, err := json.Marshal(mustCount(t, in))
			if err != nil {
				t.Fatal(err)
			}
			rng.Shuffle(len(in.Ballots), func(i, j int) { in.Ballots[i], in.Ballots[j] = in.Ballots[j], in.Ballots[i] })
			got, _ := json.Marshal(mustCount(t, in))
			if string(got) != string(want) {
				t.Errorf("trial %d: Count(%s %s) changed when ballots were shuffled:\n got %s\nwant %s", trial, pm.m, pm.p.Rules, got, want)
			}
		}
	}
}

func TestPropertyScaleInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 100 {
		for _, pm := range propertyMethods {
			in := randomElection(rng, pm.m, 2+rng.IntN(6), 5+rng.IntN(40), 1000, pm.m != STV)
			in.Params = pm.p
			in.Params.Seed = "scale"
			want := mustCount(t, in)
			k := int64(2 + rng.IntN(9))
			for i := range in.Ballots {
				in.Ballots[i].Weight *= k
			}
			got := mustCount(t, in)
			if hasLowTie(want) && pm.m == STV {
				continue // Droop's "+1" weighs differently at another scale
			}
			if !slices.Equal(got.Winners, want.Winners) {
				t.Errorf("trial %d: Count(%s %s) with weights ×%d: Winners = %q, want %q", trial, pm.m, pm.p.Rules, k, got.Winners, want.Winners)
			}
		}
	}
}

// TestClassWeighting checks that ranked counts apply the class factors of
// RULES.md 2.3: two classes of 50% each, one of 1 member and one of 3.
func TestClassWeighting(t *testing.T) {
	in := election(t, IRV, Params{}, "A,B", "1: A>B", "1: B>A", "1: B>A", "1: B>A")
	in.Weighting = Classes
	in.Classes = []Class{{Key: "workers", Weight: 50}, {Key: "users", Weight: 50}}
	in.Ballots[0].Class = 0
	for i := 1; i < 4; i++ {
		in.Ballots[i].Class = 1
	}
	r := mustCount(t, in)
	// A: 50% from the single worker; B: 3 × 50/3 = 50%. Tie, then lot.
	if got := r.Rounds[0].Counts["A"].String(); got != "50" {
		t.Errorf("Count(irv, classes) A = %s, want 50", got)
	}
	in.Classes[0].Weight = 60
	in.Classes[1].Weight = 40
	for _, m := range []Method{IRV, Borda, Schulze} {
		in.Method = m
		r = mustCount(t, in)
		if !slices.Equal(r.Winners, []string{"A"}) {
			t.Errorf("Count(%s, classes 60/40).Winners = %q, want [A]", m, r.Winners)
		}
	}
	in.Method, in.Params = STV, Params{Seats: 1}
	for _, rules := range []string{"scottish", "meek"} {
		in.Params.Rules = rules
		r = mustCount(t, in)
		if !slices.Equal(r.Winners, []string{"A"}) {
			t.Errorf("Count(stv %s, classes 60/40).Winners = %q, want [A]", rules, r.Winners)
		}
	}
}
