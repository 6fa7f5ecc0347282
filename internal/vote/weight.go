// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"crypto/sha256"
	"math/big"
	"slices"
)

// classWeights holds the exact factor every ballot of a class is multiplied
// by (RULES.md 2.3) and the divisor that turns weighted totals into shares.
//
// Under equal weighting every factor is 1 and the divisor is nil: totals are
// plain sums of member weights. Under class weighting class k's factor is
// w_k / n_k, n_k being the weight of valid ballots cast in k, so a class's
// valid ballots together weigh w_k whatever its size; totals are then
// rescaled by 100 / divisor, the divisor being the weight of the classes that
// voted (empty_class: redistribute) or of all classes (empty_class: abstain),
// so they read as percent of control.
type classWeights struct {
	factor  []*big.Rat
	divisor *big.Rat
}

// weigh computes the class factors from the valid weight per class.
func weigh(in *Input, valid []int64) classWeights {
	cw := classWeights{factor: make([]*big.Rat, len(in.Classes))}
	if in.Weighting != Classes {
		for k := range cw.factor {
			cw.factor[k] = big.NewRat(1, 1)
		}
		return cw
	}
	var voting, all int64
	for k, c := range in.Classes {
		all += c.Weight
		if valid[k] > 0 {
			voting += c.Weight
			cw.factor[k] = big.NewRat(c.Weight, valid[k])
		} else {
			cw.factor[k] = new(big.Rat)
		}
	}
	d := voting
	if in.EmptyClass == Abstain {
		d = all
	}
	if d > 0 {
		// Fold the rescaling into the factors so totals come out in percent.
		scale := big.NewRat(100, d)
		for _, f := range cw.factor {
			f.Mul(f, scale)
		}
		cw.divisor = big.NewRat(d, 1)
	}
	return cw
}

// total returns Σ_k factor_k · counts[k] exactly.
func (cw classWeights) total(counts []int64) *big.Rat {
	sum := new(big.Rat)
	var t big.Rat
	for k, c := range counts {
		if c == 0 {
			continue
		}
		t.SetInt64(c)
		t.Mul(&t, cw.factor[k])
		sum.Add(sum, &t)
	}
	return sum
}

// Lot orders keys by the SHA-256 of seed, a zero byte and the key: a draw
// anyone can redo from the published seed. The first key wins a tie.
func Lot(seed string, keys []string) []string {
	type drawn struct {
		key string
		h   [32]byte
	}
	d := make([]drawn, len(keys))
	for i, k := range keys {
		d[i] = drawn{k, sha256.Sum256([]byte(seed + "\x00" + k))}
	}
	slices.SortFunc(d, func(a, b drawn) int {
		for i := range a.h {
			if a.h[i] != b.h[i] {
				return int(a.h[i]) - int(b.h[i])
			}
		}
		return 0
	})
	out := make([]string, len(d))
	for i := range d {
		out[i] = d[i].key
	}
	return out
}

// breakTie returns the winner among tied option keys: itself when alone,
// else the first by [Lot]; it reports whether the lot was used.
func breakTie(seed string, tied []string) (string, bool) {
	if len(tied) == 1 {
		return tied[0], false
	}
	return Lot(seed, tied)[0], true
}
