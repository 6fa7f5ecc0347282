// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"slices"
)

// Meek's fixed point: nine decimals, as the Proportional Representation
// Foundation's reference rule, and its iteration limit ω = 0.000001.
const (
	meekUnit  = 1_000_000_000
	meekOmega = 1000
)

// meekNode is one node of the ballot prefix tree: the ballots that share a
// prefix of preference groups. Meek's arithmetic gives every ballot the same
// weight at a node, so the count walks nodes instead of ballots.
type meekNode struct {
	key     int32 // option, or n+g for the level group g
	child   int32 // first child, -1 if none
	sibling int32 // next sibling, -1 if none
	count   int64 // summed ballot weight (multiplicity) through the node
}

type meekCount struct {
	n      int
	nodes  []meekNode
	groups [][]int32 // level groups, by key-n
	roots  []int32   // one root per class
	start  []int64   // each class's starting ballot value
	kf     []int64   // keep factors
	votes  []int64
}

func (m *meekCount) child(parent int32, key int32) int32 {
	for c := m.nodes[parent].child; c >= 0; c = m.nodes[c].sibling {
		if m.nodes[c].key == key {
			return c
		}
	}
	m.nodes = append(m.nodes, meekNode{key: key, child: -1, sibling: m.nodes[parent].child})
	c := int32(len(m.nodes) - 1)
	m.nodes[parent].child = c
	return c
}

// build puts every valid ballot into the prefix tree of its class.
func (m *meekCount) build(in *Input) {
	index := map[string]int32{}
	m.roots = make([]int32, len(in.Classes))
	for k := range m.roots {
		m.nodes = append(m.nodes, meekNode{key: -1, child: -1, sibling: -1})
		m.roots[k] = int32(len(m.nodes) - 1)
	}
	var gbuf []byte
	for i := range in.Ballots {
		b := &in.Ballots[i]
		if len(b.Ranking) == 0 {
			continue
		}
		node := m.roots[b.Class]
		m.nodes[node].count += b.Weight
		r := b.Ranking
		for pos := 0; pos < len(r); {
			end := r.groupEnd(pos)
			key := r[pos]
			if end-pos > 1 {
				g := make([]int32, 0, end-pos)
				for _, e := range r[pos:end] {
					g = append(g, opt(e))
				}
				slices.Sort(g)
				gbuf = gbuf[:0]
				for _, o := range g {
					gbuf = fmt.Appendf(gbuf, "%d,", o)
				}
				id, ok := index[string(gbuf)]
				if !ok {
					id = int32(m.n + len(m.groups))
					m.groups = append(m.groups, g)
					index[string(gbuf)] = id
				}
				key = id
			}
			node = m.child(node, key)
			m.nodes[node].count += b.Weight
			pos = end
		}
	}
}

// distribute spreads every ballot over its preferences by the keep factors
// (PRF reference rule B.2.a): a candidate keeps weight × keep factor,
// rounded up to nine decimals, and passes the rest on.
func (m *meekCount) distribute() {
	clear(m.votes)
	for k, root := range m.roots {
		if m.start[k] > 0 {
			m.visit(root, m.start[k])
		}
	}
}

func (m *meekCount) visit(node int32, w int64) {
	for ch := m.nodes[node].child; ch >= 0; ch = m.nodes[ch].sibling {
		nd := &m.nodes[ch]
		c := nd.key
		if int(c) >= m.n {
			// A level group counts for its only non-excluded member; with
			// two or more it is an overvote and the ballot stops here.
			c = -1
			over := false
			for _, o := range m.groups[int(nd.key)-m.n] {
				if m.kf[o] > 0 {
					if c >= 0 {
						over = true
						break
					}
					c = o
				}
			}
			if over {
				continue
			}
		}
		if c < 0 || m.kf[c] == 0 {
			m.visit(ch, w)
			continue
		}
		keep := w
		if m.kf[c] < meekUnit {
			keep = mulDiv(w, m.kf[c], meekUnit, true)
		}
		m.votes[c] += keep * nd.count
		if rest := w - keep; rest > 0 {
			m.visit(ch, rest)
		}
	}
}

