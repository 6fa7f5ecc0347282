// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"encoding/json"
	"fmt"
	"io"

	"opencoop/internal/vote"
)

// jsonVersion marks opencoop's JSON ballot export.
const jsonVersion = "opencoop-ballots/1"

// jsonFile is the JSON export: everything a count needs, so that a recount
// of the export gives exactly the stored result. Ballots name options by
// key and classes by key; secret ballots carry no voter.
type jsonFile struct {
	Format     string          `json:"format"`
	Title      string          `json:"title,omitempty"`
	Method     vote.Method     `json:"method,omitempty"`
	Params     *vote.Params    `json:"params,omitempty"`
	Seats      int             `json:"seats,omitempty"`
	Weighting  vote.Weighting  `json:"weighting,omitempty"`
	EmptyClass vote.EmptyClass `json:"empty_class,omitempty"`
	Classes    []vote.Class    `json:"classes,omitempty"`
	Options    []vote.Option   `json:"options"`
	Ballots    []jsonBallot    `json:"ballots"`
}

type jsonBallot struct {
	Weight    int64      `json:"weight"`
	Class     string     `json:"class,omitempty"`
	Delegated bool       `json:"delegated,omitempty"`
	Voter     string     `json:"voter,omitempty"`
	Choices   []string   `json:"choices,omitempty"`
	Scores    []int      `json:"scores,omitempty"`
	Ranking   [][]string `json:"ranking,omitempty"`
}

// ParseJSON parses opencoop's JSON ballot export.
func ParseJSON(data []byte) (*File, error) {
	var j jsonFile
	if err := json.Unmarshal(data, &j); err != nil {
		if se, ok := err.(*json.SyntaxError); ok {
			return nil, syntax(lineOf(data, se.Offset), "%v", err)
		}
		return nil, fmt.Errorf("ballotfile: json: %v: %w", err, ErrSyntax)
	}
	if j.Format != jsonVersion {
		return nil, fmt.Errorf("ballotfile: json: format %q, want %q: %w", j.Format, jsonVersion, ErrSyntax)
	}
	if len(j.Options) == 0 {
		return nil, fmt.Errorf("ballotfile: json: no options: %w", ErrSyntax)
	}
	f := &File{Title: j.Title, Method: j.Method, Params: j.Params, Seats: j.Seats, Weighting: j.Weighting,
		EmptyClass: j.EmptyClass, Classes: j.Classes, Options: j.Options}
	opt := make(map[string]int, len(j.Options))
	for i, o := range j.Options {
		o.Label = cleanName(o.Label)
		j.Options[i] = o
		if _, dup := opt[o.Key]; dup {
			return nil, fmt.Errorf("ballotfile: json: option %q twice: %w", o.Key, ErrSyntax)
		}
		opt[o.Key] = i
		f.Names = append(f.Names, o.Label)
	}
	class := make(map[string]int, len(j.Classes))
	for i, c := range j.Classes {
		class[c.Key] = i
	}
	seen := make([]int, len(j.Options))
	for i, jb := range j.Ballots {
		if jb.Weight <= 0 {
			return nil, fmt.Errorf("ballotfile: json: ballot %d: weight %d: %w", i+1, jb.Weight, ErrSyntax)
		}
		if jb.Scores != nil && len(jb.Scores) != len(j.Options) {
			return nil, fmt.Errorf("ballotfile: json: ballot %d: %d scores for %d options: %w", i+1, len(jb.Scores), len(j.Options), ErrSyntax)
		}
		b := vote.Ballot{Weight: jb.Weight, Delegated: jb.Delegated, Scores: jb.Scores}
		if jb.Class != "" || len(j.Classes) > 0 {
			k, ok := class[jb.Class]
			if !ok {
				return nil, fmt.Errorf("ballotfile: json: ballot %d: unknown class %q: %w", i+1, jb.Class, ErrSyntax)
			}
			b.Class = k
		}
		for _, c := range jb.Choices {
			o, ok := opt[c]
			if !ok {
				return nil, fmt.Errorf("ballotfile: json: ballot %d: unknown option %q: %w", i+1, c, ErrSyntax)
			}
			b.Choices = append(b.Choices, o)
		}
		if jb.Ranking != nil {
			groups := make([][]int, len(jb.Ranking))
			for gi, g := range jb.Ranking {
				for _, c := range g {
					o, ok := opt[c]
					if !ok {
						return nil, fmt.Errorf("ballotfile: json: ballot %d: unknown option %q: %w", i+1, c, ErrSyntax)
					}
					if seen[o] == i+1 {
						return nil, fmt.Errorf("ballotfile: json: ballot %d: option %q ranked twice: %w", i+1, c, ErrSyntax)
					}
					seen[o] = i + 1
					groups[gi] = append(groups[gi], o)
				}
			}
			b.Ranking = vote.RankingOf(groups)
		}
		if b.Scores != nil {
			f.Scored = true
		}
		f.Ballots = append(f.Ballots, b)
	}
	return f, nil
}

func lineOf(data []byte, off int64) int {
	line := 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
		}
	}
	return line
}

// writeJSON writes opencoop's JSON ballot export.
func writeJSON(w io.Writer, f *File) error {
	opts := f.Options
	if opts == nil {
		opts = OptionsOf(f.Names)
	}
	j := jsonFile{Format: jsonVersion, Title: f.Title, Method: f.Method, Params: f.Params, Seats: f.Seats,
		Weighting: f.Weighting, EmptyClass: f.EmptyClass, Classes: f.Classes, Options: opts,
		Ballots: make([]jsonBallot, len(f.Ballots))}
	for i, b := range f.Ballots {
		jb := jsonBallot{Weight: b.Weight, Delegated: b.Delegated, Scores: b.Scores}
		if i < len(f.Voters) {
			jb.Voter = f.Voters[i]
		}
		if len(f.Classes) > 0 && b.Class >= 0 && b.Class < len(f.Classes) {
			jb.Class = f.Classes[b.Class].Key
		}
		for _, c := range b.Choices {
			jb.Choices = append(jb.Choices, opts[c].Key)
		}
		if b.Ranking != nil {
			for _, g := range b.Ranking.Groups() {
				names := make([]string, len(g))
				for k, o := range g {
					names[k] = opts[o].Key
				}
				jb.Ranking = append(jb.Ranking, names)
			}
			if jb.Ranking == nil {
				jb.Ranking = [][]string{}
			}
		}
		j.Ballots[i] = jb
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(j); err != nil {
		return fmt.Errorf("ballotfile: write json: %w", err)
	}
	return nil
}
