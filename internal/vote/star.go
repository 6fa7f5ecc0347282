// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
	"slices"
)

// countSTAR counts STAR voting (Score Then Automatic Runoff, RULES.md 2.2):
// scores are summed (0..5 unless Params says otherwise); the two highest
// totals are the finalists; the finalist scored higher than the other on
// more (weighted) ballots wins, equal scores counting as no preference.
// Ties follow the order RULES.md gives from the STAR Voting tie-break
// protocol: in the scoring round between candidates with equal totals the
// one with more top scores goes on, then [Lot]; a tied runoff goes to the
// higher score total, then to more top scores, then to the lot.
//
// The result's first round holds the totals, the second the runoff (no
// preference as exhausted); Extra holds "scores", "five_star",
// "finalists" and "runoff" (with "no_preference").
//
// Time: O(B·C + C log C) for B ballots and C options.
func countSTAR(in *Input) (*Result, error) {
	n := len(in.Options)
	lo, hi := in.Params.ScoreMin, in.Params.ScoreMax
	if lo == 0 && hi == 0 {
		hi = 5
	}
	t := newTallies(len(in.Classes), n)
	five := newClassCounts(len(in.Classes), n)
	for i := range in.Ballots {
		b := &in.Ballots[i]
		t.ballots[b.Class] += b.Weight
		t.voters++
		if b.Scores == nil {
			continue
		}
		if len(b.Scores) != n {
			return nil, fmt.Errorf("%w %d: %d scores for %d options", ErrBallot, i, len(b.Scores), n)
		}
		for o, s := range b.Scores {
			if s < lo || s > hi {
				return nil, fmt.Errorf("%w %d: score %d outside %d..%d", ErrBallot, i, s, lo, hi)
			}
			t.add(b, o, int64(s)*b.Weight)
			if s == hi {
				five[b.Class][o] += b.Weight
			}
		}
		t.valid[b.Class] += b.Weight
	}
	cw := weigh(in, t.valid)
	r := newResult(in, t)
	fill(r, in, t, cw)
	r.Rule = fmt.Sprintf("STAR: scores %d..%d, the two highest totals go to a runoff won by whoever more ballots score higher; "+
		"ties by total, then top scores, then lot", lo, hi)
	if r.missedQuorum() {
		return r, nil
	}
	totals := make([]*big.Rat, n)
	fives := make([]*big.Rat, n)
	for o := range n {
		totals[o] = r.Weighted[in.Options[o].Key].Rat()
		fives[o] = five.total(cw, o)
	}
	r.Rounds = []Round{{Number: 1, Counts: r.Weighted}}
	r.Extra = map[string]any{"scores": r.Weighted, "five_star": numMap(in, fives, nil)}
	var valid int64
	for _, v := range t.valid {
		valid += v
	}
	if valid == 0 {
		r.Outcome = NoVotes
		return r, nil
	}
	// best picks the option ahead by total, then top scores, then lot.
	best := func(among []int) int {
		var tied []int
		for _, o := range among {
			if len(tied) == 0 {
				tied = []int{o}
				continue
			}
			c := totals[o].Cmp(totals[tied[0]])
			if c == 0 {
				c = fives[o].Cmp(fives[tied[0]])
			}
			switch {
			case c > 0:
				tied = []int{o}
			case c == 0:
				tied = append(tied, o)
			}
		}
		if len(tied) == 1 {
			return tied[0]
		}
		r.TieBroken = keys(in, tied)
		w := Lot(in.Params.Seed, r.TieBroken)[0]
		for _, o := range tied {
			if in.Options[o].Key == w {
				return o
			}
		}
		return tied[0]
	}
	// The finalists: the top two by total, then top scores; a lot is only
	// drawn when the tie reaches past second place.
	order := make([]int, n)
	for o := range order {
		order[o] = o
	}
	ahead := func(x, y int) int {
		if c := totals[y].Cmp(totals[x]); c != 0 {
			return c
		}
		return fives[y].Cmp(fives[x])
	}
	slices.SortStableFunc(order, ahead)
	if n == 1 {
		r.Winners = []string{in.Options[order[0]].Key}
		r.Outcome = Decided
		return r, nil
	}
	tiedWith := func(x int, skip int) []int {
		var t []int
		for _, o := range order {
			if o != skip && ahead(o, x) == 0 {
				t = append(t, o)
			}
		}
		return t
	}
	var a, b int
	switch top := tiedWith(order[0], -1); {
	case len(top) == 2:
		a, b = top[0], top[1]
	case len(top) > 2:
		a = best(top)
		b = best(tiedWith(order[0], a))
		r.TieBroken = keys(in, top)
	default:
		a = order[0]
		b = best(tiedWith(order[1], -1))
	}
	run := newClassCounts(len(in.Classes), 2)
	for i := range in.Ballots {
		bl := &in.Ballots[i]
		if bl.Scores == nil {
			continue
		}
		switch sa, sb := bl.Scores[a], bl.Scores[b]; {
		case sa > sb:
			run[bl.Class][0] += bl.Weight
		case sb > sa:
			run[bl.Class][1] += bl.Weight
		default:
			run[bl.Class][2] += bl.Weight
		}
	}
	va, vb, none := run.total(cw, 0), run.total(cw, 1), NumRat(run.total(cw, 2))
	ka, kb := in.Options[a].Key, in.Options[b].Key
	r.Rounds = append(r.Rounds, Round{Number: 2, Counts: map[string]Num{ka: NumRat(va), kb: NumRat(vb)}, Exhausted: &none})
	r.Extra["finalists"] = []string{ka, kb}
	r.Extra["runoff"] = map[string]Num{ka: NumRat(va), kb: NumRat(vb), "no_preference": none}
	w := a
	switch c := va.Cmp(vb); {
	case c < 0:
		w = b
	case c == 0:
		w = best([]int{a, b})
	}
	r.Winners = []string{in.Options[w].Key}
	r.Rounds[1].Elected = r.Winners
	r.Outcome = Decided
	return r, nil
}
