// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"opencoop/internal/vote"
)

// ParseText parses the simple hand-written format of
// testdata/elections/README.md:
//
//	# candidates: A, B, C   (required, before any ballot)
//	# seats: 3              (optional)
//	12: A>B>C               ranked ballot; '>' preferred to, '=' level
//	10: A=5 B=3 C=0         score ballot; unlisted candidates score 0
//
// The count prefix may be left out (1). A file holds ranked or score
// ballots, not both; other '#' lines are comments.
func ParseText(data []byte) (*File, error) {
	f := &File{}
	index := map[string]int{}
	kind := 0 // 1 ranked, 2 scored
	var seen []int
	gen := 0
	err := lines(data, func(line []byte, num int) error {
		s := strings.TrimSpace(string(line))
		if s == "" {
			return nil
		}
		if s[0] == '#' {
			key, val, ok := strings.Cut(strings.TrimSpace(s[1:]), ":")
			if !ok {
				return nil
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "candidates":
				if f.Names != nil {
					return syntax(num, "candidates declared twice")
				}
				for _, n := range strings.Split(val, ",") {
					n = cleanName(strings.TrimSpace(n))
					if n == "" {
						return syntax(num, "empty candidate name")
					}
					if _, dup := index[n]; dup {
						return syntax(num, "candidate %q declared twice", n)
					}
					index[n] = len(f.Names)
					f.Names = append(f.Names, n)
				}
				seen = make([]int, len(f.Names))
			case "seats":
				v, err := strconv.Atoi(strings.TrimSpace(val))
				if err != nil || v < 1 {
					return syntax(num, "bad seats %q", strings.TrimSpace(val))
				}
				f.Seats = v
			}
			return nil
		}
		if f.Names == nil {
			return syntax(num, "ballot before \"# candidates:\"")
		}
		count := int64(1)
		if c, rest, ok := strings.Cut(s, ":"); ok {
			v, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
			if err != nil || v < 0 {
				return syntax(num, "bad count %q", strings.TrimSpace(c))
			}
			count, s = v, strings.TrimSpace(rest)
		}
		gen++
		b := vote.Ballot{Weight: count}
		if scores, ok, err := parseScores(s, index, seen, gen); ok {
			if err != nil {
				return syntax(num, "%v", err)
			}
			if kind == 1 {
				return syntax(num, "score ballot in a file of ranked ballots")
			}
			kind = 2
			b.Scores = scores
		} else {
			if kind == 2 {
				return syntax(num, "ranked ballot in a file of score ballots")
			}
			kind = 1
			var groups [][]int
			if s != "" {
				for _, g := range strings.Split(s, ">") {
					var grp []int
					for _, name := range strings.Split(g, "=") {
						name = strings.TrimSpace(name)
						o, ok := index[name]
						if !ok {
							return syntax(num, "unknown candidate %q", name)
						}
						if seen[o] == gen {
							return syntax(num, "candidate %q ranked twice", name)
						}
						seen[o] = gen
						grp = append(grp, o)
					}
					groups = append(groups, grp)
				}
			}
			b.Ranking = vote.RankingOf(groups)
		}
		if count > 0 {
			f.Ballots = append(f.Ballots, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.Names == nil {
		return nil, fmt.Errorf("ballotfile: text: no \"# candidates:\" line: %w", ErrSyntax)
	}
	f.Scored = kind == 2
	return f, nil
}

// parseScores reads "A=5 B=3"; ok is false when s is not a score line (a
// token without "=integer"), so that "A=B>C" reads as a ranking.
func parseScores(s string, index map[string]int, seen []int, gen int) ([]int, bool, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 || strings.Contains(s, ">") {
		return nil, false, nil
	}
	type pair struct{ o, v int }
	pairs := make([]pair, 0, len(fields))
	for _, tok := range fields {
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, false, nil
		}
		v, err := strconv.Atoi(val)
		if err != nil {
			return nil, false, nil
		}
		o, known := index[name]
		if !known {
			return nil, true, fmt.Errorf("unknown candidate %q", name)
		}
		pairs = append(pairs, pair{o, v})
	}
	scores := make([]int, len(index))
	for _, p := range pairs {
		if seen[p.o] == gen {
			return nil, true, fmt.Errorf("candidate scored twice")
		}
		seen[p.o] = gen
		scores[p.o] = p.v
	}
	return scores, true, nil
}

// writeText is used by tests and tools to print small files.
func writeText(w io.Writer, f *File) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# candidates: %s\n", strings.Join(f.Names, ", "))
	if f.Seats > 0 {
		fmt.Fprintf(&buf, "# seats: %d\n", f.Seats)
	}
	for _, b := range f.Ballots {
		fmt.Fprintf(&buf, "%d: ", b.Weight)
		if b.Scores != nil {
			for o, s := range b.Scores {
				if o > 0 {
					buf.WriteByte(' ')
				}
				fmt.Fprintf(&buf, "%s=%d", f.Names[o], s)
			}
		} else {
			for gi, g := range b.Ranking.Groups() {
				if gi > 0 {
					buf.WriteByte('>')
				}
				for j, o := range g {
					if j > 0 {
						buf.WriteByte('=')
					}
					buf.WriteString(f.Names[o])
				}
			}
		}
		buf.WriteByte('\n')
	}
	_, err := w.Write(buf.Bytes())
	if err != nil {
		return fmt.Errorf("ballotfile: write text: %w", err)
	}
	return nil
}
