// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"fmt"
	"math/bits"

	"opencoop/internal/money"
)

// Allotment rules for an oversubscribed offer (RULES.md 3.4).
const (
	// FCFS allots in the order applications were made: each in turn gets
	// all it asked for, or what is left.
	FCFS = "fcfs"
	// ProRata allots in proportion to the shares applied for, in whole
	// shares by largest remainder, keeping every kept application at the
	// per-member minimum at least.
	ProRata = "pro_rata"
	// CapLargest lowers the largest applications to one common cap until
	// the total fits.
	CapLargest = "cap_largest"
)

// Rules lists the allotment rules in the order forms offer them.
var Rules = []string{FCFS, ProRata, CapLargest}

// Allot divides limit shares (an offer's maximum) among applications
// that asked for applied[i] shares each, listed in the order they were
// made (earliest first: that order breaks every tie), each at least
// memberMin (≥ 1). It returns the
// shares each gets: all of them when the total applied is at most limit;
// otherwise at most limit in all, whole shares, never more than applied and
// never between 0 and memberMin, by rule:
//
//   - fcfs: in order, each gets min(applied, what is left); once what is
//     left is below memberMin, the rest get nothing.
//   - pro_rata: each gets limit · applied / total applied, floored,
//     the leftover shares one each to the largest remainders. An
//     application whose share would fall below memberMin is raised to
//     memberMin and the others are shared the rest, again in proportion
//     (repeated until none falls below), so the allotments sum to limit.
//   - cap_largest: every application is cut to a common cap C, the
//     largest C with Σ min(applied, C) ≤ limit; the shares left over (fewer
//     than the applications above C) go one each to the applications
//     above the cap, earliest first, so the allotments sum to limit.
//
// When even memberMin each would not fit (n·memberMin > limit), pro_rata
// and cap_largest keep the earliest ⌊limit/memberMin⌋ applications, allot
// among those alone and give the later ones nothing. The total then falls short
// of limit only where no application could take the rest without going
// below memberMin or above what it applied for; it is always more than
// limit − memberMin.
func Allot(rule string, applied []int64, limit, memberMin int64) ([]int64, error) {
	if memberMin < 1 || limit < 0 {
		return nil, fmt.Errorf("shares: allot: memberMin %d, limit %d", memberMin, limit)
	}
	var total int64
	for i, a := range applied {
		if a < memberMin || a > money.MaxAmount {
			return nil, fmt.Errorf("shares: allot: application %d asks for %d shares (minimum %d)", i, a, memberMin)
		}
		total += a
		if total > money.MaxAmount {
			return nil, fmt.Errorf("shares: allot: %d shares applied for in all: too many", total)
		}
	}
	out := make([]int64, len(applied))
	if total <= limit {
		copy(out, applied)
		return out, nil
	}
	switch rule {
	case FCFS:
		left := limit
		for i, a := range applied {
			give := min(a, left)
			if give < memberMin {
				break
			}
			out[i] = give
			left -= give
		}
		return out, nil
	case ProRata, CapLargest:
	default:
		return nil, fmt.Errorf("shares: allot: unknown rule %q", rule)
	}
	// Keep the earliest applications that can all have memberMin.
	kept := applied
	if int64(len(applied)) > limit/memberMin {
		kept = applied[:limit/memberMin]
	}
	var keptTotal int64
	for _, a := range kept {
		keptTotal += a
	}
	if keptTotal <= limit {
		copy(out, kept)
		return out, nil
	}
	var part []int64
	if rule == ProRata {
		part = proRata(kept, limit, memberMin)
	} else {
		part = capLargest(kept, limit)
	}
	copy(out, part)
	return out, nil
}

// proRata shares limit among applied (Σ applied > limit ≥ len·memberMin)
// in proportion, raising those below memberMin to it.
func proRata(applied []int64, limit, memberMin int64) []int64 {
	out := make([]int64, len(applied))
	floored := make([]bool, len(applied))
	budget, weight := limit, int64(0)
	for _, a := range applied {
		weight += a
	}
	for {
		// Raise to memberMin every application whose proportional share
		// budget·a/weight is below it: budget·a < memberMin·weight.
		raised := false
		for i, a := range applied {
			if floored[i] || !less128(budget, a, memberMin, weight) {
				continue
			}
			floored[i], raised = true, true
			out[i] = memberMin
			budget -= memberMin
			weight -= a
		}
		if !raised || weight == 0 {
			break
		}
	}
	if weight == 0 {
		return out
	}
	var idx []int
	var ws []int64
	for i, a := range applied {
		if !floored[i] {
			idx = append(idx, i)
			ws = append(ws, a)
		}
	}
	// money.Split floors each part and gives the leftover units to the
	// largest remainders, earlier entries first on equal ones: here the
	// earlier applications.
	parts, err := money.Split(budget, ws)
	if err != nil {
		panic(err) // unreachable: budget and weights were checked by Allot
	}
	for j, i := range idx {
		out[i] = parts[j]
	}
	return out
}

// less128 reports whether a·b < c·d for non-negative values, without
// overflow.
func less128(a, b, c, d int64) bool {
	h1, l1 := bits.Mul64(uint64(a), uint64(b))
	h2, l2 := bits.Mul64(uint64(c), uint64(d))
	return h1 < h2 || (h1 == h2 && l1 < l2)
}

// capLargest cuts applied (Σ applied > limit) to a common cap.
func capLargest(applied []int64, limit int64) []int64 {
	sumAt := func(c int64) int64 {
		var s int64
		for _, a := range applied {
			s += min(a, c)
		}
		return s
	}
	// The largest cap whose total fits: sumAt(lo) ≤ limit < sumAt(hi).
	lo, hi := int64(0), int64(0)
	for _, a := range applied {
		hi = max(hi, a)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if sumAt(mid) <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	out := make([]int64, len(applied))
	left := limit
	for i, a := range applied {
		out[i] = min(a, lo)
		left -= out[i]
	}
	// Fewer shares are left than applications above the cap, or the cap
	// would be higher: one each, earliest first.
	for i, a := range applied {
		if left == 0 {
			break
		}
		if a > lo {
			out[i]++
			left--
		}
	}
	return out
}
