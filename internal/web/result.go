// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"opencoop/internal/govern"
	"opencoop/internal/vote"
)

// resultView is a closed proposal's count laid out for the page: the
// outcome, the weighted total per option (also drawn as bars), each
// class's own counts and the rule that was applied.
type resultView struct {
	Outcome       string
	Winners       []string
	Support       string
	Rule          string
	Seed          string
	TieBroken     []string
	Rows          []resultRow
	Chart         chart
	OptionLabels  []string
	Classes       []classCountRow
	Participation *vote.Participation
	Rounds        []roundRow
	// Split: the rows say how much of each total came from direct
	// ballots and how much through delegation (RULES.md 2.4).
	Split bool
	// DirectWeight and DelegatedWeight sum the member weights that voted
	// directly and through delegation; ClassSplit: the class table shows
	// the same per class. Results counted before delegation have neither.
	DirectWeight, DelegatedWeight int64
	ClassSplit                    bool
}

type resultRow struct {
	Key, Label, Value string
	Direct, Delegated string
	Winner            bool
}

type classCountRow struct {
	Key                                string
	Weight, Electorate, Ballots, Valid int64
	// Direct and Delegated split Ballots by how they arrived.
	Direct, Delegated int64
	Counts            []countCell
	Majority          string
}

// countCell is one option's count in a class, with the part of it that
// came through delegation.
type countCell struct {
	N, Delegated int64
}

type roundRow struct {
	Number            int
	Counts            []string
	Elected, Excluded string
	Note              string
}

// chart is a horizontal bar chart drawn as inline SVG, laid out here so
// the template only places what is computed.
type chart struct {
	Width, Height int
	Bars          []bar
}

type bar struct {
	Label, Value string
	LabelY, BarY int
	Width        float64
	ValueX       float64
	Winner       bool
}

// Layout of the chart, in SVG user units.
const (
	chartWidth  = 320
	chartBarMax = 250
	chartRow    = 40
	chartBarH   = 16
)

func newResultView(p *govern.Proposal) *resultView {
	res := p.Result
	v := &resultView{Outcome: string(res.Outcome), Rule: res.Rule, Seed: res.Seed, Participation: res.Participation,
		DirectWeight: res.DirectWeight, DelegatedWeight: res.DelegatedWeight}
	label := func(k string) string {
		for _, o := range p.Options {
			if o.Key == k {
				return o.Label
			}
		}
		return k
	}
	for _, k := range res.Winners {
		v.Winners = append(v.Winners, label(k))
	}
	for _, k := range res.TieBroken {
		v.TieBroken = append(v.TieBroken, label(k))
	}
	if res.Support != nil {
		v.Support = percentOf(res.Support.Rat())
	}
	winner := map[string]bool{}
	for _, k := range res.Winners {
		winner[k] = true
	}
	// Older results, and counts in which nobody's vote was delegated,
	// have no split.
	v.Split = res.Direct != nil || res.Delegated != nil
	var max float64
	for _, o := range p.Options {
		n, ok := res.Weighted[o.Key]
		if !ok {
			continue
		}
		row := resultRow{Key: o.Key, Label: o.Label, Value: n.String(), Winner: winner[o.Key]}
		if v.Split {
			row.Direct, row.Delegated = numOr0(res.Direct, o.Key), numOr0(res.Delegated, o.Key)
		}
		v.Rows = append(v.Rows, row)
		if f := n.Float(); f > max {
			max = f
		}
	}
	v.Chart.Width = chartWidth
	for i, row := range v.Rows {
		f := res.Weighted[row.Key].Float()
		w := 0.0
		if max > 0 {
			w = f / max * chartBarMax
		}
		if w < 1 && f > 0 {
			w = 1
		}
		v.Chart.Bars = append(v.Chart.Bars, bar{Label: row.Label, Value: row.Value, LabelY: i*chartRow + 13,
			BarY: i*chartRow + 18, Width: w, ValueX: w + 6, Winner: row.Winner})
	}
	v.Chart.Height = len(v.Rows)*chartRow + 4
	for _, o := range p.Options {
		v.OptionLabels = append(v.OptionLabels, o.Label)
	}
	var keys []string
	seen := map[string]bool{}
	for _, c := range p.Classes {
		if _, ok := res.Classes[c.Key]; ok {
			keys = append(keys, c.Key)
			seen[c.Key] = true
		}
	}
	var rest []string
	for k := range res.Classes {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range append(keys, rest...) {
		cc := res.Classes[k]
		if cc == nil {
			continue
		}
		row := classCountRow{Key: k, Weight: cc.Weight, Electorate: cc.Electorate, Ballots: cc.Ballots, Valid: cc.Valid,
			Direct: cc.Direct, Delegated: cc.Delegated}
		for _, o := range p.Options {
			row.Counts = append(row.Counts, countCell{N: cc.Counts[o.Key], Delegated: cc.DelegatedCounts[o.Key]})
		}
		v.ClassSplit = v.ClassSplit || cc.Delegated > 0
		if cc.Majority != nil {
			row.Majority = map[bool]string{true: "yes", false: "no"}[*cc.Majority]
		}
		v.Classes = append(v.Classes, row)
	}
	for _, rd := range res.Rounds {
		row := roundRow{Number: rd.Number, Elected: labels(rd.Elected, label), Excluded: labels(rd.Excluded, label), Note: rd.Note}
		for _, o := range p.Options {
			if n, ok := rd.Counts[o.Key]; ok {
				row.Counts = append(row.Counts, n.String())
			} else {
				row.Counts = append(row.Counts, "–")
			}
		}
		v.Rounds = append(v.Rounds, row)
	}
	return v
}

// numOr0 writes m[k], or 0 when m has no entry for k.
func numOr0(m map[string]vote.Num, k string) string {
	if n, ok := m[k]; ok {
		return n.String()
	}
	return "0"
}

func labels(keys []string, label func(string) string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = label(k)
	}
	return strings.Join(out, ", ")
}

// percentOf writes a share (0..1) as a percentage with one decimal.
func percentOf(r *big.Rat) string {
	p := new(big.Rat).Mul(r, big.NewRat(100, 1))
	s := p.FloatString(1)
	s = strings.TrimSuffix(s, ".0")
	return fmt.Sprintf("%s%%", s)
}
