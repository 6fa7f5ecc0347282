// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/vote"
)

// seed adds the conformance files with one of exts (and the committed
// corpus under testdata/fuzz, which go test reads by itself) to f.
func seed(f *testing.F, exts ...string) {
	for _, ext := range exts {
		paths, _ := filepath.Glob("../../testdata/elections/*/*" + ext)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > 4<<10 {
				data = data[:4<<10]
			}
			f.Add(data)
		}
	}
}

// fuzzParse checks a parser never panics, errors only with ErrSyntax, and
// that what it reads survives a PrefLib and JSON round trip and can be
// counted.
func fuzzParse(t *testing.T, data []byte, parse func([]byte) (*File, error)) {
	f, err := parse(data)
	if err != nil {
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("parse error %v does not wrap ErrSyntax", err)
		}
		return
	}
	for _, b := range f.Ballots {
		if b.Weight <= 0 {
			t.Fatalf("ballot weight %d", b.Weight)
		}
		for _, e := range b.Ranking {
			if o := max(e, ^e); int(o) >= len(f.Names) {
				t.Fatalf("ranking %v refers to option %d of %d", b.Ranking, o, len(f.Names))
			}
		}
	}
	formats := []Format{JSON}
	if !f.Scored {
		formats = append(formats, PrefLib, BLT)
	}
	for _, format := range formats {
		var buf bytes.Buffer
		if err := Write(&buf, f, format); err != nil {
			t.Fatalf("Write(%s): %v", format, err)
		}
		g, err := Read(&buf, "x", format)
		if err != nil {
			t.Fatalf("Read(Write(%s)): %v\n%s", format, err, buf.Bytes())
		}
		want, got := simplifyBy(f, format != JSON), simplifyBy(g, format != JSON)
		want.Seats, got.Seats = 0, 0
		if format == PrefLib {
			want, got = merged(want), merged(got)
		}
		if format != JSON {
			// BLT and PrefLib carry no names' quoting or blank names.
			want.Names, got.Names = nil, nil
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Read(Write(%s)) (-want +got):\n%s", format, diff)
		}
	}
	if len(f.Names) > 0 && len(f.Names) <= 50 && len(f.Ballots) <= 1000 {
		m := vote.IRV
		if f.Scored {
			m = vote.STAR
		}
		in, err := f.Input(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vote.Count(in); err != nil && m == vote.IRV {
			t.Fatalf("Count(%s): %v", m, err)
		}
	}
}

func FuzzReadPrefLib(f *testing.F) {
	seed(f, ".soi", ".toi")
	f.Add([]byte("3\n1,A\n2,B\n3,C\n2,2,2\n1,1,{2,3}\n1,3\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, ParsePrefLib) })
}

func FuzzReadBLT(f *testing.F) {
	f.Add([]byte("3 2\n-2\n4 1 3 0\n(id7) 2 3=1 0\n0\n\"Ann\"\n\"Bob\"\n\"Cy\"\n\"Title\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, ParseBLT) })
}

func FuzzReadText(f *testing.F) {
	seed(f, ".txt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, ParseText) })
}

func FuzzReadStarCSV(f *testing.F) {
	seed(f, ".csv")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, ParseStarCSV) })
}

func FuzzReadJSON(f *testing.F) {
	f.Add([]byte(`{"format":"opencoop-ballots/1","options":[{"key":"a","label":"A"},{"key":"b","label":"B"}],"ballots":[{"weight":2,"ranking":[["b"],["a"]]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, data, ParseJSON) })
}
