// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"slices"
)

// scotUnit is the Scottish rule's fixed point: votes are counted in units of
// 0.00001, because rule 48(3) computes transfer values "to five decimal
// places (any remainder being ignored)". Every total is then an exact sum of
// such values, so int64 arithmetic reproduces the official stage sheets.
const scotUnit = 100000

// countScottish counts STV by the Scottish Local Government Elections Order
// 2007 (SSI 2007/42, schedule 1, rules 45-52), weighted inclusive Gregory:
//
//   - quota = floor(valid / (seats + 1)) + 1 (rule 46), valid being the
//     ballots with a first preference;
//   - a candidate reaching the quota is elected (47); the highest surplus is
//     transferred first (49), every paper of the candidate moving on at
//     surplus × its value / the candidate's total, truncated to five decimals
//     (48);
//   - otherwise the lowest candidate is excluded and all their papers move on
//     at their current value (50);
//   - equal surpluses and equal lowest candidates are decided by the most
//     recent preceding stage at which they differed, then by [Lot] (49(2),
//     51);
//   - when the continuing candidates are no more than the vacancies left,
//     they are elected without further transfer (52).
//
// Level options among the continuing ones exhaust a paper (RULES.md 2.2); a
// paper whose first rank is such a group is not valid. Under class
// weighting a paper starts at its class factor (percent of control divided
// by the class's valid ballots) truncated to five decimals, and the quota is
// the total over seats + 1 truncated to five decimals plus 0.00001, the
// smallest fixed-point value above the exact Droop quota.
//
// Time: O(E + S·C·K) for E ranked entries, S stages (at most 2C), C
// candidates and K classes, since each paper is moved forward along its
// ranking and re-valued at most once per stage that transfers it; in the
// worst case O(B·C) paper moves. Memory: O(B + S·C).
func countScottish(in *Input) (*Result, error) {
	if err := checkWeight(in, scotUnit); err != nil {
		return nil, err
	}
	base, r, err := startRanked(in)
	if err != nil {
		return nil, err
	}
	seats := max(in.Params.Seats, 1)
	r.Rule = fmt.Sprintf("single transferable vote, %d seat(s), Scottish rules (SSI 2007/42 rules 45-52): "+
		"Droop quota, weighted inclusive Gregory transfers truncated to 5 decimals", seats)
	if r.missedQuorum() {
		return r, nil
	}
	n := len(in.Options)
	start := fixedFactors(base.cw, scotUnit)
	value := make([]int64, len(in.Ballots))
	votes := make([]int64, n)
	var total int64
	for i := range in.Ballots {
		b := &in.Ballots[i]
		value[i] = start[b.Class]
		if c := base.first[i]; c >= 0 {
			votes[c] += b.Weight * value[i]
			total += b.Weight * value[i]
		}
	}
	if total == 0 {
		r.Outcome = NoVotes
		return r, nil
	}
	var quota int64
	if in.Weighting == Classes {
		quota = total/int64(seats+1) + 1
	} else {
		quota = (total/scotUnit/int64(seats+1) + 1) * scotUnit
	}
	q := fixedNum(quota, scotUnit)

	p := newPile(in, base.first)
	state := make([]int8, n)
	live := make([]bool, n)
	for o := range live {
		live[o] = true
	}
	var hist [][]int64
	var pending []int // elected, surplus not yet transferred
	left := seats
	hopefuls := n
	stageRound := func(num int) Round {
		var sum int64
		for _, v := range votes {
			sum += v
		}
		ex := fixedNum(total-sum, scotUnit)
		return Round{Number: num, Quota: &q, Exhausted: &ex,
			Counts: fixedMap(in, votes, scotUnit, func(int) bool { return true })}
	}
	elect := func(rd *Round) {
		var reached []int
		for o := range n {
			if state[o] == hopeful && votes[o] >= quota {
				reached = append(reached, o)
			}
		}
		order, lots := electOrder(in, reached, votes, len(hist), int64Hist(hist))
		for _, l := range lots {
			r.TieBroken = keys(in, l)
		}
		for _, o := range order {
			if left == 0 {
				break
			}
			state[o], live[o] = elected, false
			hopefuls--
			left--
			r.Winners = append(r.Winners, in.Options[o].Key)
			rd.Elected = append(rd.Elected, in.Options[o].Key)
			if votes[o] > quota {
				pending = append(pending, o)
			}
		}
	}
	// move transfers the papers of o to their next continuing preference,
	// re-valuing each with revalue.
	move := func(o int, revalue func(v int64) int64) {
		for _, i := range p.piles[o] {
			b := &in.Ballots[i]
			value[i] = revalue(value[i])
			if c := p.move(in, i, live); c >= 0 {
				votes[c] += b.Weight * value[i]
			}
		}
		p.piles[o] = nil
	}

	rd := stageRound(1)
	hist = append(hist, slices.Clone(votes))
	elect(&rd)
	r.Rounds = append(r.Rounds, rd)
	for left > 0 && hopefuls > left {
		var rd Round
		if len(pending) > 0 {
			// Rule 49: the highest surplus first.
			var tied []int
			for _, o := range pending {
				switch {
				case len(tied) == 0 || votes[o] > votes[tied[0]]:
					tied = []int{o}
				case votes[o] == votes[tied[0]]:
					tied = append(tied, o)
				}
			}
			o, lot := pickTie(in, tied, len(hist), int64Hist(hist), false)
			if lot != nil {
				r.TieBroken = keys(in, lot)
			}
			pending = slices.DeleteFunc(pending, func(x int) bool { return x == o })
			surplus, t := votes[o]-quota, votes[o]
			move(o, func(v int64) int64 { return mulDiv(surplus, v, t, false) })
			votes[o] = quota
			tv := fixedNum(mulDiv(surplus, scotUnit, t, false), scotUnit)
			rd = stageRound(len(hist) + 1)
			rd.Transfer = &Transfer{From: in.Options[o].Key, Kind: "surplus", Value: &tv}
		} else {
			// Rule 50: exclude the lowest continuing candidate.
			var tied []int
			for o := range n {
				if state[o] != hopeful {
					continue
				}
				switch {
				case len(tied) == 0 || votes[o] < votes[tied[0]]:
					tied = []int{o}
				case votes[o] == votes[tied[0]]:
					tied = append(tied, o)
				}
			}
			o, lot := pickTie(in, tied, len(hist), int64Hist(hist), true)
			if lot != nil {
				r.TieBroken = keys(in, lot)
			}
			state[o], live[o] = excluded, false
			hopefuls--
			move(o, func(v int64) int64 { return v })
			votes[o] = 0
			rd = stageRound(len(hist) + 1)
			rd.Excluded = []string{in.Options[o].Key}
			rd.Transfer = &Transfer{From: in.Options[o].Key, Kind: "exclusion"}
		}
		hist = append(hist, slices.Clone(votes))
		elect(&rd)
		r.Rounds = append(r.Rounds, rd)
	}
	if left > 0 && hopefuls > 0 {
		// Rule 52: the continuing candidates fill the last vacancies.
		var rest []int
		for o := range n {
			if state[o] == hopeful {
				rest = append(rest, o)
			}
		}
		order, lots := electOrder(in, rest, votes, len(hist), int64Hist(hist))
		for _, l := range lots {
			r.TieBroken = keys(in, l)
		}
		last := &r.Rounds[len(r.Rounds)-1]
		for _, o := range order {
			state[o] = elected
			r.Winners = append(r.Winners, in.Options[o].Key)
			last.Elected = append(last.Elected, in.Options[o].Key)
		}
		last.Note = "continuing candidates elected to the last vacancies (rule 52)"
	}
	r.Outcome = Decided
	return r, nil
}
