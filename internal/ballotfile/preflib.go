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

// ParsePrefLib parses a PrefLib order file in the current format (header
// lines "# KEY: value", data lines "COUNT: ORDER" such as "13: 1,{4,3},2")
// or the legacy one (a first line with the number of alternatives, then
// "i,name" lines, a "voters,sum,unique" line and "COUNT,ORDER" lines).
// Alternatives are numbered from 1; {a,b} ranks a and b level; unlisted
// alternatives stay unranked.
//
// It makes a fixed number of allocations whatever the number of ballots:
// every ranking is a slice of one backing array sized by a first scan.
func ParsePrefLib(data []byte) (*File, error) {
	p := &preflib{f: &File{}}
	nl := bytes.Count(data, []byte{'\n'}) + 1
	p.arena = make(vote.Ranking, 0, bytes.Count(data, []byte{','})+nl)
	p.f.Ballots = make([]vote.Ballot, 0, nl)
	if isLegacy(data) {
		p.legacy = true
	}
	if err := lines(data, p.line); err != nil {
		return nil, err
	}
	if p.nalt == 0 && len(p.f.Names) == 0 {
		return nil, fmt.Errorf("ballotfile: no alternatives declared: %w", ErrSyntax)
	}
	p.names()
	return p.f, nil
}

type preflib struct {
	f        *File
	arena    vote.Ranking
	nalt     int
	seen     []int32
	gen      int32
	legacy   bool
	legacyAt int // legacy: 0 count line, 1 names, 2 totals line, 3 data
}

// isLegacy reports whether data starts like the legacy PrefLib format: a
// first non-comment line that is a bare number.
func isLegacy(data []byte) bool {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line = data[:i]
		}
		line = trimSpace(bytes.TrimRight(line, "\r"))
		if len(line) > 0 && line[0] != '#' {
			_, rest, ok := parseUint(line)
			return ok && len(rest) == 0
		}
		if i < 0 {
			break
		}
		data = data[i+1:]
	}
	return false
}

func (p *preflib) line(line []byte, num int) error {
	line = trimSpace(line)
	if len(line) == 0 {
		return nil
	}
	if line[0] == '#' {
		if !p.legacy {
			return p.header(line, num)
		}
		return nil
	}
	if p.legacy {
		switch p.legacyAt {
		case 0:
			v, _, _ := parseUint(line)
			if v > 1<<20 {
				return syntax(num, "%d alternatives", v)
			}
			p.nalt = int(v)
			p.legacyAt = 1
			if p.nalt == 0 {
				p.legacyAt = 2
			}
			return nil
		case 1:
			_, rest, ok := parseUint(line)
			if !ok || len(rest) == 0 || rest[0] != ',' {
				return syntax(num, "want \"number,name\"")
			}
			p.f.Names = append(p.f.Names, cleanName(string(trimSpace(rest[1:]))))
			if len(p.f.Names) == p.nalt {
				p.legacyAt = 2
			}
			return nil
		case 2:
			p.legacyAt = 3 // voters, sum of counts, unique orders
			return nil
		}
		count, rest, ok := parseUint(line)
		if !ok || len(rest) == 0 || rest[0] != ',' {
			return syntax(num, "want \"count,order\"")
		}
		return p.order(count, rest[1:], num)
	}
	count, rest, ok := parseUint(line)
	rest = trimSpace(rest)
	if !ok || len(rest) == 0 || rest[0] != ':' {
		return syntax(num, "want \"count: order\"")
	}
	return p.order(count, rest[1:], num)
}

func (p *preflib) header(line []byte, num int) error {
	key, val, ok := strings.Cut(string(trimSpace(line[1:])), ":")
	if !ok {
		return nil
	}
	val = strings.TrimSpace(val)
	switch {
	case key == "NUMBER ALTERNATIVES":
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 || v > 1<<20 {
			return syntax(num, "bad number of alternatives %q", val)
		}
		p.nalt = v
	case key == "TITLE":
		p.f.Title = val
	case strings.HasPrefix(key, "ALTERNATIVE NAME "):
		i, err := strconv.Atoi(strings.TrimPrefix(key, "ALTERNATIVE NAME "))
		if err != nil || i < 1 || i > 1<<20 {
			return syntax(num, "bad alternative number in %q", key)
		}
		for len(p.f.Names) < i {
			p.f.Names = append(p.f.Names, "")
		}
		// Some PrefLib files quote names: "Carol Becker".
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		p.f.Names[i-1] = cleanName(val)
	}
	return nil
}

