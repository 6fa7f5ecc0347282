// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package record

import (
	"encoding/json"
	"fmt"

	"opencoop/internal/errs"
	"opencoop/internal/vote"
)

// Content is a ballot as a member fills it in; the field used depends on
// the method: Choice (consent, yesno, single choice), Choices (approval,
// choice with max_choices > 1), Scores (score, star, dot, meeting: 2 yes,
// 1 maybe, 0 no) or Ranking (borda, irv, stv, schulze; a group of keys ranks
// them level).
type Content struct {
	Choice  *string        `json:"choice,omitempty"`
	Choices []string       `json:"choices,omitempty"`
	Scores  map[string]int `json:"scores,omitempty"`
	Ranking Ranking        `json:"ranking,omitempty"`
}

// Ranking is a list of groups of option keys, best first. In JSON each
// group is an array of keys or a single key: ["a", ["b", "c"], "d"].
type Ranking [][]string

// UnmarshalJSON accepts groups as arrays or as single keys. null leaves r
// as it is.
//
// Records hold a ranking per ballot, so the common shape — keys without
// escapes — is read by hand, with one allocation for the groups and one for
// the keys of a ballot (a million-member record reads in a fraction of the
// time encoding/json's generic path takes); anything else takes that path.
func (r *Ranking) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if out, ok := parseRanking(b); ok {
		*r = out
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = make(Ranking, 0, len(raw))
	for _, g := range raw {
		var one string
		if err := json.Unmarshal(g, &one); err == nil {
			*r = append(*r, []string{one})
			continue
		}
		var group []string
		if err := json.Unmarshal(g, &group); err != nil {
			return fmt.Errorf("a ranking holds option keys or arrays of them")
		}
		*r = append(*r, group)
	}
	return nil
}

// parseRanking reads a ranking of plain keys: an array whose items are
// strings without escapes or arrays of them. It reports false for anything
// else, leaving it (and its errors) to encoding/json.
func parseRanking(b []byte) (Ranking, bool) {
	i := 0
	space := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	// str reads a string at i; ok is false for escapes or a bad string.
	str := func() (string, bool) {
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' || b[j] < 0x20 {
				return "", false
			}
			j++
		}
		if j >= len(b) {
			return "", false
		}
		s := string(b[i+1 : j])
		i = j + 1
		return s, true
	}
	// Count keys and groups first so each gets one allocation (an
	// overestimate: a single key is counted once per quote).
	keys, groups, depth := 0, 0, 0
	for _, c := range b {
		switch c {
		case '"':
			keys++
		case '[':
			depth++
		case ']':
			depth--
		}
		if c == '[' && depth == 2 || c == '"' && depth == 1 {
			groups++
		}
	}
	keys /= 2
	flat := make([]string, 0, keys)
	out := make(Ranking, 0, groups)
	space()
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	i++
	space()
	if i < len(b) && b[i] == ']' {
		i++
		space()
		return out, i == len(b)
	}
	for {
		space()
		start := len(flat)
		switch {
		case i < len(b) && b[i] == '"':
			k, ok := str()
			if !ok {
				return nil, false
			}
			flat = append(flat, k)
		case i < len(b) && b[i] == '[':
			i++
			space()
			for i < len(b) && b[i] != ']' {
				k, ok := str()
				if !ok {
					return nil, false
				}
				flat = append(flat, k)
				space()
				if i < len(b) && b[i] == ',' {
					i++
					space()
					if i < len(b) && b[i] == ']' {
						return nil, false // trailing comma
					}
				} else if i < len(b) && b[i] != ']' {
					return nil, false
				}
			}
			if i >= len(b) {
				return nil, false
			}
			i++ // ]
		default:
			return nil, false
		}
		// The counts above are capacity hints: should a key hold a
		// bracket, append reallocates and earlier groups keep their array.
		out = append(out, flat[start:len(flat):len(flat)])
		space()
		if i >= len(b) {
			return nil, false
		}
		if b[i] == ']' {
			i++
			space()
			return out, i == len(b)
		}
		if b[i] != ',' {
			return nil, false
		}
		i++
	}
}

// Normalize checks in against a count's method, options and parameters and
// returns it in canonical form (one field set, keys in option order, every
// option scored) and as a vote.Ballot (weight and class left for the caller).
func (in Content) Normalize(m vote.Method, options []vote.Option, params vote.Params) (Content, vote.Ballot, error) {
	z := newNormalizer(m, options, params, 0)
	z.canonical = true
	return z.normalize(in)
}

// normalizer normalizes many ballots of one count: the option index is
// built once, and the vote.Ballot slices are cut from two arenas, so that
// a million ballots cost a handful of allocations (docs/BENCHMARKS.md).
type normalizer struct {
	m       vote.Method
	options []vote.Option
	params  vote.Params
	idx     map[string]int
	// canonical asks for the canonical Content too; a count needs only
	// the vote.Ballot.
	canonical bool
	seen      []uint32 // generation stamps: no clearing per ballot
	gen       uint32
	ints      []int
	ranks     vote.Ranking
}

// newNormalizer sets up a normalizer; size is the number of ints and
// ranking entries to reserve (enough for all ballots avoids regrowing).
func newNormalizer(m vote.Method, options []vote.Option, params vote.Params, size int) *normalizer {
	z := &normalizer{m: m, options: options, params: params, idx: make(map[string]int, len(options)),
		seen: make([]uint32, len(options))}
	for i, o := range options {
		z.idx[o.Key] = i
	}
	if m.Ranked() {
		z.ranks = make(vote.Ranking, 0, size)
	} else {
		z.ints = make([]int, 0, size)
	}
	return z
}

