// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"

	"opencoop/internal/vote"
)

// ParseStarCSV parses a star.vote CSV export: a header
// "voterID,voteTime,pollID,<candidate>…" and one ballot per row with integer
// scores (an empty cell scores 0). HTML entities in candidate names, as
// star.vote exports them (&quot;), are decoded.
func ParseStarCSV(data []byte) (*File, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	f := &File{Scored: true}
	first := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, syntax(pe.Line, "%v", pe.Err)
			}
			return nil, fmt.Errorf("ballotfile: star csv: %v: %w", err, ErrSyntax)
		}
		line, _ := cr.FieldPos(0)
		if f.Names == nil {
			if len(rec) < 1 {
				return nil, syntax(line, "empty header")
			}
			// star.vote puts voterID, voteTime and pollID first; tolerate
			// files that keep only some of them.
			for first < len(rec) && first < 3 && isMeta(rec[first]) {
				first++
			}
			for _, name := range rec[first:] {
				f.Names = append(f.Names, cleanName(html.UnescapeString(strings.TrimSpace(name))))
			}
			if len(f.Names) == 0 {
				return nil, syntax(line, "no candidates in the header")
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != first+len(f.Names) {
			return nil, syntax(line, "%d fields, want %d", len(rec), first+len(f.Names))
		}
		scores := make([]int, len(f.Names))
		for i, cell := range rec[first:] {
			cell = strings.TrimSpace(cell)
			if cell == "" {
				continue
			}
			v, err := strconv.Atoi(cell)
			if err != nil || v < 0 || v > 1000 {
				return nil, syntax(line, "bad score %q for %q", cell, f.Names[i])
			}
			scores[i] = v
		}
		f.Ballots = append(f.Ballots, vote.Ballot{Weight: 1, Scores: scores})
	}
	if f.Names == nil {
		return nil, fmt.Errorf("ballotfile: star csv: no header: %w", ErrSyntax)
	}
	return f, nil
}

func isMeta(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "voterid", "votetime", "pollid":
		return true
	}
	return false
}
