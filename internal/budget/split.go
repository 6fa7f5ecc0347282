// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"opencoop/internal/money"
)

// split divides total among weights by the largest remainder exactly as
// [money.Split] does — the same floors, the leftover units one each to
// the largest remainders, earlier entries first on equal remainders, so
// the parts sum to total — but hands out the leftover after one sort
// instead of one scan per unit: money.Split's scan is O(parts × leftover),
// which for 100,000 allowances can be 10^10 steps. A test holds the two
// equal.
func split(total int64, weights []int64) ([]int64, error) {
	if total < 0 || total > money.MaxAmount {
		return nil, fmt.Errorf("%w: total %d", money.ErrSplit, total)
	}
	var sum uint64
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("%w: weight %d is %d", money.ErrSplit, i, w)
		}
		var carry uint64
		sum, carry = bits.Add64(sum, uint64(w), 0)
		if carry != 0 || sum > 1<<62 {
			return nil, fmt.Errorf("%w: weights too large", money.ErrSplit)
		}
	}
	if sum == 0 {
		return nil, fmt.Errorf("%w: weights sum to 0", money.ErrSplit)
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
