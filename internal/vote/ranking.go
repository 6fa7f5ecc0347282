// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
)

// Ranking is a ranked ballot, best first, stored flat so that a million
// ballots stay small (4 bytes per ranked option, one allocation or none when
// a reader slices many rankings out of one backing array).
//
// Entry i >= 0 starts a new preference level with option i; an entry stored
// as ^i (that is -i-1) ranks option i level with the entry before it. So
// A > B = C > D over options 0..3 is Ranking{0, 1, ^2, 3}. Use [RankingOf]
// to build one from groups and [Ranking.Groups] to read it back.
type Ranking []int32

// RankingOf builds a Ranking from groups of option indexes, best first; a
// group of more than one option ranks them level. Empty groups are skipped.
func RankingOf(groups [][]int) Ranking {
	n := 0
	for _, g := range groups {
		n += len(g)
	}
	r := make(Ranking, 0, n)
	for _, g := range groups {
		for j, o := range g {
			if j == 0 {
				r = append(r, int32(o))
			} else {
				r = append(r, ^int32(o))
			}
		}
	}
	return r
}

// Strict builds the Ranking of options in strict order, best first.
func Strict(options ...int) Ranking {
	r := make(Ranking, len(options))
	for i, o := range options {
		r[i] = int32(o)
	}
	return r
}

// Groups returns the ranking as groups of option indexes, best first.
func (r Ranking) Groups() [][]int {
	var gs [][]int
	for _, e := range r {
		if e >= 0 || len(gs) == 0 {
			gs = append(gs, []int{int(opt(e))})
		} else {
			gs[len(gs)-1] = append(gs[len(gs)-1], int(opt(e)))
		}
	}
	return gs
}

// UnrankedLast returns r completed with the options 0..n-1 it leaves out,
// as one level group below all it ranks (r itself when it ranks every
// option). It maps ballot files that follow Debian's and PrefLib's
// convention — unranked means below every ranked option — onto a Schulze
// count with a default option, where a left-out option would otherwise rank
// level with the default (see countSchulze).
func (r Ranking) UnrankedLast(n int) Ranking {
	if len(r) >= n {
		return r
	}
	ranked := make([]bool, n)
	for _, e := range r {
		if o := opt(e); o >= 0 && int(o) < n {
			ranked[o] = true
		}
	}
	out := make(Ranking, len(r), n)
	copy(out, r)
	first := true
	for o, ok := range ranked {
		if ok {
			continue
		}
		e := int32(o)
		if !first {
			e = ^e
		}
		first = false
		out = append(out, e)
	}
	return out
}

// LevelWithDefault returns r with the options 0..n-1 it leaves out added
// to the group of option def, if r ranks def, and r itself otherwise. It
// is how a Schulze count with a default option reads a ballot (see
// countSchulze), spelled out for ballot files, whose readers put left-out
// options below everything (UnrankedLast).
func (r Ranking) LevelWithDefault(def, n int) Ranking {
	groups := r.Groups()
	ranked := make([]bool, n)
	at := -1
	for g, group := range groups {
		for _, o := range group {
			if o < n {
				ranked[o] = true
			}
			if o == def {
				at = g
			}
		}
	}
	if at < 0 {
		return r
	}
	for o, ok := range ranked {
		if !ok {
			groups[at] = append(groups[at], o)
		}
	}
	return RankingOf(groups)
}

// Len returns the number of options ranked.
func (r Ranking) Len() int { return len(r) }

// opt decodes one entry of a Ranking.
func opt(e int32) int32 {
	if e < 0 {
		return ^e
	}
	return e
}

// groupEnd returns the index just past the level group starting at pos.
func (r Ranking) groupEnd(pos int) int {
	end := pos + 1
	for end < len(r) && r[end] < 0 {
		end++
	}
	return end
}

// next finds the ballot's next preference from position pos on, among the
// options for which live reports true. It applies the overvote rule of
// RULES.md 2.2 (checked against the official Burlington 2006 count): a group
// with no live option is skipped, a group with exactly one counts for it, a
// group with two or more live options exhausts the ballot. It returns the
// option and the position of its group, or -1 and len(r) when the ballot is
// exhausted.
func (r Ranking) next(pos int, live []bool) (int, int) {
	for pos < len(r) {
		end := r.groupEnd(pos)
		found := -1
		for i := pos; i < end; i++ {
			o := int(opt(r[i]))
			if live[o] {
				if found >= 0 {
					return -1, len(r) // overvote among live options
				}
				found = o
			}
		}
		if found >= 0 {
			return found, pos
		}
		pos = end
	}
	return -1, len(r)
}

// rankedBase is what every ranked count starts from: validated ballots and
// the per-class participation counts.
type rankedBase struct {
	t  *tallies
	cw classWeights
	// first holds each ballot's first preference at the start of the count
	// (-1 for a blank or overvoted first rank).
	first []int32
}

