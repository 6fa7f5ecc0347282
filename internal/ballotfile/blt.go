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

// ParseBLT parses the BLT format of OpenSTV and Droop:
//
//	4 2            candidates and seats
//	-3             optional withdrawn candidates (negative numbers)
//	12 1 2 0       weight, preferences (1-based), 0 ends the ballot
//	3 2=4 1 0      "=" ranks candidates level
//	0              ends the ballots
//	"Name 1"       one quoted name per candidate
//	"Title"
//
// A ballot may start with an id in parentheses, "(a1) 1 2 3 0"; "-" marks a
// skipped rank and is ignored; text after '#' on a ballot line is a
// comment.
func ParseBLT(data []byte) (*File, error) {
	f := &File{}
	stage := 0 // 0 header, 1 withdrawn or ballots, 2 names, 3 title, 4 done
	ncand := 0
	var seen []int32
	var gen int32
	arena := make(vote.Ranking, 0, bytes.Count(data, []byte{' '})+1)
	err := lines(data, func(line []byte, num int) error {
		s := trimSpace(line)
		if stage <= 1 {
			if i := bytes.IndexByte(s, '#'); i >= 0 {
				s = trimSpace(s[:i])
			}
		}
		if len(s) == 0 {
			return nil
		}
		switch stage {
		case 0:
			fs := strings.Fields(string(s))
			if len(fs) != 2 {
				return syntax(num, "want \"candidates seats\"")
			}
			c, err1 := strconv.Atoi(fs[0])
			seats, err2 := strconv.Atoi(fs[1])
			if err1 != nil || err2 != nil || c < 1 || c > 1<<20 || seats < 0 {
				return syntax(num, "bad header %q", s)
			}
			ncand, f.Seats = c, seats
			seen = make([]int32, c+1)
			stage = 1
			return nil
		case 1:
			if s[0] == '-' {
				for _, tok := range strings.Fields(string(s)) {
					v, err := strconv.Atoi(tok)
					if err != nil || v >= 0 || -v > ncand {
						return syntax(num, "bad withdrawn candidate %q", tok)
					}
					f.Withdrawn = append(f.Withdrawn, -v-1)
				}
				return nil
			}
			if s[0] == '(' {
				i := bytes.IndexByte(s, ')')
				if i < 0 {
					return syntax(num, "unclosed ballot id")
				}
				s = trimSpace(s[i+1:])
			}
			w, rest, ok := parseUint(s)
			if !ok {
				return syntax(num, "want a ballot weight, got %q", firstToken(s))
			}
			if w == 0 && len(trimSpace(rest)) == 0 {
				stage = 2
				return nil
			}
			gen++
			start := len(arena)
			ended := false
			for {
				rest = trimSpace(rest)
				if len(rest) == 0 {
					break
				}
				if ended {
					return syntax(num, "preferences after the closing 0")
				}
				if rest[0] == '-' {
					rest = rest[1:]
					continue
				}
				level := false
				for {
					v, r2, ok := parseUint(rest)
					if !ok {
						return syntax(num, "unexpected %q", firstToken(rest))
					}
					rest = r2
					if v == 0 && !level {
						ended = true
						break
					}
					if v < 1 || v > int64(ncand) {
						return syntax(num, "candidate %d out of range 1..%d", v, ncand)
					}
					if seen[v] == gen {
						return syntax(num, "candidate %d ranked twice", v)
					}
					seen[v] = gen
					e := int32(v - 1)
					if level {
						e = ^e
					}
					arena = append(arena, e)
					if len(rest) > 0 && rest[0] == '=' {
						rest = rest[1:]
						level = true
						continue
					}
					break
				}
			}
			if !ended {
				return syntax(num, "ballot does not end with 0")
			}
			if w > 0 {
				f.Ballots = append(f.Ballots, vote.Ballot{Weight: w, Ranking: arena[start:len(arena):len(arena)]})
			}
			return nil
		case 2, 3:
			name, err := unquote(s)
			if err != nil {
				return syntax(num, "%v", err)
			}
			if stage == 3 {
				f.Title = cleanName(name)
				stage = 4
				return nil
			}
			f.Names = append(f.Names, cleanName(name))
			if len(f.Names) == ncand {
				stage = 3
			}
			return nil
		}
		return syntax(num, "text after the title")
	})
	if err != nil {
		return nil, err
	}
	if stage < 3 {
		if stage < 2 {
			return nil, fmt.Errorf("ballotfile: blt: missing the 0 line that ends the ballots: %w", ErrSyntax)
		}
		return nil, fmt.Errorf("ballotfile: blt: %d candidate names, want %d: %w", len(f.Names), ncand, ErrSyntax)
	}
	if len(f.Withdrawn) > 0 {
		// Withdrawn candidates are dropped from every ranking.
		out := map[int32]bool{}
		for _, c := range f.Withdrawn {
			out[int32(c)] = true
		}
		for i := range f.Ballots {
			var groups [][]int
			for _, g := range f.Ballots[i].Ranking.Groups() {
				var ng []int
				for _, o := range g {
					if !out[int32(o)] {
						ng = append(ng, o)
					}
				}
				if ng != nil {
					groups = append(groups, ng)
				}
			}
			f.Ballots[i].Ranking = vote.RankingOf(groups)
		}
	}
	return f, nil
}

