// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
)

// tallies is the integer part of a count: per class and option, the summed
// member weight, split by direct and delegated ballots. Everything exact is
// derived from it with [classWeights], so counting stays O(ballots) in plain
// integer additions and O(classes × options) in rationals.
type tallies struct {
	counts    [][]int64 // [class][option]
	delegated [][]int64 // [class][option], the delegated part of counts
	ballots   []int64   // per class, every ballot cast (blank included)
	valid     []int64   // per class, n_k
	voters    int64
}

func newTallies(classes, options int) *tallies {
	t := &tallies{
		counts:    make([][]int64, classes),
		delegated: make([][]int64, classes),
		ballots:   make([]int64, classes),
		valid:     make([]int64, classes),
	}
	for k := range t.counts {
		t.counts[k] = make([]int64, options)
		t.delegated[k] = make([]int64, options)
	}
	return t
}

func (t *tallies) add(b *Ballot, option int, amount int64) {
	t.counts[b.Class][option] += amount
	if b.Delegated {
		t.delegated[b.Class][option] += amount
	}
}

// anyDelegated reports whether any delegated ballot counted for an option.
func (t *tallies) anyDelegated() bool {
	for k := range t.delegated {
		for _, v := range t.delegated[k] {
			if v != 0 {
				return true
			}
		}
	}
	return false
}

// column returns the counts of one option across classes.
func column(m [][]int64, option int) []int64 {
	c := make([]int64, len(m))
	for k := range m {
		c[k] = m[k][option]
	}
	return c
}

// countYesNo counts consent and yesno (RULES.md 2.2, 2.3, 2.5). A consent
// ballot's agree counts as yes and disagree and block as no; abstentions
// count toward quorum only.
func countYesNo(in *Input) (*Result, error) {
	opts := in.Options
	idx := optionIndex(opts)
	yes, abst := idx["yes"], idx["abstain"]
	noKeys := []string{"no"}
	if in.Method == Consent {
		yes = idx["agree"]
		noKeys = []string{"disagree", "block"}
	}
	isNo := make([]bool, len(opts))
	for _, k := range noKeys {
		isNo[idx[k]] = true
	}
	t := newTallies(len(in.Classes), len(opts))
	var blocks int64
	for i := range in.Ballots {
		b := &in.Ballots[i]
		if len(b.Choices) > 1 {
			return nil, fmt.Errorf("%w %d: %s takes one choice", ErrBallot, i, in.Method)
		}
		t.ballots[b.Class] += b.Weight
		t.voters++
		if len(b.Choices) == 0 {
			continue
		}
		c := b.Choices[0]
		if c < 0 || c >= len(opts) {
			return nil, fmt.Errorf("%w %d: option %d", ErrBallot, i, c)
		}
		t.add(b, c, b.Weight)
		if c != abst {
			t.valid[b.Class] += b.Weight
		}
		if in.Method == Consent && opts[c].Key == "block" {
			blocks++
		}
	}
	r := newResult(in, t)
	cw := weigh(in, t.valid)
	fill(r, in, t, cw)
	if in.Weighting == Classes {
		// Abstentions are not valid ballots (n_k leaves them out), so they
		// carry no control weight; the class counts still show them.
		delete(r.Weighted, "abstain")
		delete(r.Direct, "abstain")
		delete(r.Delegated, "abstain")
	}

	// Support: weighted yes over the divisor (RULES.md 2.3).
	wyes := r.Weighted[opts[yes].Key].Rat()
	support := new(big.Rat)
	if in.Pass.Of == "electorate" {
		support = electorateShare(in, t, yes)
	} else if in.Weighting == Classes {
		// Weighted totals are percent of control, already divided by the
		// classes that voted (redistribute) or by all (abstain).
		support.Quo(wyes, big.NewRat(100, 1))
	} else {
		cast := new(big.Rat).Set(wyes)
		for o := range opts {
			if isNo[o] {
				cast.Add(cast, r.Weighted[opts[o].Key].Rat())
			}
		}
		if cast.Sign() > 0 {
			support.Quo(wyes, cast)
		}
	}
	s := NumRat(support)
	r.Support = &s

	// Per-class majority, shown always, binding under class_majority.
	allMajor := true
	for k, c := range in.Classes {
		if t.valid[k] == 0 {
			continue
		}
		var no int64
		for o := range opts {
			if isNo[o] {
				no += t.counts[k][o]
			}
		}
		m := t.counts[k][yes] > no
		r.Classes[c.Key].Majority = &m
		allMajor = allMajor && m
	}

	pass := in.Pass
	if pass.Den == 0 {
		pass = Ordinary
	}
	r.Rule = pass.String()
	if in.Weighting == Classes {
		r.Rule += fmt.Sprintf(", class weighting (empty classes %s)", emptyClass(in))
	}
	if in.ClassMajority {
		r.Rule += ", and a majority in every class that voted"
	}
	if in.Method == Consent {
		r.Rule += fmt.Sprintf(", and at most %d block(s)", in.Params.AllowedBlocks)
	}

	switch {
	case !r.Participation.Quorate:
		r.Outcome = NotQuorate
	case in.Method == Consent && blocks > int64(in.Params.AllowedBlocks):
		r.Outcome = Rejected
	case !meets(support, pass):
		r.Outcome = Rejected
	case in.ClassMajority && !allMajor:
		r.Outcome = Rejected
	default:
		r.Outcome = Passed
	}
	switch r.Outcome {
	case Passed:
		r.Winners = []string{opts[yes].Key}
	case Rejected:
		r.Winners = []string{noKeys[0]}
	}
	return r, nil
}

