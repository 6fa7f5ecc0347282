// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package shares

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAllotByHand holds each rule to cases worked out on paper; every
// comment shows the working.
func TestAllotByHand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rule      string
		applied   []int64
		limit     int64
		memberMin int64
		want      []int64
	}{
		{"fits: everyone gets all", ProRata, []int64{2, 3}, 10, 1, []int64{2, 3}},
		{"exactly the maximum", CapLargest, []int64{4, 6}, 10, 1, []int64{4, 6}},

		// fcfs: 5, then 3, then the 2 left of 10.
		{"fcfs partial last", FCFS, []int64{5, 3, 4}, 10, 1, []int64{5, 3, 2}},
		// 6, then 4 of 5 (4 ≥ minimum 3), nothing left for the third.
		{"fcfs partial at the minimum", FCFS, []int64{6, 5, 4}, 10, 3, []int64{6, 4, 0}},
		// 6, then 2 are left: below the minimum 3, so no one gets them.
		{"fcfs leftover below the minimum", FCFS, []int64{6, 5, 4}, 8, 3, []int64{6, 0, 0}},

		// 30 of 60 applied: exactly half each.
		{"pro_rata exact", ProRata, []int64{10, 20, 30}, 30, 1, []int64{5, 10, 15}},
		// 20·10/30 = 6.67 each: floors 6+6+6 = 18, two left go to the equal
		// remainders, earliest first.
		{"pro_rata ties go to the earliest", ProRata, []int64{10, 10, 10}, 20, 1, []int64{7, 7, 6}},
		// 10·7/15 = 4.67, 10·3/15 = 2, 10·5/15 = 3.33: floors 4+2+3 = 9, the
		// one left to the largest remainder (.67).
		{"pro_rata largest remainder", ProRata, []int64{7, 3, 5}, 10, 1, []int64{5, 2, 3}},
		// 20·2/40 = 1 < minimum 2: raised to 2; the other 18 shared 10:28 →
		// 4.74 and 13.26: floors 4+13 = 17, one left to .74.
		{"pro_rata raises to the minimum", ProRata, []int64{2, 10, 28}, 20, 2, []int64{2, 5, 13}},
		// 40·16/121 = 5.29 ≥ 5 at first, but once the first is raised to 5
		// the rest share 35 in 16:100 → 4.83 < 5: raised too; the last gets 30.
		{"pro_rata raising cascades", ProRata, []int64{5, 16, 100}, 40, 5, []int64{5, 5, 30}},
		// 4·5 = 20 > 12: only ⌊12/5⌋ = 2 can keep the minimum: the earliest
		// two, who fit with 10.
		{"pro_rata minimum kept for the earliest", ProRata, []int64{5, 5, 5, 5}, 12, 5, []int64{5, 5, 0, 0}},
		// The earliest two (8, 6) share 12: 6.86 and 5.14 → 6+5, one left to .86.
		{"pro_rata among the kept", ProRata, []int64{8, 6, 5, 9}, 12, 5, []int64{7, 5, 0, 0}},
		// 1.5 each: the earlier takes the odd share.
		{"pro_rata two equal halves", ProRata, []int64{3, 3}, 3, 1, []int64{2, 1}},

		// Cap 6: 6+4+6+2 = 18 fits; cap 7 gives 20.
		{"cap_largest exact", CapLargest, []int64{10, 4, 8, 2}, 18, 1, []int64{6, 4, 6, 2}},
		// Cap 6 gives 18, one left: to the earliest above the cap (10).
		{"cap_largest leftover to the earliest", CapLargest, []int64{10, 4, 8, 2}, 19, 1, []int64{7, 4, 6, 2}},
		// Cap 3 gives 9 of 10: the one left to the first of three equals.
		{"cap_largest ties", CapLargest, []int64{5, 5, 5}, 10, 1, []int64{4, 3, 3}},
		// 3·3 = 9 > 7: keep the earliest two (4, 10); cap 3 gives 6, one left
		// to the earliest above the cap.
		{"cap_largest minimum kept for the earliest", CapLargest, []int64{4, 10, 10}, 7, 3, []int64{4, 3, 0}},
		// Cap 5 = the minimum: 5+5+5 = 15.
		{"cap_largest down to the minimum", CapLargest, []int64{20, 9, 5}, 15, 5, []int64{5, 5, 5}},
		{"nothing applied", FCFS, nil, 10, 1, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Allot(tc.rule, tc.applied, tc.limit, tc.memberMin)
			if err != nil {
				t.Fatalf("Allot(%s, %v, %d, %d): %v", tc.rule, tc.applied, tc.limit, tc.memberMin, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Allot(%s, %v, %d, %d) = %v, want %v", tc.rule, tc.applied, tc.limit, tc.memberMin, got, tc.want)
			}
		})
	}
}

func TestAllotRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		rule      string
		applied   []int64
		limit     int64
		memberMin int64
	}{
		{ProRata, []int64{1}, 10, 0},
		{ProRata, []int64{1}, -1, 1},
		{ProRata, []int64{1, 2}, 10, 2},
		{"lottery", []int64{5, 5}, 5, 1},
	} {
		if got, err := Allot(tc.rule, tc.applied, tc.limit, tc.memberMin); err == nil {
			t.Errorf("Allot(%s, %v, %d, %d) = %v, want an error", tc.rule, tc.applied, tc.limit, tc.memberMin, got)
		}
	}
}

// TestAllotInvariants checks every rule on random offers: whole shares,
// 0 or between the minimum and what was applied for, never above the
// maximum and short of it by less than the minimum; pro_rata within one
// share of its proportional quota for those not raised; cap_largest cuts
// only to within one share of a common cap; fcfs never serves a later
// application before an earlier one is full.
func TestAllotInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 3000 {
		memberMin := 1 + r.Int64N(5)
		apps := make([]int64, r.IntN(12))
		var total int64
		for i := range apps {
			apps[i] = memberMin + r.Int64N(30)
			total += apps[i]
		}
		limit := r.Int64N(total + 10)
		for _, rule := range Rules {
			got, err := Allot(rule, apps, limit, memberMin)
			if err != nil {
				t.Fatalf("#%d Allot(%s, %v, %d, %d): %v", n, rule, apps, limit, memberMin, err)
			}
			var sum int64
			for i, g := range got {
				if g != 0 && (g < memberMin || g > apps[i]) {
					t.Fatalf("#%d Allot(%s, %v, %d, %d) = %v: part %d out of range", n, rule, apps, limit, memberMin, got, i)
				}
				sum += g
			}
			switch {
			case total <= limit && sum != total:
				t.Fatalf("#%d Allot(%s, %v, %d, %d) = %v: not everything though it fits", n, rule, apps, limit, memberMin, got)
			case total > limit && (sum > limit || sum <= limit-memberMin):
				t.Fatalf("#%d Allot(%s, %v, %d, %d) = %v: sums to %d", n, rule, apps, limit, memberMin, got, sum)
			case total > limit && rule != FCFS && int64(len(apps))*memberMin <= limit && sum != limit:
				t.Fatalf("#%d Allot(%s, %v, %d, %d) = %v: sums to %d, not the maximum", n, rule, apps, limit, memberMin, got, sum)
			}
			if total <= limit {
				continue
			}
			switch rule {
			case FCFS:
				for i := 1; i < len(got); i++ {
					if got[i] > 0 && got[i-1] < apps[i-1] {
						t.Fatalf("#%d fcfs %v → %v: %d served before %d is full", n, apps, got, i, i-1)
					}
				}
			case CapLargest:
				var top int64
				for _, g := range got {
					top = max(top, g)
				}
				for i, g := range got {
					if g > 0 && g < apps[i] && g < top-1 {
						t.Fatalf("#%d cap_largest %v → %v: %d cut below the cap", n, apps, got, i)
					}
				}
			case ProRata:
				if int64(len(apps))*memberMin > limit {
					continue
				}
				// Unraised parts are within one share of limit·a/total scaled
				// down by the raised ones: check the weaker, rule-free bound
				// that a larger application never gets fewer shares.
				for i := range got {
					for j := range got {
						if apps[i] > apps[j] && got[i] < got[j] {
							t.Fatalf("#%d pro_rata %v → %v: %d applied more than %d but got less", n, apps, got, i, j)
						}
					}
				}
			}
		}
	}
}