// order parses one order (after the count) and appends the ballot.
func (p *preflib) order(count int64, b []byte, num int) error {
	if p.seen == nil {
		p.nalt = max(p.nalt, len(p.f.Names))
		if p.nalt == 0 {
			return syntax(num, "ballot before any alternative is declared")
		}
		p.seen = make([]int32, p.nalt+1)
	}
	if count == 0 {
		return nil
	}
	p.gen++
	start := len(p.arena)
	inGroup, groupStart := false, false
	expectItem := true
	for {
		b = trimSpace(b)
		if len(b) == 0 {
			break
		}
		switch c := b[0]; {
		case c == '{':
			if inGroup || !expectItem {
				return syntax(num, "unexpected '{'")
			}
			inGroup, groupStart = true, true
			b = b[1:]
			continue
		case c == '}':
			if !inGroup || expectItem && !groupStart {
				return syntax(num, "unexpected '}'")
			}
			inGroup = false
			expectItem = false
			b = b[1:]
			continue
		case c == ',':
			if expectItem {
				return syntax(num, "unexpected ','")
			}
			expectItem = true
			b = b[1:]
			continue
		}
		if !expectItem {
			return syntax(num, "missing ',' before %q", firstToken(b))
		}
		v, rest, ok := parseUint(b)
		if !ok {
			return syntax(num, "unexpected %q", firstToken(b))
		}
		if v < 1 || v > int64(p.nalt) {
			return syntax(num, "alternative %d out of range 1..%d", v, p.nalt)
		}
		if p.seen[v] == p.gen {
			return syntax(num, "alternative %d ranked twice", v)
		}
		p.seen[v] = p.gen
		e := int32(v - 1)
		if inGroup && !groupStart {
			e = ^e
		}
		groupStart = false
		p.arena = append(p.arena, e)
		expectItem = false
		b = rest
	}
	if inGroup {
		return syntax(num, "unclosed '{'")
	}
	if expectItem && len(p.arena) > start {
		return syntax(num, "trailing ','")
	}
	p.f.Ballots = append(p.f.Ballots, vote.Ballot{Weight: count, Ranking: p.arena[start:len(p.arena):len(p.arena)]})
	return nil
}

// names fills in missing names with the alternative's number.
func (p *preflib) names() {
	for len(p.f.Names) < p.nalt {
		p.f.Names = append(p.f.Names, "")
	}
	for i, n := range p.f.Names {
		if n == "" {
			p.f.Names[i] = strconv.Itoa(i + 1)
		}
	}
}

func firstToken(b []byte) string {
	if i := bytes.IndexAny(b, ", {}"); i > 0 {
		b = b[:i]
	}
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

// writePrefLib writes the current PrefLib format, merging identical
// rankings in order of first appearance. Class and member weighting are not
// representable: a ballot's weight becomes its count.
func writePrefLib(w io.Writer, f *File) error {
	type line struct {
		r     vote.Ranking
		count int64
	}
	var order []*line
	index := map[string]*line{}
	ties, complete := false, true
	var key []byte
	voters := int64(0)
	def := f.defaultIndex()
	for _, b := range f.Ballots {
		r := f.written(&b, def)
		key = key[:0]
		for _, e := range r {
			if e < 0 {
				ties = true
			}
			key = strconv.AppendInt(key, int64(e), 10)
			key = append(key, ',')
		}
		if len(r) != len(f.Names) {
			complete = false
		}
		voters += b.Weight
		if l, ok := index[string(key)]; ok {
			l.count += b.Weight
			continue
		}
		l := &line{r, b.Weight}
		index[string(key)] = l
		order = append(order, l)
	}
	typ := "so"
	if ties {
		typ = "to"
	}
	if complete {
		typ += "c"
	} else {
		typ += "i"
	}
	fmt.Fprintf(w, "# FILE NAME: ballots.%s\n# TITLE: %s\n# DATA TYPE: %s\n", typ, oneLine(f.Title), typ)
	fmt.Fprintf(w, "# NUMBER ALTERNATIVES: %d\n# NUMBER VOTERS: %d\n# NUMBER UNIQUE ORDERS: %d\n", len(f.Names), voters, len(order))
	for i, n := range f.Names {
		fmt.Fprintf(w, "# ALTERNATIVE NAME %d: %s\n", i+1, oneLine(n))
	}
	var buf []byte
	for _, l := range order {
		buf = strconv.AppendInt(buf[:0], l.count, 10)
		buf = append(buf, ':')
		for gi, g := range l.r.Groups() {
			if gi == 0 {
				buf = append(buf, ' ')
			} else {
				buf = append(buf, ',')
			}
			if len(g) > 1 {
				buf = append(buf, '{')
			}
			for j, o := range g {
				if j > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendInt(buf, int64(o+1), 10)
			}
			if len(g) > 1 {
				buf = append(buf, '}')
			}
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("ballotfile: write preflib: %w", err)
		}
	}
	return nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