// size returns how many arena entries in needs at most.
func (in *Content) size(options int) int {
	switch {
	case in.Scores != nil:
		return options
	case in.Ranking != nil:
		n := 0
		for _, g := range in.Ranking {
			n += len(g)
		}
		return n
	}
	return len(in.Choices) + 1
}

// mark stamps option i as seen on the current ballot and reports whether
// it already was.
func (z *normalizer) mark(i int) bool {
	if z.seen[i] == z.gen {
		return true
	}
	z.seen[i] = z.gen
	return false
}

// next starts a new ballot for mark.
func (z *normalizer) next() {
	z.gen++
	if z.gen == 0 { // wrapped: stamps from 2³² ballots ago would collide
		clear(z.seen)
		z.gen = 1
	}
}

// take returns k ints cut from the arena, zeroed.
func (z *normalizer) take(k int) []int {
	if len(z.ints)+k > cap(z.ints) {
		z.ints = make([]int, 0, max(k, 2*cap(z.ints), 64))
	}
	s := z.ints[len(z.ints) : len(z.ints)+k : len(z.ints)+k]
	clear(s)
	z.ints = z.ints[:len(z.ints)+k]
	return s
}

func (z *normalizer) normalize(in Content) (Content, vote.Ballot, error) {
	m, options, params, idx := z.m, z.options, z.params, z.idx
	bad := func(field, msg string) (Content, vote.Ballot, error) {
		return Content{}, vote.Ballot{}, errs.Invalid(field, msg)
	}
	set := 0
	for _, ok := range []bool{in.Choice != nil, in.Choices != nil, in.Scores != nil, in.Ranking != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return bad("ballot", "give exactly one of choice, choices, scores or ranking")
	}
	z.next()
	var out Content
	var b vote.Ballot
	switch {
	case m == vote.Consent || m == vote.YesNo || (m == vote.Choice && params.MaxChoices <= 1):
		if in.Choice == nil {
			return bad("choice", fmt.Sprintf("a %s ballot gives one choice", m))
		}
		i, ok := idx[*in.Choice]
		if !ok {
			return bad("choice", "not one of the options")
		}
		out.Choice, b.Choices = in.Choice, z.take(1)
		b.Choices[0] = i
	case m == vote.Choice || m == vote.Approval:
		list := in.Choices
		if in.Choice != nil {
			list = []string{*in.Choice}
		}
		if list == nil {
			return bad("choices", fmt.Sprintf("a %s ballot gives a list of choices", m))
		}
		if m == vote.Choice && len(list) > params.MaxChoices {
			return bad("choices", fmt.Sprintf("choose at most %d", params.MaxChoices))
		}
		for _, k := range list {
			i, ok := idx[k]
			if !ok {
				return bad("choices", fmt.Sprintf("%q is not one of the options", k))
			}
			if z.mark(i) {
				return bad("choices", fmt.Sprintf("%q is chosen twice", k))
			}
		}
		// In option order, so equal ballots are equal.
		b.Choices = z.take(len(list))[:0]
		if z.canonical {
			out.Choices = []string{}
		}
		for i, o := range options {
			if z.seen[i] == z.gen {
				b.Choices = append(b.Choices, i)
				if z.canonical {
					out.Choices = append(out.Choices, o.Key)
				}
			}
		}
	case m.Scored():
		if in.Scores == nil {
			return bad("scores", fmt.Sprintf("a %s ballot gives scores", m))
		}
		lo, hi := params.ScoreMin, params.ScoreMax
		switch m {
		case vote.Dot:
			lo, hi = 0, params.Points
		case vote.Meeting:
			lo, hi = 0, 2
		}
		b.Scores = z.take(len(options))
		sum := 0
		for k, s := range in.Scores {
			i, ok := idx[k]
			if !ok {
				return bad("scores", fmt.Sprintf("%q is not one of the options", k))
			}
			if s < lo || s > hi {
				return bad("scores", fmt.Sprintf("%q: give %d to %d", k, lo, hi))
			}
			b.Scores[i] = s
			z.mark(i)
			sum += s
		}
		if m == vote.Dot && sum > params.Points {
			return bad("scores", fmt.Sprintf("%d points given, at most %d", sum, params.Points))
		}
		// Unrated options score the minimum (RULES.md 2.2).
		for i := range options {
			if z.seen[i] != z.gen {
				b.Scores[i] = lo
			}
		}
		if z.canonical {
			out.Scores = make(map[string]int, len(options))
			for i, o := range options {
				out.Scores[o.Key] = b.Scores[i]
			}
		}
	case m.Ranked():
		if in.Ranking == nil {
			return bad("ranking", fmt.Sprintf("a %s ballot ranks options", m))
		}
		n := 0
		for _, g := range in.Ranking {
			n += len(g)
		}
		if len(z.ranks)+n > cap(z.ranks) {
			z.ranks = make(vote.Ranking, 0, max(n, 2*cap(z.ranks), 64))
		}
		start := len(z.ranks)
		for _, g := range in.Ranking {
			if len(g) == 0 {
				return bad("ranking", "empty group")
			}
			for j, k := range g {
				i, ok := idx[k]
				if !ok {
					return bad("ranking", fmt.Sprintf("%q is not one of the options", k))
				}
				if z.mark(i) {
					return bad("ranking", fmt.Sprintf("%q is ranked twice", k))
				}
				// vote.Ranking: a group's first option, then the rest
				// marked level with it (^i).
				e := int32(i)
				if j > 0 {
					e = ^e
				}
				z.ranks = append(z.ranks, e)
			}
		}
		end := len(z.ranks)
		b.Ranking = z.ranks[start:end:end]
		out.Ranking = in.Ranking
	default:
		return bad("ballot", fmt.Sprintf("this proposal's method %s takes no ballot", m))
	}
	return out, b, nil
}
