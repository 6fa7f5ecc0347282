// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package ballotfile reads and writes ballot files so that any count can be
// redone outside opencoop: BLT (OpenSTV, Droop), PrefLib (.soc, .soi, .toc,
// .toi, tie groups {a,b}), star.vote CSV, the simple text format of
// testdata/elections/README.md, and opencoop's own JSON export, which alone
// keeps stakeholder classes and member weights.
//
// Readers return a [File]; [File.Input] turns it into a [vote.Input] for a
// counting method. Every syntax error names its line and wraps [ErrSyntax].
// Parsing is allocation-light: a PrefLib file of a million ballots is read
// into one backing array of rankings.
package ballotfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"opencoop/internal/vote"
)

// ErrSyntax is wrapped by every error about a file's content.
var ErrSyntax = errors.New("bad ballot file")

// Format names a ballot file format.
type Format string

// The formats. Auto asks [Detect] to choose.
const (
	Auto    Format = "auto"
	BLT     Format = "blt"
	PrefLib Format = "preflib"
	StarCSV Format = "starcsv"
	Text    Format = "text"
	JSON    Format = "json"
)

// Formats lists the formats Read accepts, Auto first.
var Formats = []Format{Auto, BLT, PrefLib, StarCSV, Text, JSON}

// File is a ballot file as read: the candidates, the ballots and whatever
// count parameters the file itself states.
type File struct {
	Title string
	// Names are the candidates' names, in file order; ballots refer to
	// them by index.
	Names []string
	// Seats is the number of seats the file states (BLT, text), or 0.
	Seats int
	// Withdrawn lists candidates a BLT file withdraws.
	Withdrawn []int
	// Scored reports that ballots carry Scores rather than Rankings.
	Scored  bool
	Ballots []vote.Ballot
	// Voters names each ballot's voter where the file may (the JSON export
	// of an open ballot); empty for secret ballots and other formats.
	Voters []string
	// Options, Classes, Weighting, EmptyClass, Method and Params are set by
	// the JSON format only; the others imply one class under equal weighting.
	Options    []vote.Option
	Classes    []vote.Class
	Weighting  vote.Weighting
	EmptyClass vote.EmptyClass
	Method     vote.Method
	Params     *vote.Params
}

// Detect guesses a file's format from its name and its first bytes.
func Detect(name string, head []byte) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".blt":
		return BLT
	case ".soc", ".soi", ".toc", ".toi":
		return PrefLib
	case ".json":
		return JSON
	case ".txt":
		return Text
	}
	s := strings.TrimLeft(string(head), " \t\r\n\ufeff")
	switch {
	case strings.HasPrefix(s, "{"):
		return JSON
	case strings.HasPrefix(s, "voterID,") || strings.HasPrefix(s, "\"voterID\","):
		return StarCSV
	case strings.HasPrefix(s, "# FILE NAME:") || strings.Contains(s, "# ALTERNATIVE NAME") || strings.Contains(s, "# DATA TYPE:"):
		return PrefLib
	case strings.Contains(strings.ToLower(s), "# candidates:"):
		return Text
	}
	// BLT starts with two integers: candidates and seats.
	if line, _, _ := strings.Cut(s, "\n"); line != "" {
		f := strings.Fields(line)
		if len(f) == 2 {
			if _, err := strconv.Atoi(f[0]); err == nil {
				if _, err := strconv.Atoi(f[1]); err == nil {
					return BLT
				}
			}
		}
	}
	if strings.HasSuffix(strings.ToLower(name), ".csv") {
		return StarCSV
	}
	return Text
}

// Read reads a ballot file in format f; with Auto the format is detected
// from name and content.
func Read(r io.Reader, name string, f Format) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("ballotfile: read %s: %w", name, err)
	}
	if f == Auto || f == "" {
		f = Detect(name, data[:min(len(data), 4096)])
	}
	switch f {
	case BLT:
		return ParseBLT(data)
	case PrefLib:
		return ParsePrefLib(data)
	case StarCSV:
		return ParseStarCSV(data)
	case Text:
		return ParseText(data)
	case JSON:
		return ParseJSON(data)
	}
	return nil, fmt.Errorf("ballotfile: unknown format %q", f)
}