// meets reports whether share satisfies the pass rule's threshold.
func meets(share *big.Rat, p PassRule) bool {
	c := share.Cmp(big.NewRat(p.Num, p.Den))
	if p.Strict && p.Num != p.Den {
		return c > 0
	}
	return c >= 0
}

// electorateShare is the yes share of the frozen electorate: under class
// weighting each class's yes weight over its electorate, weighted by its
// control weight over the classes that have members.
func electorateShare(in *Input, t *tallies, yes int) *big.Rat {
	share := new(big.Rat)
	if in.Electorate == nil {
		return share
	}
	if in.Weighting != Classes {
		var y, e int64
		for k := range in.Classes {
			y += t.counts[k][yes]
			e += in.Electorate[k]
		}
		if e > 0 {
			share.SetFrac64(y, e)
		}
		return share
	}
	var wsum int64
	var term big.Rat
	for k, c := range in.Classes {
		if in.Electorate[k] == 0 {
			continue
		}
		wsum += c.Weight
		term.SetFrac64(c.Weight*t.counts[k][yes], in.Electorate[k])
		share.Add(share, &term)
	}
	if wsum > 0 {
		share.Quo(share, big.NewRat(wsum, 1))
	}
	return share
}

// countTotals counts the methods whose winner has the highest weighted
// total: choice, approval, score, dot and meeting (RULES.md 2.2). Meeting
// totals count yes; ties go to the most maybe, then to the lot.
func countTotals(in *Input) (*Result, error) {
	opts := in.Options
	n := len(opts)
	p := in.Params
	maxChoices := max(p.MaxChoices, 1)
	lo, hi := p.ScoreMin, p.ScoreMax
	if lo == 0 && hi == 0 {
		hi = 5
	}
	t := newTallies(len(in.Classes), n)
	var maybe *tallies
	if in.Method == Meeting {
		maybe = newTallies(len(in.Classes), n)
	}
	seen := make([]bool, n)
	for i := range in.Ballots {
		b := &in.Ballots[i]
		t.ballots[b.Class] += b.Weight
		t.voters++
		valid := false
		switch in.Method {
		case Choice, Approval:
			if in.Method == Choice && len(b.Choices) > maxChoices {
				return nil, fmt.Errorf("%w %d: %d choices, at most %d", ErrBallot, i, len(b.Choices), maxChoices)
			}
			clear(seen)
			for _, c := range b.Choices {
				if c < 0 || c >= n || seen[c] {
					return nil, fmt.Errorf("%w %d: option %d", ErrBallot, i, c)
				}
				seen[c] = true
				t.add(b, c, b.Weight)
			}
			valid = len(b.Choices) > 0
		case Score, Dot, Meeting:
			if b.Scores == nil {
				break
			}
			if len(b.Scores) != n {
				return nil, fmt.Errorf("%w %d: %d scores for %d options", ErrBallot, i, len(b.Scores), n)
			}
			sum := 0
			for o, s := range b.Scores {
				switch in.Method {
				case Score:
					if s < lo || s > hi {
						return nil, fmt.Errorf("%w %d: score %d outside %d..%d", ErrBallot, i, s, lo, hi)
					}
					t.add(b, o, int64(s)*b.Weight)
				case Dot:
					if s < 0 {
						return nil, fmt.Errorf("%w %d: negative points", ErrBallot, i)
					}
					sum += s
					t.add(b, o, int64(s)*b.Weight)
				case Meeting:
					switch s {
					case 2:
						t.add(b, o, b.Weight)
					case 1:
						maybe.add(b, o, b.Weight)
					case 0:
					default:
						return nil, fmt.Errorf("%w %d: slot answer %d is not 0, 1 or 2", ErrBallot, i, s)
					}
				}
			}
			if in.Method == Dot && p.Points > 0 && sum > p.Points {
				return nil, fmt.Errorf("%w %d: %d points, at most %d", ErrBallot, i, sum, p.Points)
			}
			valid = true
		}
		if valid {
			t.valid[b.Class] += b.Weight
		}
	}
	r := newResult(in, t)
	cw := weigh(in, t.valid)
	fill(r, in, t, cw)
	r.Rule = "highest weighted total"
	if in.Method == Meeting {
		r.Rule = "most yes, then most maybe"
		mw := make(map[string]Num, n)
		for o, opt := range opts {
			mw[opt.Key] = NumRat(cw.total(column(maybe.counts, o)))
		}
		r.Extra = map[string]any{"maybe": mw}
	}
	if r.missedQuorum() {
		return r, nil
	}
	var best []string
	var bestYes, bestMaybe *big.Rat
	for o, opt := range opts {
		y := r.Weighted[opt.Key].Rat()
		m := new(big.Rat)
		if maybe != nil {
			m = cw.total(column(maybe.counts, o))
		}
		c := 1
		if bestYes != nil {
			c = y.Cmp(bestYes)
			if c == 0 {
				c = m.Cmp(bestMaybe)
			}
		}
		switch {
		case c > 0:
			best, bestYes, bestMaybe = []string{opt.Key}, y, m
		case c == 0:
			best = append(best, opt.Key)
		}
	}
	if bestYes.Sign() == 0 && (bestMaybe == nil || bestMaybe.Sign() == 0) {
		r.Outcome = NoVotes
		return r, nil
	}
	w, lot := breakTie(p.Seed, best)
	if lot {
		r.TieBroken = best
	}
	r.Outcome = Decided
	r.Winners = []string{w}
	return r, nil
}

