// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
	"math/bits"
)

// Candidate states of an STV count.
const (
	hopeful int8 = iota
	elected
	excluded
)

// mulDiv returns a·b/c rounded down, or up when up is set. The caller
// guarantees the quotient fits in 63 bits (a·b < c·2⁶³).
func mulDiv(a, b, c int64, up bool) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, rem := bits.Div64(hi, lo, uint64(c))
	if up && rem != 0 {
		q++
	}
	return int64(q)
}

// fixedFactors turns the class factors into fixed point with unit 1 =
// scale, truncating: the value each ballot of a class starts with. Under
// equal weighting every factor is exactly scale.
func fixedFactors(cw classWeights, scale int64) []int64 {
	f := make([]int64, len(cw.factor))
	s := big.NewInt(scale)
	for k, r := range cw.factor {
		num := new(big.Int).Mul(r.Num(), s)
		f[k] = num.Quo(num, r.Denom()).Int64()
	}
	return f
}

// checkWeight guards the fixed-point arithmetic of STV against overflow:
// the summed ballot weight times the unit must stay far below 2⁶³.
func checkWeight(in *Input, unit int64) error {
	var sum int64
	limit := int64(1) << 62 / unit / 4
	for i := range in.Ballots {
		sum += in.Ballots[i].Weight
		if sum > limit {
			return fmt.Errorf("%w: total ballot weight above %d, too large for the rule's fixed point", ErrInput, limit)
		}
	}
	return nil
}

// electOrder orders options that reach the quota together: most votes
// first, ties by the latest earlier stage where they differed, then by lot.
// It returns the order and the lots drawn.
func electOrder(in *Input, set []int, cur []int64, stages int, hist func(s, a, b int) int) ([]int, [][]int) {
	rest := append([]int(nil), set...)
	var out []int
	var lots [][]int
	for len(rest) > 0 {
		var tied []int
		for _, o := range rest {
			switch {
			case len(tied) == 0 || cur[o] > cur[tied[0]]:
				tied = []int{o}
			case cur[o] == cur[tied[0]]:
				tied = append(tied, o)
			}
		}
		pick, lot := pickTie(in, tied, stages, hist, false)
		if lot != nil {
			lots = append(lots, lot)
		}
		out = append(out, pick)
		for j, o := range rest {
			if o == pick {
				rest = append(rest[:j], rest[j+1:]...)
				break
			}
		}
	}
	return out, lots
}

// fixedNum returns v/unit as a Num.
func fixedNum(v, unit int64) Num { return NumOf(v, unit) }

// fixedMap returns the fixed-point values of the options for which keep
// reports true, keyed by option key.
func fixedMap(in *Input, vals []int64, unit int64, keep func(int) bool) map[string]Num {
	m := make(map[string]Num, len(vals))
	for o, v := range vals {
		if keep(o) {
			m[in.Options[o].Key] = fixedNum(v, unit)
		}
	}
	return m
}

// int64Hist compares two options at an earlier stage of an int64 history.
func int64Hist(hist [][]int64) func(s, a, b int) int {
	return func(s, a, b int) int {
		x, y := hist[s][a], hist[s][b]
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
}
