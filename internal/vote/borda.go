// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"fmt"
	"math/big"
)

// countBorda counts truncated Borda as Loomio's rank poll (RULES.md 2.2):
// with n options a ballot gives n points to its first preference, n-1 to its
// second and so on; unranked options get nothing. A level group is an
// overvote: since every option is continuing in Borda, the group and the
// preferences below it score nothing, while those above it keep their
// points. The highest weighted total wins; ties go to [Lot].
//
// Time: O(E + C·K) for E ranked entries, C options and K classes.
func countBorda(in *Input) (*Result, error) {
	base, err := prepareRanked(in)
	if err != nil {
		return nil, err
	}
	n := len(in.Options)
	pts := newTallies(len(in.Classes), n)
	pts.ballots, pts.valid, pts.voters = base.t.ballots, base.t.valid, base.t.voters
	for i := range in.Ballots {
		b := &in.Ballots[i]
		r := b.Ranking
		for pos, level := 0, 0; pos < len(r); level++ {
			end := r.groupEnd(pos)
			if end-pos > 1 {
				break
			}
			pts.add(b, int(r[pos]), int64(n-level)*b.Weight)
			pos = end
		}
	}
	r := newResult(in, pts)
	fill(r, in, pts, base.cw)
	r.Rule = fmt.Sprintf("truncated Borda: %d points for a first preference down to 1, unranked 0; level options end the ballot", n)
	if r.missedQuorum() {
		return r, nil
	}
	r.Rounds = []Round{{Number: 1, Counts: r.Weighted}}
	var best []string
	var top *big.Rat
	for _, o := range in.Options {
		v := r.Weighted[o.Key].Rat()
		switch c := cmpNil(v, top); {
		case c > 0:
			best, top = []string{o.Key}, v
		case c == 0:
			best = append(best, o.Key)
		}
	}
	if top.Sign() == 0 {
		r.Outcome = NoVotes
		return r, nil
	}
	w, lot := breakTie(in.Params.Seed, best)
	if lot {
		r.TieBroken = best
	}
	r.Winners = []string{w}
	r.Outcome = Decided
	return r, nil
}

// cmpNil compares a with b, a nil b being below everything.
func cmpNil(a, b *big.Rat) int {
	if b == nil {
		return 1
	}
	return a.Cmp(b)
}
