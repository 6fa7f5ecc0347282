// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

// Where a member's vote goes when [Resolve] finds no direct voter.
const (
	// NoDelegation: she neither voted nor delegated (or her chain reached
	// someone who did neither).
	NoDelegation = -1
	// Blocked: a delegation "to nobody" stopped the chain (RULES.md 2.4).
	Blocked = -2
	// Outside: the chain left the frozen electorate.
	Outside = -3
	// Cycle: the chain came back on itself.
	Cycle = -4
)

// Resolve follows liquid delegation chains (RULES.md 2.4). Member i of the
// electorate voted directly if direct[i]; otherwise next[i] is the member
// her most specific delegation points to, or one of NoDelegation, Blocked
// or Outside. The caller picks that delegation (proposal over topic over
// co-op); a direct ballot always overrides delegating.
//
// Resolve returns, for every member, the index of the direct voter whose
// ballot content counts for her — herself if she voted — or the reason
// none does (a negative constant). Each member keeps her own class and
// weight; only the content travels.
//
// It runs in O(n) time and memory: every member is walked once, with an
// explicit stack instead of recursion, so a chain of any length is fine.
func Resolve(next []int32, direct []bool) []int32 {
	const (
		unseen   = -10
		visiting = -11
	)
	n := len(next)
	out := make([]int32, n)
	for i := range out {
		out[i] = unseen
	}
	var path []int32
	for start := range n {
		if out[start] != unseen {
			continue
		}
		path = path[:0]
		m := int32(start)
		var final int32
		for {
			if o := out[m]; o != unseen {
				if o == visiting {
					final = Cycle
				} else {
					final = o
				}
				break
			}
			if direct[m] {
				out[m] = m
				final = m
				break
			}
			out[m] = visiting
			path = append(path, m)
			nx := next[m]
			if nx < 0 {
				final = nx
				break
			}
			if int(nx) >= n {
				final = Outside
				break
			}
			m = nx
		}
		for _, p := range path {
			out[p] = final
		}
	}
	return out
}

// Chain returns the members a delegated vote passes through, from i to the
// direct voter, for "your vote goes to X via Y"; it stops at a repeat or
// after the member count, so it is safe on cycles. O(chain length).
func Chain(next []int32, direct []bool, i int32) []int32 {
	var chain []int32
	seen := map[int32]bool{}
	for m := i; m >= 0 && int(m) < len(next) && !seen[m]; {
		seen[m] = true
		if m != i {
			chain = append(chain, m)
		}
		if direct[m] {
			break
		}
		m = next[m]
	}
	return chain
}
