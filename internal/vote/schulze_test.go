// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSchulzeUnranked checks where options a ballot leaves out rank
// (countSchulze): below everything it ranks, or level with the default
// option when the ballot ranks the default. Every table was worked out by
// hand, ballot by ballot, from the lines in the case.
func TestSchulzeUnranked(t *testing.T) {
	// Options a, b, c, d and s. Ballots:
	//   1: a>s>b       c, d unranked
	//   2: b=c>a       s, d unranked
	//   3: s>a         b, c, d unranked
	//   1: d>a=s>c     b unranked
	lines := []string{"1: a>s>b", "2: b=c>a", "3: s>a", "1: d>a=s>c"}
	tests := []struct {
		name   string
		params Params
		// want[x][y] is the weighted number of ballots ranking x above y;
		// pairs not listed are 0.
		want map[string]map[string]int64
	}{
		{
			// Unranked options are level at the bottom of every ballot.
			//   1: a>{s,b,c,d}, s>{b,c,d}, b>{c,d}
			//   2: b>{a,s,d}, c>{a,s,d}, a>{s,d}            (×2)
			//   3: s>{a,b,c,d}, a>{b,c,d}                   (×3)
			//   1: d>{a,s,c,b}, a>{c,b}, s>{c,b}, c>b
			name: "no default option",
			want: map[string]map[string]int64{
				"a": {"s": 1 + 2, "b": 1 + 3 + 1, "c": 1 + 3 + 1, "d": 1 + 2 + 3},
				"b": {"a": 2, "s": 2, "c": 1, "d": 1 + 2},
				"c": {"a": 2, "s": 2, "b": 1, "d": 2},
				"d": {"a": 1, "s": 1, "b": 1, "c": 1},
				"s": {"a": 3, "b": 1 + 3 + 1, "c": 1 + 3 + 1, "d": 1 + 3},
			},
		},
		{
			// With default s, a ballot that ranks s puts its unranked
			// options level with s:
			//   1: a>s>b, c=d=s: a>{s,b,c,d}, s>b, c>b, d>b
			//   2: s not ranked, so s and d level at the bottom, as above
			//   3: s>a, b=c=d=s: s>a, b>a, c>a, d>a
			//   1: d>a=s>c, b=s: d>{a,s,c,b}, a>c, s>c, b>c
			name:   "default option ranked",
			params: Params{DefaultOption: "s"},
			want: map[string]map[string]int64{
				"a": {"s": 1 + 2, "b": 1, "c": 1 + 1, "d": 1 + 2},
				"b": {"a": 2 + 3, "s": 2, "c": 1, "d": 2},
				"c": {"a": 2 + 3, "s": 2, "b": 1, "d": 2},
				"d": {"a": 3 + 1, "s": 1, "b": 1 + 1, "c": 1},
				"s": {"a": 3, "b": 1, "c": 1},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := election(t, Schulze, tc.params, "a,b,c,d,s", lines...)
			r := mustCount(t, in)
			for _, x := range in.Options {
				for _, y := range in.Options {
					if x == y {
						continue
					}
					want := tc.want[x.Key][y.Key]
					if got := r.Pairwise[x.Key][y.Key]; got.Rat().Cmp(big.NewRat(want, 1)) != 0 {
						t.Errorf("Count(schulze %+v).Pairwise[%s][%s] = %s, want %d", tc.params, x.Key, y.Key, got, want)
					}
				}
			}
		})
	}
}

// TestSchulzeUnrankedDecides shows the rule deciding a winner. Default s;
// 3: a>s (b unranked), 2: b>s (a unranked), 2: s>a (b unranked).
//
// Level with s: line 1 is a>s=b, line 2 b>s=a, line 3 b=s>a. So
// d[a][s] = 3 against d[s][a] = 2 and d[b][s] = 2 against d[s][b] = 0: both
// pass the default; d[b][a] = 2 + 2 = 4 beats d[a][b] = 3, and b wins.
//
// The same lines with the unranked option written out below (Debian's
// rule, [Ranking.UnrankedLast]): a>s>b, b>s>a, s>a>b. Now d[s][a] = 2 + 2
// = 4 beats d[a][s] = 3 and d[s][b] = 3 + 2 = 5 beats d[b][s] = 2: both
// are dropped against the default, and s wins.
func TestSchulzeUnrankedDecides(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bottomRow bool
		want      string
	}{
		{"level with the default", false, "b"},
		{"written out below", true, "s"},
	} {
		in := election(t, Schulze, Params{DefaultOption: "s"}, "a,b,s", "3: a>s", "2: b>s", "2: s>a")
		if tc.bottomRow {
			for i := range in.Ballots {
				in.Ballots[i].Ranking = in.Ballots[i].Ranking.UnrankedLast(len(in.Options))
			}
		}
		r := mustCount(t, in)
		if !slices.Equal(r.Winners, []string{tc.want}) {
			t.Errorf("%s: Count(schulze).Winners = %q, want %s (pairwise %v)", tc.name, r.Winners, tc.want, r.Pairwise)
		}
	}
}

func TestUnrankedLast(t *testing.T) {
	tests := []struct {
		in   Ranking
		n    int
		want [][]int
	}{
		{Strict(2, 0), 4, [][]int{{2}, {0}, {1, 3}}},
		{Strict(1), 3, [][]int{{1}, {0, 2}}},
		{RankingOf([][]int{{0, 2}}), 4, [][]int{{0, 2}, {1, 3}}},
		{Strict(0, 1), 2, [][]int{{0}, {1}}},
		{Strict(), 2, [][]int{{0, 1}}},
	}
	for _, tc := range tests {
		got := tc.in.UnrankedLast(tc.n).Groups()
		if !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%v.UnrankedLast(%d) = %v, want %v", tc.in.Groups(), tc.n, got, tc.want)
		}
	}
}

// TestPropertySchulzeUnranked compares countSchulze's pairwise counts with
// a plain reading of the rule over random elections with a default option:
// every option gets a level (its group's, else the default's when ranked,
// else below all), and x beats y on a ballot when its level is smaller.
func TestPropertySchulzeUnranked(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		nc := 2 + rng.IntN(6)
		in := randomElection(rng, Schulze, nc, 1+rng.IntN(20), 4, true)
		def := rng.IntN(nc)
		in.Params.DefaultOption = in.Options[def].Key
		want := make([][]int64, nc)
		for i := range want {
			want[i] = make([]int64, nc)
		}
		for _, b := range in.Ballots {
			lvl := make([]int, nc)
			for i := range lvl {
				lvl[i] = -1
			}
			for l, g := range b.Ranking.Groups() {
				for _, o := range g {
					lvl[o] = l
				}
			}
			floor := nc + 1
			if lvl[def] >= 0 {
				floor = lvl[def]
			}
			for i := range lvl {
				if lvl[i] < 0 {
					lvl[i] = floor
				}
			}
			for x := range nc {
				for y := range nc {
					if lvl[x] < lvl[y] {
						want[x][y] += b.Weight
					}
				}
			}
		}
		r := mustCount(t, in)
		for x := range nc {
			for y := range nc {
				if x == y {
					continue
				}
				got := r.Pairwise[in.Options[x].Key][in.Options[y].Key]
				if got.Rat().Cmp(big.NewRat(want[x][y], 1)) != 0 {
					t.Fatalf("trial %d: Count(schulze, default %s).Pairwise[%s][%s] = %s, want %d",
						trial, in.Params.DefaultOption, in.Options[x].Key, in.Options[y].Key, got, want[x][y])
				}
			}
		}
	}
}
