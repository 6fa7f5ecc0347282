// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
	"slices"
)

// countSchulze counts the Schulze method with winning votes (RULES.md 2.2).
// Ballots may rank options level. Options a ballot leaves out are level with
// each other below every option it ranks — except that, with
// Params.DefaultOption set and ranked on the ballot, they are level with the
// default option: they beat what the ballot ranks below the default and lose
// to what it ranks above (a member who leaves an option out has not asked
// for it over the status quo; LiquidFeedback's "absent grade = 0", see
// docs/decision-record.md). A ballot that leaves out the default too has all
// its unranked options, the default among them, level at the bottom.
// d[a][b] is the weighted number of ballots ranking a above b
// (Result.Pairwise). With Params.DefaultOption set, every other
// option A must first defeat the default D by its majority ratio N (1
// unless Params.Majority gives it): V(A,D) ≥ N·V(D,A) and V(A,D) > V(D,A),
// as Debian Constitution §A.6; the others are dropped (Result.Dropped) before
// the count. Among the rest a link a→b is d[a][b] when d[a][b] > d[b][a] and
// absent otherwise; Result.Paths holds the strongest paths p; the winners
// are the options a with p[a][b] ≥ p[b][a] for every b, one of them chosen
// by [Lot] if there are several. Extra["ranking"] orders the remaining
// options by how many others they beat by path.
//
// Time: O(B·L·C + C³) for B ballots ranking at most L options each, C
// options (the pairwise counts, then Floyd-Warshall widest paths), and
// O(C²·K) rationals for K classes. The level-with-default rule keeps the
// pairwise pass at O(L·C) per ballot: each ranked option's row is one pass
// over the options, each unranked option's row one pass over the few ranked
// below the default.
func countSchulze(in *Input) (*Result, error) {
	base, r, err := startRanked(in)
	if err != nil {
		return nil, err
	}
	n := len(in.Options)
	idx := optionIndex(in.Options)
	def := -1
	if in.Params.DefaultOption != "" {
		d, ok := idx[in.Params.DefaultOption]
		if !ok {
			return nil, fmt.Errorf("%w: default option %q is not an option", ErrInput, in.Params.DefaultOption)
		}
		def = d
	}
	for k, v := range in.Params.Majority {
		if _, ok := idx[k]; !ok {
			return nil, fmt.Errorf("%w: majority for %q, which is not an option", ErrInput, k)
		}
		if v < 1 {
			return nil, fmt.Errorf("%w: majority ratio %d:1 for %q", ErrInput, v, k)
		}
	}
	r.Rule = "Schulze (winning votes), level rankings allowed"
	if def >= 0 {
		r.Rule += fmt.Sprintf("; every option must defeat the default option %q by its majority ratio (Debian A.6)", in.Params.DefaultOption)
	}
	if r.missedQuorum() {
		return r, nil
	}

	// Pairwise counts, per class in int64.
	K := len(in.Classes)
	d := make([][]int64, K)
	for k := range d {
		d[k] = make([]int64, n*n)
	}
	const unranked = int32(1 << 30)
	level := make([]int32, n)
	for o := range level {
		level[o] = unranked
	}
	var below []int32 // options a ballot ranks below its default option
	for i := range in.Ballots {
		b := &in.Ballots[i]
		rk := b.Ranking
		if len(rk) == 0 {
			continue
		}
		lv := int32(-1)
		for _, e := range rk {
			if e >= 0 {
				lv++
			}
			level[opt(e)] = lv
		}
		// floor is the level of the options the ballot leaves out.
		floor := unranked
		if def >= 0 && level[def] != unranked {
			floor = level[def]
		}
		dk := d[b.Class]
		w := b.Weight
		for _, e := range rk {
			a := int(opt(e))
			la := level[a]
			row := dk[a*n : a*n+n]
			for o, lo := range level {
				if lo == unranked {
					lo = floor
				}
				if lo > la {
					row[o] += w
				}
			}
		}
		if floor != unranked {
			// The unranked options beat what is ranked below the default:
			// O(unranked × below) ≤ O(C·L) more per ballot.
			below = below[:0]
			for _, e := range rk {
				if o := opt(e); level[o] > floor {
					below = append(below, o)
				}
			}
			if len(below) > 0 && len(rk) < n {
				for u, lu := range level {
					if lu != unranked {
						continue
					}
					row := dk[u*n : u*n+n]
					for _, o := range below {
						row[o] += w
					}
				}
			}
		}
		for _, e := range rk {
			level[opt(e)] = unranked
		}
	}
	pair := make([]*big.Rat, n*n)
	col := make([]int64, K)
	for x := range pair {
		for k := range col {
			col[k] = d[k][x]
		}
		pair[x] = base.cw.total(col)
	}
	at := func(a, b int) *big.Rat { return pair[a*n+b] }
	r.Pairwise = make(map[string]map[string]Num, n)
	for a := range n {
		row := make(map[string]Num, n-1)
		for b := range n {
			if a != b {
				row[in.Options[b].Key] = NumRat(at(a, b))
			}
		}
		r.Pairwise[in.Options[a].Key] = row
	}

	// Debian A.6: drop options that fail their majority against the default.
	var in2 []int
	var checks []map[string]any
	for a := range n {
		if def >= 0 && a != def {
			ratio := int64(1)
			if v, ok := in.Params.Majority[in.Options[a].Key]; ok {
				ratio = v
			}
			need := new(big.Rat).Mul(at(def, a), big.NewRat(ratio, 1))
			pass := at(a, def).Cmp(need) >= 0 && at(a, def).Cmp(at(def, a)) > 0
			checks = append(checks, map[string]any{
				"option": in.Options[a].Key, "for": NumRat(at(a, def)), "against": NumRat(at(def, a)),
				"required_ratio": ratio, "passes": pass,
			})
			if !pass {
				r.Dropped = append(r.Dropped, in.Options[a].Key)
				continue
			}
		}
		in2 = append(in2, a)
	}

	// Widest paths (Floyd-Warshall) over the remaining options.
	zero := new(big.Rat)
	p := make([]*big.Rat, n*n)
	for _, a := range in2 {
		for _, b := range in2 {
			if a != b {
				p[a*n+b] = zero
				if at(a, b).Cmp(at(b, a)) > 0 {
					p[a*n+b] = at(a, b)
				}
			}
		}
	}
	for _, i := range in2 {
		for _, j := range in2 {
			if i == j {
				continue
			}
			for _, k := range in2 {
				if k == i || k == j {
					continue
				}
				via := p[j*n+i]
				if p[i*n+k].Cmp(via) < 0 {
					via = p[i*n+k]
				}
				if via.Cmp(p[j*n+k]) > 0 {
					p[j*n+k] = via
				}
			}
		}
	}
	r.Paths = make(map[string]map[string]Num, len(in2))
	wins := make([]int, n)
	var winners []int
	for _, a := range in2 {
		row := make(map[string]Num, len(in2))
		top := true
		for _, b := range in2 {
			if a == b {
				continue
			}
			row[in.Options[b].Key] = NumRat(p[a*n+b])
			switch p[a*n+b].Cmp(p[b*n+a]) {
			case 1:
				wins[a]++
			case -1:
				top = false
			}
		}
		r.Paths[in.Options[a].Key] = row
		if top {
			winners = append(winners, a)
		}
	}
	ranking := slices.Clone(in2)
	slices.SortStableFunc(ranking, func(a, b int) int { return wins[b] - wins[a] })
	r.Extra = map[string]any{"ranking": keys(in, ranking)}
	if checks != nil {
		r.Extra["majority"] = checks
	}
	var valid int64
	for _, v := range base.t.valid {
		valid += v
	}
	if valid == 0 {
		r.Outcome = NoVotes
		return r, nil
	}
	w, lot := breakTie(in.Params.Seed, keys(in, winners))
	if lot {
		r.TieBroken = keys(in, winners)
	}
	r.Winners = []string{w}
	r.Outcome = Decided
	return r, nil
}