// countMeek counts STV by Meek's method as the Proportional Representation
// Foundation's reference rule (Hill, Wichmann and Woodall 1987; PRF "Meek
// reference rule"): nine-decimal fixed point, Droop quota recomputed every
// iteration as the votes held by candidates over seats + 1, truncated, plus
// 0.000000001; elected candidates' keep factors become keep × quota / votes
// (rounded up) until the total surplus is below 0.000001 or stops falling;
// then the hopeful candidate with the fewest votes is excluded (keep factor
// 0). Where the reference rule draws lots between all candidates within the
// total surplus of the lowest, we exclude the one with the fewest votes and
// break exact ties by the latest earlier round where they differed, then by
// [Lot].
//
// Meek recounts every ballot from its first preference each iteration, so
// a level group of options is judged against the candidates not excluded:
// it counts for its only such member and is an overvote (the ballot's
// remaining weight is exhausted) when two or more remain. Under class
// weighting a ballot starts at its class factor truncated to nine decimals.
//
// Time: O(E) to build the prefix tree of the ballots, then O(I·V) for I
// iterations over all rounds, V being the tree nodes reached through
// elected or excluded candidates (at most the number of distinct ballot
// prefixes, usually far fewer: a walk stops at the first hopeful
// candidate). Memory: O(N) for the N tree nodes (at most E).
func countMeek(in *Input) (*Result, error) {
	if err := checkWeight(in, meekUnit); err != nil {
		return nil, err
	}
	base, r, err := startRanked(in)
	if err != nil {
		return nil, err
	}
	seats := max(in.Params.Seats, 1)
	r.Rule = fmt.Sprintf("single transferable vote, %d seat(s), Meek's method "+
		"(PR Foundation reference rule: 9-decimal fixed point, dynamic Droop quota, omega 0.000001)", seats)
	if r.missedQuorum() {
		return r, nil
	}
	n := len(in.Options)
	m := &meekCount{n: n, start: fixedFactors(base.cw, meekUnit), kf: make([]int64, n), votes: make([]int64, n)}
	m.build(in)
	var total int64
	for k, root := range m.roots {
		total += m.nodes[root].count * m.start[k]
	}
	if total == 0 {
		r.Outcome = NoVotes
		return r, nil
	}
	state := make([]int8, n)
	for o := range m.kf {
		m.kf[o] = meekUnit
	}
	left, hopefuls := seats, n
	var hist [][]int64
	var quota int64
	for hopefuls > left && left > 0 {
		var rd Round
		status := "iterate"
		last := int64(-1)
		var surplus int64
		for {
			m.distribute()
			var held int64
			for o := range n {
				if state[o] != excluded {
					held += m.votes[o]
				}
			}
			quota = held/int64(seats+1) + 1
			var reached []int
			for o := range n {
				if state[o] == hopeful && m.votes[o] >= quota {
					reached = append(reached, o)
				}
			}
			if len(reached) > 0 {
				order, lots := electOrder(in, reached, m.votes, len(hist), int64Hist(hist))
				for _, l := range lots {
					r.TieBroken = keys(in, l)
				}
				for _, o := range order {
					if left == 0 {
						break
					}
					state[o] = elected
					left--
					hopefuls--
					r.Winners = append(r.Winners, in.Options[o].Key)
					rd.Elected = append(rd.Elected, in.Options[o].Key)
				}
				status = "elected"
			}
			surplus = 0
			for o := range n {
				if state[o] == elected && m.votes[o] > quota {
					surplus += m.votes[o] - quota
				}
			}
			if status != "elected" {
				if surplus < meekOmega {
					status = "omega"
				} else if last >= 0 && surplus >= last {
					status = "stable"
				}
			}
			if status != "iterate" {
				break
			}
			last = surplus
			for o := range n {
				if state[o] == elected {
					m.kf[o] = mulDiv(mulDiv(m.kf[o], quota, meekUnit, true), meekUnit, m.votes[o], true)
				}
			}
		}
		hist = append(hist, slices.Clone(m.votes))
		if status != "elected" && hopefuls > left {
			var lowest []int
			for o := range n {
				if state[o] != hopeful {
					continue
				}
				switch {
				case len(lowest) == 0 || m.votes[o] < m.votes[lowest[0]]:
					lowest = []int{o}
				case m.votes[o] == m.votes[lowest[0]]:
					lowest = append(lowest, o)
				}
			}
			o, lot := pickTie(in, lowest, len(hist)-1, int64Hist(hist), true)
			if lot != nil {
				r.TieBroken = keys(in, lot)
			}
			state[o] = excluded
			m.kf[o] = 0
			hopefuls--
			rd.Excluded = []string{in.Options[o].Key}
			rd.Note = fmt.Sprintf("surplus %s %s", fixedNum(surplus, meekUnit), map[bool]string{true: "below omega", false: "stable"}[status == "omega"])
		}
		r.Rounds = append(r.Rounds, m.round(in, len(r.Rounds)+1, rd, state, quota, total))
	}
	if left > 0 && hopefuls > 0 {
		var rest []int
		for o := range n {
			if state[o] == hopeful {
				rest = append(rest, o)
			}
		}
		order, lots := electOrder(in, rest, m.votes, len(hist), int64Hist(hist))
		for _, l := range lots {
			r.TieBroken = keys(in, l)
		}
		if len(r.Rounds) == 0 {
			m.distribute()
			r.Rounds = append(r.Rounds, m.round(in, 1, Round{}, state, quota, total))
		}
		last := &r.Rounds[len(r.Rounds)-1]
		for _, o := range order {
			state[o] = elected
			r.Winners = append(r.Winners, in.Options[o].Key)
			last.Elected = append(last.Elected, in.Options[o].Key)
		}
		last.Note = "continuing candidates elected to the last vacancies"
	}
	r.Outcome = Decided
	return r, nil
}

// round records the state at the end of a Meek round: votes of candidates
// not excluded, quota, exhausted weight and the keep factors of the
// elected.
func (m *meekCount) round(in *Input, num int, rd Round, state []int8, quota, total int64) Round {
	var held int64
	for o, v := range m.votes {
		if state[o] != excluded {
			held += v
		}
	}
	rd.Number = num
	q := fixedNum(quota, meekUnit)
	ex := fixedNum(total-held, meekUnit)
	rd.Quota, rd.Exhausted = &q, &ex
	rd.Counts = fixedMap(in, m.votes, meekUnit, func(o int) bool { return state[o] != excluded || slices.Contains(rd.Excluded, in.Options[o].Key) })
	rd.Keep = fixedMap(in, m.kf, meekUnit, func(o int) bool { return state[o] == elected })
	return rd
}