func unquote(s []byte) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(string(s)); err == nil {
			return u, nil
		}
		return string(s[1 : len(s)-1]), nil
	}
	if bytes.IndexByte(s, '"') >= 0 {
		return "", fmt.Errorf("bad quoted name %q", s)
	}
	return string(s), nil
}

// writeBLT writes the BLT format; level groups use "=". Class and member
// weighting are not representable: a ballot's weight is written as is.
func writeBLT(w io.Writer, f *File) error {
	seats := max(f.Seats, 1)
	fmt.Fprintf(w, "%d %d\n", len(f.Names), seats)
	if len(f.Withdrawn) > 0 {
		for i, c := range f.Withdrawn {
			if i > 0 {
				fmt.Fprint(w, " ")
			}
			fmt.Fprintf(w, "-%d", c+1)
		}
		fmt.Fprintln(w)
	}
	var buf []byte
	def := f.defaultIndex()
	for _, b := range f.Ballots {
		r := f.written(&b, def)
		buf = strconv.AppendInt(buf[:0], b.Weight, 10)
		for _, e := range r {
			if e < 0 {
				buf = append(buf, '=')
				buf = strconv.AppendInt(buf, int64(^e)+1, 10)
			} else {
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, int64(e)+1, 10)
			}
		}
		buf = append(buf, " 0\n"...)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("ballotfile: write blt: %w", err)
		}
	}
	fmt.Fprintln(w, "0")
	for _, n := range f.Names {
		fmt.Fprintln(w, strconv.Quote(n))
	}
	_, err := fmt.Fprintln(w, strconv.Quote(f.Title))
	if err != nil {
		return fmt.Errorf("ballotfile: write blt: %w", err)
	}
	return nil
}

// defaultIndex returns the index of a Schulze file's default option, or -1.
func (f *File) defaultIndex() int {
	if f.Method != vote.Schulze || f.Params == nil || f.Params.DefaultOption == "" {
		return -1
	}
	for i, n := range f.Names {
		if n == f.Params.DefaultOption {
			return i
		}
	}
	return -1
}

// written is b's ranking as BLT and PrefLib write it: scores as a ranking,
// and with a default option (def ≥ 0) the options b leaves out spelled
// level with it, as the count read them (RULES.md 2.2), because these
// formats read a left-out option as ranked below all.
func (f *File) written(b *vote.Ballot, def int) vote.Ranking {
	if b.Scores != nil {
		return rankScores(b.Scores)
	}
	if def >= 0 {
		return b.Ranking.LevelWithDefault(def, len(f.Names))
	}
	return b.Ranking
}
