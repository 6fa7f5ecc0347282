// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package money holds amounts as int64 minor units of a unit (a currency
// code such as EUR, or a unit such as HOURS) and divides them exactly:
// every split sums to what was split (DESIGN.md, RULES.md 3). It is pure:
// no I/O, no floats.
package money

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
)

// MaxAmount bounds every amount, so that sums of many amounts and the
// products inside a split cannot overflow: 2^53, about 9·10^15 minor units.
const MaxAmount = 1 << 53

// Errors of this package.
var (
	ErrAmount = errors.New("money: amount out of range")
	ErrSplit  = errors.New("money: bad split")
)

var unitRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{2,9}$`)

// ValidUnit reports whether u is a unit code: an ISO 4217 currency code
// such as EUR, or an upper-case unit such as HOURS (3 to 10 characters).
func ValidUnit(u string) bool { return unitRE.MatchString(u) }

// CheckAmount reports whether a is a positive amount within MaxAmount.
func CheckAmount(a int64) error {
	if a <= 0 || a > MaxAmount {
		return fmt.Errorf("%w: %d (give 1 to %d minor units)", ErrAmount, a, int64(MaxAmount))
	}
	return nil
}

// Split divides total (≥ 0) among weights (each ≥ 0, summing to more than
// 0) by the largest-remainder method: everyone gets floor(total·w/W), and
// the units left over go one each to the largest remainders, earlier
// entries first on equal remainders. The shares sum to total exactly.
func Split(total int64, weights []int64) ([]int64, error) {
	if total < 0 || total > MaxAmount {
		return nil, fmt.Errorf("%w: total %d", ErrSplit, total)
	}
	var sum uint64
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("%w: weight %d is %d", ErrSplit, i, w)
		}
		var carry uint64
		sum, carry = bits.Add64(sum, uint64(w), 0)
		if carry != 0 || sum > 1<<62 {
			return nil, fmt.Errorf("%w: weights too large", ErrSplit)
		}
	}
	if sum == 0 {
		return nil, fmt.Errorf("%w: weights sum to 0", ErrSplit)
	}
	shares := make([]int64, len(weights))
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // hi < sum since total·w/sum ≤ total
		shares[i], rems[i] = int64(q), r
		given += int64(q)
	}
	left := total - given // < the number of positive weights
	if left == 0 {
		return shares, nil
	}
	// The leftover units go to the largest remainders, earlier entries
	// first on a tie: one sort, O(n log n), however many units are left.
	order := make([]int32, 0, len(weights))
	for i, w := range weights {
		if w > 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(rems[b], rems[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, i := range order[:left] {
		shares[i]++
	}
	return shares, nil
}

// MulDivHalfEven returns a·num/den rounded half to even (banker's
// rounding), for rates such as a marketplace fee (RULES.md 3.2). a, num ≥
// 0, den > 0, and a·num must fit in 127 bits.
func MulDivHalfEven(a, num, den int64) (int64, error) {
	if a < 0 || num < 0 || den <= 0 {
		return 0, fmt.Errorf("%w: %d·%d/%d", ErrSplit, a, num, den)
	}
	hi, lo := bits.Mul64(uint64(a), uint64(num))
	if hi >= uint64(den) {
		return 0, fmt.Errorf("%w: %d·%d/%d overflows", ErrAmount, a, num, den)
	}
	q, r := bits.Div64(hi, lo, uint64(den))
	switch twice := 2 * r; {
	case twice > uint64(den), twice == uint64(den) && q%2 == 1:
		q++
	}
	if q > MaxAmount {
		return 0, fmt.Errorf("%w: %d", ErrAmount, q)
	}
	return int64(q), nil
}
