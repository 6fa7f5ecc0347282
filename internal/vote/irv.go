// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"math/big"
	"slices"
)

// pile tracks where every ballot of a transfer-based count (IRV, Scottish
// STV) currently sits: the option it counts for (-1 once exhausted), the
// position of that option's level group in its ranking, and per option the
// ballots it holds. Ballots move forward only: once exhausted a ballot stays
// exhausted, which is how the overvote rule reproduces official US counts.
type pile struct {
	at    []int32
	pos   []int32
	piles [][]int32
}

func newPile(in *Input, first []int32) *pile {
	p := &pile{
		at:    slices.Clone(first),
		pos:   make([]int32, len(first)),
		piles: make([][]int32, len(in.Options)),
	}
	per := make([]int, len(in.Options))
	for _, c := range first {
		if c >= 0 {
			per[c]++
		}
	}
	for o := range p.piles {
		p.piles[o] = make([]int32, 0, per[o])
	}
	for i, c := range first {
		if c >= 0 {
			p.piles[c] = append(p.piles[c], int32(i))
		}
	}
	return p
}

// move sends ballot i on to its next live preference and returns it (-1 when
// the ballot is exhausted).
func (p *pile) move(in *Input, i int32, live []bool) int {
	r := in.Ballots[i].Ranking
	c, pos := r.next(int(p.pos[i]), live)
	p.at[i] = int32(c)
	p.pos[i] = int32(pos)
	if c >= 0 {
		p.piles[c] = append(p.piles[c], i)
	}
	return c
}

// countIRV counts instant runoff (RULES.md 2.2). Each round a candidate with
// more than half of the continuing (not exhausted) weight wins; otherwise
// the trailing candidates are excluded and their ballots move to their next
// continuing preference. Exclusion is by batch: the largest set of lowest
// candidates whose combined weight is below the next candidate's weight
// goes at once (this cannot change the winner of strict ballots, and it is
// the rule that reproduces the official Burlington 2006 count with its
// overvotes); when the lowest are tied, the one with fewer votes in the
// latest earlier round where they differed goes, then [Lot] decides.
//
// Time: O(E + R·C·K) where E is the total number of ranked entries (every
// ballot's ranking is scanned forward at most once over the whole count), R
// the rounds (at most C), C the candidates and K the classes. Memory:
// O(B + C·K) beyond the ballots.
func countIRV(in *Input) (*Result, error) {
	base, r, err := startRanked(in)
	if err != nil {
		return nil, err
	}
	r.Rule = "instant runoff: more than half of the continuing ballots wins; " +
		"trailing candidates excluded together while their sum is below the next; " +
		"level options among the continuing ones exhaust the ballot"
	if r.missedQuorum() {
		return r, nil
	}
	n := len(in.Options)
	cw := base.cw
	counts := newClassCounts(len(in.Classes), n)
	for i := range in.Ballots {
		b := &in.Ballots[i]
		if c := base.first[i]; c >= 0 {
			counts[b.Class][c] += b.Weight
		} else if len(b.Ranking) > 0 {
			counts[b.Class][n] += b.Weight
		}
	}
	p := newPile(in, base.first)
	live := make([]bool, n)
	for o := range live {
		live[o] = true
	}
	var hist [][]*big.Rat
	for round := 1; ; round++ {
		totals := make([]*big.Rat, n)
		sum := new(big.Rat)
		var alive []int
		for o := range n {
			if !live[o] {
				continue
			}
			totals[o] = counts.total(cw, o)
			sum.Add(sum, totals[o])
			alive = append(alive, o)
		}
		hist = append(hist, totals)
		ex := NumRat(counts.total(cw, n))
		rd := Round{Number: round, Counts: numMap(in, totals, func(o int) bool { return !live[o] }), Exhausted: &ex}
		if sum.Sign() == 0 {
			r.Rounds = append(r.Rounds, rd)
			r.Outcome = NoVotes
			return r, nil
		}
		slices.SortStableFunc(alive, func(a, b int) int { return totals[a].Cmp(totals[b]) })
		top := alive[len(alive)-1]
		half := new(big.Rat).Mul(totals[top], big.NewRat(2, 1))
		if len(alive) == 1 || half.Cmp(sum) > 0 {
			// A candidate tied for the top cannot hold more than half.
			rd.Elected = []string{in.Options[top].Key}
			r.Rounds = append(r.Rounds, rd)
			r.Winners = []string{in.Options[top].Key}
			r.Outcome = Decided
			return r, nil
		}
		// Batch: the largest k with sum(lowest k) < (k+1)-th lowest.
		k := 0
		acc := new(big.Rat)
		for j := 0; j < len(alive)-1; j++ {
			acc.Add(acc, totals[alive[j]])
			if acc.Cmp(totals[alive[j+1]]) < 0 {
				k = j + 1
			}
		}
		var out []int
		if k > 0 {
			out = slices.Clone(alive[:k])
		} else {
			var tied []int
			for _, o := range alive {
				if totals[o].Cmp(totals[alive[0]]) == 0 {
					tied = append(tied, o)
				}
			}
			loser, lot := pickTie(in, tied, len(hist)-1, func(s, a, b int) int {
				return hist[s][a].Cmp(hist[s][b])
			}, true)
			if lot != nil {
				r.TieBroken = keys(in, lot)
			}
			out = []int{loser}
		}
		rd.Excluded = keys(in, out)
		r.Rounds = append(r.Rounds, rd)
		for _, e := range out {
			live[e] = false
		}
		for _, e := range out {
			for _, i := range p.piles[e] {
				b := &in.Ballots[i]
				counts[b.Class][e] -= b.Weight
				if c := p.move(in, i, live); c >= 0 {
					counts[b.Class][c] += b.Weight
				} else {
					counts[b.Class][n] += b.Weight
				}
			}
			p.piles[e] = nil
		}
	}
}