// Write writes file in format f (BLT, PrefLib, JSON or, for small files
// whose names hold no separators, Text).
func Write(w io.Writer, file *File, f Format) error {
	bw := bufio.NewWriter(w)
	var err error
	switch f {
	case BLT:
		err = writeBLT(bw, file)
	case PrefLib:
		err = writePrefLib(bw, file)
	case JSON:
		err = writeJSON(bw, file)
	case Text:
		err = writeText(bw, file)
	default:
		return fmt.Errorf("ballotfile: cannot write format %q", f)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Input builds the count input for method m: one option per candidate
// (keyed by name, made unique), one class under equal weighting unless the
// file carries its own (JSON), and ballots in the form m reads. Rankings
// become approval or choice ballots (the first preference; level first
// preferences make a blank ballot) and score ballots become rankings
// (higher score first, equal scores level, score 0 unranked) or approvals
// (score above 0). When no conversion is needed the input shares the
// file's ballots.
func (file *File) Input(m vote.Method) (*vote.Input, error) {
	in := &vote.Input{
		Method:     m,
		Options:    file.Options,
		Classes:    file.Classes,
		Weighting:  file.Weighting,
		EmptyClass: file.EmptyClass,
	}
	if file.Params != nil {
		in.Params = *file.Params
	}
	if in.Options == nil {
		in.Options = OptionsOf(file.Names)
	}
	if in.Classes == nil {
		in.Classes = []vote.Class{{Key: "all", Weight: 100}}
	}
	if in.Weighting == "" {
		in.Weighting = vote.Equal
	}
	if in.Params.Seats == 0 {
		in.Params.Seats = file.Seats
	}
	if m.Fixed() {
		if file.Method != m {
			return nil, fmt.Errorf("ballotfile: %s ballots are only read from opencoop's JSON export", m)
		}
		in.Ballots = file.Ballots
		return in, nil
	}
	n := len(in.Options)
	if m.Ranked() && !file.Scored || m.Scored() && file.Scored {
		// Already in the form m reads: share the ballots rather than copy
		// a million of them.
		in.Ballots = file.Ballots
		return in, nil
	}
	in.Ballots = make([]vote.Ballot, len(file.Ballots))
	for i, b := range file.Ballots {
		nb := vote.Ballot{Weight: b.Weight, Class: b.Class, Delegated: b.Delegated}
		switch {
		case m.Ranked():
			nb.Ranking = b.Ranking
			if b.Scores != nil {
				nb.Ranking = rankScores(b.Scores)
			}
		case m.Scored():
			if b.Scores == nil && b.Ranking != nil {
				return nil, fmt.Errorf("ballotfile: %s needs score ballots, the file has rankings", m)
			}
			nb.Scores = b.Scores
		default: // choice, approval
			switch {
			case b.Choices != nil:
				nb.Choices = b.Choices
			case b.Scores != nil:
				for o, s := range b.Scores {
					if s > 0 {
						nb.Choices = append(nb.Choices, o)
					}
				}
			case len(b.Ranking) > 0:
				g := b.Ranking.Groups()[0]
				if m == vote.Approval || len(g) == 1 {
					nb.Choices = g
				}
			}
		}
		if nb.Scores != nil && len(nb.Scores) != n {
			return nil, fmt.Errorf("ballotfile: ballot %d has %d scores for %d candidates", i+1, len(nb.Scores), n)
		}
		in.Ballots[i] = nb
	}
	return in, nil
}

// OptionsOf makes one option per name, keyed by the name; a repeated name
// gets " (2)", " (3)"… so that keys stay unique.
func OptionsOf(names []string) []vote.Option {
	opts := make([]vote.Option, len(names))
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		key := name
		for k := 2; seen[key]; k++ {
			key = fmt.Sprintf("%s (%d)", name, k)
		}
		seen[key] = true
		opts[i] = vote.Option{Key: key, Label: name}
	}
	return opts
}

// rankScores ranks options by score, highest first, equal scores level;
// options scored 0 stay unranked.
func rankScores(scores []int) vote.Ranking {
	top := 0
	for _, s := range scores {
		top = max(top, s)
	}
	var groups [][]int
	for s := top; s > 0; s-- {
		var g []int
		for o, v := range scores {
			if v == s {
				g = append(g, o)
			}
		}
		if g != nil {
			groups = append(groups, g)
		}
	}
	return vote.RankingOf(groups)
}

// lines iterates over data line by line without allocating: it calls fn
// with each line (without its line break) and its 1-based number, and stops
// at the first error.
func lines(data []byte, fn func(line []byte, num int) error) error {
	num := 0
	for len(data) > 0 {
		num++
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if err := fn(line, num); err != nil {
			return err
		}
	}
	return nil
}

// syntax returns an error about line num.
func syntax(num int, format string, args ...any) error {
	return fmt.Errorf("ballotfile: line %d: %s: %w", num, fmt.Sprintf(format, args...), ErrSyntax)
}

// parseUint reads a decimal number at the start of b, returning it, the
// rest of b and whether there were digits. It refuses numbers above 2⁶².
func parseUint(b []byte) (int64, []byte, bool) {
	var v int64
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if v > (1<<62)/10 {
			return 0, b, false
		}
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, b[i:], i > 0
}

// cleanName makes a candidate name valid UTF-8 on one line, so that every
// format can write it back.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
