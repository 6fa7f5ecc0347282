// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"fmt"
	"strconv"
	"strings"

	"opencoop/internal/vote"
)

// ParsePass reads a pass rule as members write it (RULES.md 2.5):
// "majority" or "ordinary" (yes > 1/2 of cast), "special" or
// "three_quarters" (yes ≥ 3/4), "two_thirds" (≥ 2/3), "unanimous", or a
// fraction with an optional "more than" sign and base: "2/3", ">1/2",
// ">1/2 of electorate". Empty means "majority".
func ParsePass(s string) (vote.PassRule, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	of := "cast"
	if rest, ok := strings.CutSuffix(s, " of electorate"); ok {
		s, of = strings.TrimSpace(rest), "electorate"
	} else if rest, ok := strings.CutSuffix(s, " of cast"); ok {
		s = strings.TrimSpace(rest)
	}
	var p vote.PassRule
	switch s {
	case "", "majority", "ordinary":
		p = vote.Ordinary
	case "special", "three_quarters":
		p = vote.Special
	case "two_thirds":
		p = vote.PassRule{Num: 2, Den: 3}
	case "unanimous":
		p = vote.PassRule{Num: 1, Den: 1}
	default:
		strict := false
		if rest, ok := strings.CutPrefix(s, ">="); ok {
			s = rest
		} else if rest, ok := strings.CutPrefix(s, ">"); ok {
			s, strict = rest, true
		}
		a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
		num, err1 := strconv.ParseInt(a, 10, 64)
		den, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err1 != nil || err2 != nil || num <= 0 || den <= 0 || num > den || den > 1000 {
			return p, fmt.Errorf("use majority, two_thirds, three_quarters, unanimous or a fraction such as >1/2 or 2/3 (optionally \"of electorate\")")
		}
		p = vote.PassRule{Num: num, Den: den, Strict: strict}
	}
	p.Of = of
	return p, nil
}