// prepareRanked checks every ranking (indexes in range, no option twice)
// and counts ballots and valid ballots per class. A ballot is valid when it
// ranks at least one option; its first preference is recorded in t.counts.
// It runs in O(total ranked entries).
func prepareRanked(in *Input) (*rankedBase, error) {
	n := len(in.Options)
	t := newTallies(len(in.Classes), n)
	seen := make([]int32, n) // generation stamps: no clearing per ballot
	first := make([]int32, len(in.Ballots))
	live := make([]bool, n)
	for o := range live {
		live[o] = true
	}
	for i := range in.Ballots {
		b := &in.Ballots[i]
		gen := int32(i + 1)
		for j, e := range b.Ranking {
			o := opt(e)
			if o < 0 || int(o) >= n {
				return nil, fmt.Errorf("%w %d: option %d", ErrBallot, i, o)
			}
			if j == 0 && e < 0 {
				return nil, fmt.Errorf("%w %d: ranking starts with a level marker", ErrBallot, i)
			}
			if seen[o] == gen {
				return nil, fmt.Errorf("%w %d: option %d ranked twice", ErrBallot, i, o)
			}
			seen[o] = gen
		}
		t.ballots[b.Class] += b.Weight
		t.voters++
		first[i] = -1
		if len(b.Ranking) == 0 {
			continue
		}
		t.valid[b.Class] += b.Weight
		if c, _ := b.Ranking.next(0, live); c >= 0 {
			first[i] = int32(c)
			t.add(b, c, b.Weight)
		}
	}
	return &rankedBase{t: t, cw: weigh(in, t.valid), first: first}, nil
}

// classCounts is a per-class integer count of every option (and, at index
// len(options), of exhausted ballots), turned into exact totals with the
// class factors. It keeps counting in int64 additions.
type classCounts [][]int64

func newClassCounts(classes, n int) classCounts {
	c := make(classCounts, classes)
	for k := range c {
		c[k] = make([]int64, n+1)
	}
	return c
}

// total returns the exact weighted total of column o.
func (c classCounts) total(cw classWeights, o int) *big.Rat {
	return cw.total(column(c, o))
}

// countRanked counts the ranked methods and STAR.
func countRanked(in *Input) (*Result, error) {
	switch in.Method {
	case STAR:
		return countSTAR(in)
	case Borda:
		return countBorda(in)
	case IRV:
		return countIRV(in)
	case STV:
		switch in.Params.Rules {
		case "", "scottish":
			return countScottish(in)
		case "meek":
			return countMeek(in)
		}
		return nil, fmt.Errorf("%w: stv rules %q (want scottish or meek)", ErrInput, in.Params.Rules)
	case Schulze:
		return countSchulze(in)
	}
	return nil, fmt.Errorf("%w %q", ErrMethod, in.Method)
}

// startRanked reads the rankings and sets up the result with the classes,
// participation and first preferences: the common start of the ranked
// methods.
func startRanked(in *Input) (*rankedBase, *Result, error) {
	base, err := prepareRanked(in)
	if err != nil {
		return nil, nil, err
	}
	r := newResult(in, base.t)
	fill(r, in, base.t, base.cw)
	return base, r, nil
}

// numMap turns per-option exact totals into a map by option key, leaving
// out options for which skip reports true.
func numMap(in *Input, vals []*big.Rat, skip func(int) bool) map[string]Num {
	m := make(map[string]Num, len(vals))
	for o, v := range vals {
		if skip != nil && skip(o) {
			continue
		}
		m[in.Options[o].Key] = NumRat(v)
	}
	return m
}

func keys(in *Input, opts []int) []string {
	s := make([]string, len(opts))
	for i, o := range opts {
		s[i] = in.Options[o].Key
	}
	return s
}

// pickTie chooses among tied options by the stages recorded in hist, from
// the most recent backwards: at the latest stage where the tied options'
// values differ, the one with the lowest (lowest = true) or highest value is
// chosen, the others dropped from the tie, until one is left; the rest is
// left to [Lot], whose first key wins (so with lowest set, the last key
// drawn is chosen). It returns the option and, when the lot decided, the
// options the lot was drawn between. cmp(stage, a, b) compares the values of
// a and b at a stage.
func pickTie(in *Input, tied []int, stages int, cmp func(stage, a, b int) int, lowest bool) (int, []int) {
	for s := stages - 1; s >= 0 && len(tied) > 1; s-- {
		best := []int{tied[0]}
		for _, o := range tied[1:] {
			c := cmp(s, o, best[0])
			if !lowest {
				c = -c
			}
			switch {
			case c < 0:
				best = []int{o}
			case c == 0:
				best = append(best, o)
			}
		}
		tied = best
	}
	if len(tied) == 1 {
		return tied[0], nil
	}
	// The lot's first key wins: it is kept when we look for the lowest.
	drawn := Lot(in.Params.Seed, keys(in, tied))
	w := drawn[0]
	if lowest {
		w = drawn[len(drawn)-1]
	}
	for _, o := range tied {
		if in.Options[o].Key == w {
			return o, tied
		}
	}
	panic("vote: lot returned an unknown key")
}
