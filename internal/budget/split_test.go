// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"math/rand/v2"
	"slices"
	"testing"

	"opencoop/internal/money"
)

// TestSplitMatchesMoney holds split to money.Split's results, tie order
// included, and both to summing exactly.
func TestSplitMatchesMoney(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 3000 {
		n := 1 + rng.IntN(40)
		weights := make([]int64, n)
		for j := range weights {
			switch rng.IntN(4) {
			case 0: // zero weights, which never get a leftover unit
			case 1:
				weights[j] = 1 // many ties
			default:
				weights[j] = rng.Int64N(1000)
			}
		}
		weights[rng.IntN(n)]++
		total := rng.Int64N(100000)
		if i%10 == 0 {
			total = rng.Int64N(money.MaxAmount)
		}
		want, err := money.Split(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		got, err := split(total, weights)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("split(%d, %v) = %v, money.Split = %v", total, weights, got, want)
		}
		var sum int64
		for _, s := range got {
			sum += s
		}
		if sum != total {
			t.Fatalf("split(%d, %v) sums to %d", total, weights, sum)
		}
	}
	for _, bad := range [][]int64{{}, {0, 0}, {1, -1}} {
		if _, err := split(10, bad); err == nil {
			t.Errorf("split(10, %v) = nil error", bad)
		}
	}
	if _, err := split(-1, []int64{1}); err == nil {
		t.Errorf("split(-1) = nil error")
	}
}

func BenchmarkSplit100k(b *testing.B) {
	weights := make([]int64, 100_000)
	for i := range weights {
		weights[i] = int64(1 + i%977)
	}
	for b.Loop() {
		if _, err := split(123_456_789, weights); err != nil {
			b.Fatal(err)
		}
	}
}
