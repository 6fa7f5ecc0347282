// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestResolve(t *testing.T) {
	const (
		N = NoDelegation
		B = Blocked
	)
	cases := []struct {
		name   string
		next   []int32
		direct []bool
		want   []int32
	}{
		{"chain through three people", []int32{1, 2, 3, N}, []bool{false, false, false, true}, []int32{3, 3, 3, 3}},
		{"cycle", []int32{1, 2, 0, N}, []bool{false, false, false, true}, []int32{Cycle, Cycle, Cycle, 3}},
		{"into a cycle", []int32{1, 2, 1}, []bool{false, false, false}, []int32{Cycle, Cycle, Cycle}},
		{"dead end", []int32{1, N}, []bool{false, false}, []int32{N, N}},
		{"blocked", []int32{1, B, N}, []bool{false, false, true}, []int32{B, B, 2}},
		{"leaves the electorate", []int32{1, 7}, []bool{false, false}, []int32{Outside, Outside}},
		{"trustee who voted directly stops the chain", []int32{1, 2, N}, []bool{false, true, true}, []int32{1, 1, 2}},
		{"direct ballot overrides own delegation", []int32{1, N}, []bool{true, true}, []int32{0, 1}},
		{"self delegation", []int32{0}, []bool{false}, []int32{Cycle}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Resolve(tc.next, tc.direct); !slices.Equal(got, tc.want) {
				t.Errorf("Resolve(%v, %v) = %v, want %v", tc.next, tc.direct, got, tc.want)
			}
		})
	}
}

// TestResolveLongChain: 100,000 members in one chain, which a recursive
// resolver (LiquidFeedback's fails near 550 hops) cannot follow.
func TestResolveLongChain(t *testing.T) {
	const n = 100_000
	next := make([]int32, n)
	direct := make([]bool, n)
	for i := range next {
		next[i] = int32(i + 1)
	}
	next[n-1], direct[n-1] = NoDelegation, true
	got := Resolve(next, direct)
	for i, g := range got {
		if g != n-1 {
			t.Fatalf("member %d resolves to %d, want %d", i, g, n-1)
		}
	}
	if c := Chain(next, direct, 0); len(c) != n-1 || c[len(c)-1] != n-1 {
		t.Errorf("Chain(0) has %d hops ending at %d", len(c), c[len(c)-1])
	}
}

// TestResolveMatchesNaive compares Resolve with a plain walk on random
// graphs, including cycles and blocks.
func TestResolveMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		n := 1 + r.IntN(30)
		next := make([]int32, n)
		direct := make([]bool, n)
		for i := range n {
			direct[i] = r.IntN(4) == 0
			switch k := r.IntN(10); {
			case k == 0:
				next[i] = Blocked
			case k == 1:
				next[i] = NoDelegation
			case k == 2:
				next[i] = int32(n + 3)
			default:
				next[i] = int32(r.IntN(n))
			}
		}
		got := Resolve(next, direct)
		for i := range n {
			want := naive(next, direct, int32(i))
			if got[i] != want {
				t.Fatalf("Resolve(%v, %v)[%d] = %d, want %d", next, direct, i, got[i], want)
			}
		}
	}
}

func naive(next []int32, direct []bool, m int32) int32 {
	for steps := 0; steps <= len(next); steps++ {
		if direct[m] {
			return m
		}
		nx := next[m]
		if nx < 0 {
			return nx
		}
		if int(nx) >= len(next) {
			return Outside
		}
		m = nx
	}
	return Cycle
}

func BenchmarkResolve1M(b *testing.B) {
	const n = 1_000_000
	r := rand.New(rand.NewPCG(3, 4))
	next := make([]int32, n)
	direct := make([]bool, n)
	for i := range n {
		switch {
		case r.IntN(10) < 3: // 30% delegate, mostly to someone near, so chains stay short
			next[i] = int32(min(n-1, i+1+r.IntN(10)))
		default:
			next[i], direct[i] = NoDelegation, r.IntN(2) == 0
		}
	}
	for b.Loop() {
		Resolve(next, direct)
	}
}