// newResult sets up the per-class counts and participation of a result.
func newResult(in *Input, t *tallies) *Result {
	r := &Result{
		Method:  in.Method,
		Classes: make(map[string]*ClassCount, len(in.Classes)),
		Seed:    in.Params.Seed,
	}
	anyDelegated := t.anyDelegated()
	for k, c := range in.Classes {
		cc := &ClassCount{Ballots: t.ballots[k], Valid: t.valid[k], Counts: make(map[string]int64, len(in.Options))}
		if anyDelegated {
			cc.DelegatedCounts = make(map[string]int64, len(in.Options))
			for o, opt := range in.Options {
				cc.DelegatedCounts[opt.Key] = t.delegated[k][o]
			}
		}
		if in.Weighting == Classes {
			cc.Weight = c.Weight
		}
		if in.Electorate != nil {
			cc.Electorate = in.Electorate[k]
		}
		for o, opt := range in.Options {
			cc.Counts[opt.Key] = t.counts[k][o]
		}
		r.Classes[c.Key] = cc
	}
	r.Participation = participation(in, t)
	return r
}

// fill computes the weighted, direct and delegated totals of every option.
func fill(r *Result, in *Input, t *tallies, cw classWeights) {
	r.Weighted = make(map[string]Num, len(in.Options))
	anyDelegated := t.anyDelegated()
	if anyDelegated {
		r.Direct = make(map[string]Num, len(in.Options))
		r.Delegated = make(map[string]Num, len(in.Options))
	}
	for o, opt := range in.Options {
		total := cw.total(column(t.counts, o))
		r.Weighted[opt.Key] = NumRat(total)
		if anyDelegated {
			del := cw.total(column(t.delegated, o))
			r.Delegated[opt.Key] = NumRat(del)
			r.Direct[opt.Key] = NumRat(total.Sub(total, del))
		}
	}
}

// participation checks the quorum of RULES.md 2.5 against ballots cast,
// abstentions and blank ballots included.
func participation(in *Input, t *tallies) *Participation {
	p := &Participation{Voters: t.voters, Members: in.Members, Quorate: true}
	for k := range in.Classes {
		p.Voted += t.ballots[k]
		if in.Electorate != nil {
			p.Electorate += in.Electorate[k]
		}
	}
	q := in.Quorum
	if in.Electorate == nil {
		return p
	}
	// Ceiling of percent × electorate / 100: "at least 25%" of 10 is 3.
	p.Required = (q.Percent*p.Electorate + 99) / 100
	p.Required = max(p.Required, q.Count)
	p.Quorate = p.Voted >= p.Required
	if q.ClassPercent > 0 {
		for k := range in.Classes {
			if t.ballots[k]*100 < q.ClassPercent*in.Electorate[k] {
				p.Quorate = false
			}
		}
	}
	return p
}

func quorumRule(in *Input) string {
	q := in.Quorum
	s := ""
	if q.Percent > 0 {
		s += fmt.Sprintf("quorum %d%% of the electorate; ", q.Percent)
	}
	if q.Count > 0 {
		s += fmt.Sprintf("quorum %d members; ", q.Count)
	}
	if q.ClassPercent > 0 {
		s += fmt.Sprintf("quorum %d%% in every class; ", q.ClassPercent)
	}
	return s
}

func emptyClass(in *Input) EmptyClass {
	if in.EmptyClass == "" {
		return Redistribute
	}
	return in.EmptyClass
}

func optionIndex(opts []Option) map[string]int {
	m := make(map[string]int, len(opts))
	for i, o := range opts {
		m[o.Key] = i
	}
	return m
}
