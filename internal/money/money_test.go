// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package money

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		// RULES.md 3.2, Enspiral: 20% of an invoice to the collective.
		{1000, []int64{8000, 2000}, []int64{800, 200}},
		// 25% of that 200 to the foundation.
		{200, []int64{7500, 2500}, []int64{150, 50}},
		// Remainders: 100 by 1:1:1 → 33.33 each; one unit left, first of the equal remainders.
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		// Largest remainder wins over order: 10 by 3:3:4 → 3, 3, 4 exactly.
		{10, []int64{3, 3, 4}, []int64{3, 3, 4}},
		// 7 by 1:2 → 2.33, 4.67 → 2, 5.
		{7, []int64{1, 2}, []int64{2, 5}},
		// A zero weight gets nothing, even a remainder.
		{5, []int64{0, 1, 1}, []int64{0, 3, 2}},
		{0, []int64{1, 2}, []int64{0, 0}},
	} {
		got, err := Split(tc.total, tc.weights)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Split(%d, %v) = %v, %v; want %v", tc.total, tc.weights, got, err, tc.want)
		}
	}
	for _, bad := range []struct {
		total   int64
		weights []int64
	}{{-1, []int64{1}}, {10, nil}, {10, []int64{0, 0}}, {10, []int64{1, -1}}, {MaxAmount + 1, []int64{1}}} {
		if _, err := Split(bad.total, bad.weights); err == nil {
			t.Errorf("Split(%d, %v) gave no error", bad.total, bad.weights)
		}
	}
}

// TestSplitExact checks random splits against big-integer arithmetic: the
// shares sum to the total and each is within one unit of its exact quota.
func TestSplitExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + rnd.IntN(20)
		w := make([]int64, n)
		var sum int64
		for i := range w {
			w[i] = rnd.Int64N(1 << uint(1+rnd.IntN(40)))
			sum += w[i]
		}
		if sum == 0 {
			continue
		}
		total := rnd.Int64N(MaxAmount)
		got, err := Split(total, w)
		if err != nil {
			t.Fatal(err)
		}
		var s int64
		for i, g := range got {
			s += g
			q := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(total), big.NewInt(w[i])), big.NewInt(sum))
			d := new(big.Rat).Sub(new(big.Rat).SetInt64(g), q)
			if d.Cmp(big.NewRat(-1, 1)) <= 0 || d.Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("share %d of %d by %v is %d, quota %s", i, total, w, g, q.FloatString(3))
			}
		}
		if s != total {
			t.Fatalf("Split(%d, %v) sums to %d", total, w, s)
		}
	}
}

func TestMulDivHalfEven(t *testing.T) {
	for _, tc := range []struct{ a, num, den, want int64 }{
		{1000, 5, 100, 50},
		{25, 1, 10, 2},     // 2.5 → 2 (even)
		{35, 1, 10, 4},     // 3.5 → 4 (even)
		{26, 1, 10, 3},     // 2.6 → 3
		{24, 1, 10, 2},     // 2.4 → 2
		{1999, 3, 100, 60}, // 59.97 → 60
		{0, 7, 9, 0},
	} {
		got, err := MulDivHalfEven(tc.a, tc.num, tc.den)
		if err != nil || got != tc.want {
			t.Errorf("MulDivHalfEven(%d, %d, %d) = %d, %v; want %d", tc.a, tc.num, tc.den, got, err, tc.want)
		}
	}
	if _, err := MulDivHalfEven(1, 1, 0); err == nil {
		t.Error("division by zero gave no error")
	}
}

func TestCheckAmount(t *testing.T) {
	for _, a := range []int64{0, -5, MaxAmount + 1} {
		if CheckAmount(a) == nil {
			t.Errorf("CheckAmount(%d) = nil", a)
		}
	}
	if CheckAmount(1) != nil || CheckAmount(MaxAmount) != nil {
		t.Error("CheckAmount refused a good amount")
	}
	for u, ok := range map[string]bool{"EUR": true, "HOURS": true, "eur": false, "E": false, "EURO-1": false} {
		if ValidUnit(u) != ok {
			t.Errorf("ValidUnit(%q) = %v", u, !ok)
		}
	}
}

// TestSplitMatchesNaive holds Split's sorted hand-out to the plain reading
// of the rule — one leftover unit at a time to the largest remainder left,
// the earlier entry on a tie — on random weights with many ties and zeros.
func TestSplitMatchesNaive(t *testing.T) {
	naive := func(total int64, weights []int64) []int64 {
		var sum int64
		for _, w := range weights {
			sum += w
		}
		shares := make([]int64, len(weights))
		rems := make([]*big.Int, len(weights))
		var given int64
		for i, w := range weights {
			q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(w)), big.NewInt(sum), new(big.Int))
			shares[i], rems[i] = q.Int64(), r
			given += q.Int64()
		}
		for ; given < total; given++ {
			best := -1
			for i, r := range rems {
				if weights[i] > 0 && (best < 0 || r.Cmp(rems[best]) > 0) {
					best = i
				}
			}
			shares[best]++
			rems[best] = big.NewInt(-1)
		}
		return shares
	}
	rnd := rand.New(rand.NewPCG(3, 3))
	for range 3000 {
		n := 1 + rnd.IntN(40)
		w := make([]int64, n)
		for j := range w {
			switch rnd.IntN(4) {
			case 0:
			case 1:
				w[j] = 1
			default:
				w[j] = rnd.Int64N(1000)
			}
		}
		w[rnd.IntN(n)]++
		total := rnd.Int64N(100000)
		got, err := Split(total, w)
		if err != nil {
			t.Fatal(err)
		}
		if want := naive(total, w); !slices.Equal(got, want) {
			t.Fatalf("Split(%d, %v) = %v, the rule gives %v", total, w, got, want)
		}
	}
}
