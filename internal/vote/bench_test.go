// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// benchBallots is the size of the benchmark election of docs/BENCHMARKS.md.
const (
	benchBallots    = 1_000_000
	benchCandidates = 10
)

// randomBallots makes n ranked ballots over c candidates, deterministic for
// a seed: each ballot ranks a uniform number 1..c of candidates drawn
// without replacement with popularity 1..c (Plackett-Luce), so that counts
// have leaders, transfers and exclusions like a real election. Rankings are
// slices of one backing array, as the PrefLib reader makes them.
func randomBallots(seed uint64, n, c int) []Ballot {
	rng := rand.New(rand.NewPCG(seed, 0x0c00b))
	ballots := make([]Ballot, n)
	arena := make(Ranking, 0, n*(c+1)/2+c)
	pop := make([]int, c)
	for i := range ballots {
		for j := range pop {
			pop[j] = j + 1
		}
		total := c * (c + 1) / 2
		l := 1 + rng.IntN(c)
		start := len(arena)
		for range l {
			x := rng.IntN(total)
			j := 0
			for x >= pop[j] {
				x -= pop[j]
				j++
			}
			arena = append(arena, int32(j))
			total -= pop[j]
			pop[j] = 0
		}
		ballots[i] = Ballot{Weight: 1, Ranking: arena[start:len(arena):len(arena)]}
	}
	return ballots
}

var (
	benchOnce  sync.Once
	benchInput *Input
)

func benchElection(b *testing.B, m Method, p Params) *Input {
	b.Helper()
	benchOnce.Do(func() {
		opts := make([]Option, benchCandidates)
		for i := range opts {
			opts[i] = Option{Key: string(rune('A' + i)), Label: string(rune('A' + i))}
		}
		benchInput = &Input{Options: opts, Classes: []Class{{Key: "all", Weight: 100}}, Weighting: Equal,
			Ballots: randomBallots(1, benchBallots, benchCandidates)}
	})
	in := *benchInput
	in.Method, in.Params = m, p
	return &in
}

func benchCount(b *testing.B, m Method, p Params) {
	in := benchElection(b, m, p)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Count(in)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Winners) == 0 {
			b.Fatal("no winner")
		}
	}
}

func BenchmarkSchulze(b *testing.B)  { benchCount(b, Schulze, Params{}) }
func BenchmarkIRV(b *testing.B)      { benchCount(b, IRV, Params{}) }
func BenchmarkBorda(b *testing.B)    { benchCount(b, Borda, Params{}) }
func BenchmarkScottish(b *testing.B) { benchCount(b, STV, Params{Seats: 3, Rules: "scottish"}) }
func BenchmarkMeek(b *testing.B)     { benchCount(b, STV, Params{Seats: 3, Rules: "meek"}) }
