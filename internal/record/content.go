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

// UnmarshalJSON accepts groups as arrays or as single keys.
func (r *Ranking) UnmarshalJSON(b []byte) error {
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

// Normalize checks in against a count's method, options and parameters and
// returns it in canonical form (one field set, keys in option order, every
// option scored) and as a vote.Ballot (weight and class left for the caller).
func (in Content) Normalize(m vote.Method, options []vote.Option, params vote.Params) (Content, vote.Ballot, error) {
	idx := make(map[string]int, len(options))
	for i, o := range options {
		idx[o.Key] = i
	}
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
		out.Choice, b.Choices = in.Choice, []int{i}
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
		picked := make([]bool, len(options))
		for _, k := range list {
			i, ok := idx[k]
			if !ok {
				return bad("choices", fmt.Sprintf("%q is not one of the options", k))
			}
			if picked[i] {
				return bad("choices", fmt.Sprintf("%q is chosen twice", k))
			}
			picked[i] = true
		}
		out.Choices = []string{}
		for i, o := range options {
			if picked[i] {
				out.Choices = append(out.Choices, o.Key)
				b.Choices = append(b.Choices, i)
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
		b.Scores = make([]int, len(options))
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
			sum += s
		}
		if m == vote.Dot && sum > params.Points {
			return bad("scores", fmt.Sprintf("%d points given, at most %d", sum, params.Points))
		}
		// Unrated options score the minimum (RULES.md 2.2).
		out.Scores = make(map[string]int, len(options))
		for i, o := range options {
			if _, ok := in.Scores[o.Key]; !ok {
				b.Scores[i] = lo
			}
			out.Scores[o.Key] = b.Scores[i]
		}
	case m.Ranked():
		if in.Ranking == nil {
			return bad("ranking", fmt.Sprintf("a %s ballot ranks options", m))
		}
		seen := make([]bool, len(options))
		groups := make([][]int, 0, len(in.Ranking))
		for _, g := range in.Ranking {
			if len(g) == 0 {
				return bad("ranking", "empty group")
			}
			var ig []int
			for _, k := range g {
				i, ok := idx[k]
				if !ok {
					return bad("ranking", fmt.Sprintf("%q is not one of the options", k))
				}
				if seen[i] {
					return bad("ranking", fmt.Sprintf("%q is ranked twice", k))
				}
				seen[i] = true
				ig = append(ig, i)
			}
			groups = append(groups, ig)
		}
		out.Ranking = in.Ranking
		b.Ranking = vote.RankingOf(groups)
	default:
		return bad("ballot", fmt.Sprintf("this proposal's method %s takes no ballot", m))
	}
	return out, b, nil
}
