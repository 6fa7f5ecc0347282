// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/vote"
)

// simple is a readable form of a File for comparisons.
type simple struct {
	Names   []string
	Seats   int
	Ballots []string
}

func simplify(f *File) simple { return simplifyBy(f, false) }

// simplifyBy names options by number when byIndex is set or names would be
// ambiguous.
func simplifyBy(f *File, byIndex bool) simple {
	names := f.Names
	for _, n := range names {
		if byIndex || n == "" || strings.ContainsAny(n, "=>:") {
			// Name ballots by number when names would be ambiguous.
			names = make([]string, len(f.Names))
			for i := range names {
				names[i] = "#" + itoa(int64(i+1))
			}
			break
		}
	}
	s := simple{Names: f.Names, Seats: f.Seats}
	for _, b := range f.Ballots {
		var sb strings.Builder
		sb.WriteString(itoa(b.Weight) + ":")
		if b.Scores != nil {
			for o, v := range b.Scores {
				sb.WriteString(" " + names[o] + "=" + itoa(int64(v)))
			}
		}
		for gi, g := range b.Ranking.Groups() {
			if gi > 0 {
				sb.WriteString(">")
			} else {
				sb.WriteString(" ")
			}
			for j, o := range g {
				if j > 0 {
					sb.WriteString("=")
				}
				sb.WriteString(names[o])
			}
		}
		s.Ballots = append(s.Ballots, sb.String())
	}
	return s
}

func itoa(v int64) string { return string(appendInt(nil, v)) }

func appendInt(b []byte, v int64) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		want   simple
	}{
		{"preflib", PrefLib, "# NUMBER ALTERNATIVES: 3\n# ALTERNATIVE NAME 1: Ann\n# ALTERNATIVE NAME 2: \"Bob\"\n# ALTERNATIVE NAME 3: Cy\n13: 1,{3,2}\n2: 2\n1: {1,2,3}\n",
			simple{Names: []string{"Ann", "Bob", "Cy"}, Ballots: []string{"13: Ann>Cy=Bob", "2: Bob", "1: Ann=Bob=Cy"}}},
		{"preflib without names", PrefLib, "# NUMBER ALTERNATIVES: 2\n5: 2, 1\r\n",
			simple{Names: []string{"1", "2"}, Ballots: []string{"5: 2>1"}}},
		{"preflib legacy", PrefLib, "3\n1,Ann\n2,Bob\n3,Cy\n14,14,2\n13,1,{3,2}\n1,2\n",
			simple{Names: []string{"Ann", "Bob", "Cy"}, Ballots: []string{"13: Ann>Cy=Bob", "1: Bob"}}},
		{"blt", BLT, "3 2\n-2\n4 1 3 0\n(id7) 2 3=1 0\n0\n\"Ann\"\n\"Bob\"\n\"Cy\"\n\"Title\"\n",
			simple{Names: []string{"Ann", "Bob", "Cy"}, Seats: 2, Ballots: []string{"4: Ann>Cy", "2: Cy=Ann"}}},
		{"text ranked", Text, "# candidates: A, B, C\n# seats: 2\n12: A>B>C\n5: A=B>C\nB\n",
			simple{Names: []string{"A", "B", "C"}, Seats: 2, Ballots: []string{"12: A>B>C", "5: A=B>C", "1: B"}}},
		{"text scores", Text, "# candidates: A, B\n10: A=5 B=3\n2: B=1\n",
			simple{Names: []string{"A", "B"}, Ballots: []string{"10: A=5 B=3", "2: A=0 B=1"}}},
		{"star csv", StarCSV, "voterID,voteTime,pollID,\"A &quot;1&quot;\",B\nx,\"2020-01-01\",p,5,\n",
			simple{Names: []string{"A \"1\"", "B"}, Ballots: []string{"1: A \"1\"=5 B=0"}}},
		{"json", JSON, `{"format":"opencoop-ballots/1","options":[{"key":"a","label":"A"},{"key":"b","label":"B"}],"ballots":[{"weight":2,"ranking":[["b"],["a"]]}]}`,
			simple{Names: []string{"A", "B"}, Ballots: []string{"2: B>A"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(strings.NewReader(tc.in), "x", tc.format)
			if err != nil {
				t.Fatalf("Read(%s) error: %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, simplify(f)); diff != "" {
				t.Errorf("Read(%s) (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		in     string
		line   string
	}{
		{"preflib out of range", PrefLib, "# NUMBER ALTERNATIVES: 2\n1: 1,2\n3: 3\n", "line 3"},
		{"preflib twice", PrefLib, "# NUMBER ALTERNATIVES: 2\n1: 1,1\n", "line 2"},
		{"preflib unclosed", PrefLib, "# NUMBER ALTERNATIVES: 3\n\n1: {1,2\n", "line 3"},
		{"preflib no colon", PrefLib, "# NUMBER ALTERNATIVES: 2\n1 1,2\n", "line 2"},
		{"preflib trailing comma", PrefLib, "# NUMBER ALTERNATIVES: 2\n1: 1,\n", "line 2"},
		{"preflib junk", PrefLib, "# NUMBER ALTERNATIVES: 2\n1: 1,x\n", "line 2"},
		{"blt no end", BLT, "2 1\n1 1 2\n0\n\"A\"\n\"B\"\n", "line 2"},
		{"blt range", BLT, "2 1\n1 1 3 0\n0\n\"A\"\n\"B\"\n", "line 2"},
		{"blt header", BLT, "2\n", "line 1"},
		{"text unknown", Text, "# candidates: A, B\n1: A>Z\n", "line 2"},
		{"text mixed", Text, "# candidates: A, B\n1: A>B\n1: A=1 B=2\n", "line 3"},
		{"text before candidates", Text, "1: A>B\n", "line 1"},
		{"star fields", StarCSV, "voterID,voteTime,pollID,A,B\nx,t,p,1\n", "line 2"},
		{"star score", StarCSV, "voterID,voteTime,pollID,A,B\nx,t,p,1,2\ny,t,p,x,2\n", "line 3"},
		{"json", JSON, "{\"format\":\n\"opencoop-ballots/1\",,}", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "x", tc.format)
			if err == nil {
				t.Fatalf("Read(%s) = nil error, want one naming %s", tc.name, tc.line)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Read(%s) error %v does not wrap ErrSyntax", tc.name, err)
			}
			if !strings.Contains(err.Error(), tc.line+":") {
				t.Errorf("Read(%s) error %q, want it to name %s", tc.name, err, tc.line)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, head string
		want       Format
	}{
		{"a.toi", "", PrefLib},
		{"a.SOC", "", PrefLib},
		{"a.blt", "", BLT},
		{"a.txt", "", Text},
		{"a.json", "", JSON},
		{"data", "# FILE NAME: x.soi\n", PrefLib},
		{"data", "4 2\n1 1 2 0\n", BLT},
		{"data", "voterID,voteTime,pollID,A\n", StarCSV},
		{"data.csv", "voterID,voteTime,pollID,A\n", StarCSV},
		{"data", "# candidates: A, B\n", Text},
		{"data", "{\"format\":", JSON},
	}
	for _, tc := range tests {
		if got := Detect(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%q, %q) = %s, want %s", tc.name, tc.head, got, tc.want)
		}
	}
}

// TestRoundTrip writes every ranked conformance file as BLT, PrefLib and
// JSON and reads it back: the ballots must be the same.
func TestRoundTrip(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/elections/*/*")
	n := 0
	for _, p := range paths {
		if strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".json") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(bytes.NewReader(data), p, Auto)
		if err != nil {
			t.Fatalf("Read(%s): %v", p, err)
		}
		n++
		formats := []Format{JSON}
		if !f.Scored {
			formats = append(formats, BLT, PrefLib)
		}
		for _, format := range formats {
			var buf bytes.Buffer
			if err := Write(&buf, f, format); err != nil {
				t.Fatalf("Write(%s, %s): %v", p, format, err)
			}
			g, err := Read(&buf, "x", format)
			if err != nil {
				t.Fatalf("Read(Write(%s, %s)): %v", p, format, err)
			}
			want, got := simplify(f), simplify(g)
			if format == PrefLib {
				want, got = merged(want), merged(got) // PrefLib merges equal orders
			}
			want.Seats, got.Seats = 0, 0
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Read(Write(%s, %s)) (-want +got):\n%s", p, format, diff)
			}
		}
	}
	if n < 20 {
		t.Errorf("round-tripped %d files, want every ballot file of testdata/elections", n)
	}
}

// merged sums the weights of equal ballots, in order of first appearance.
func merged(s simple) simple {
	var order []string
	sum := map[string]int64{}
	for _, b := range s.Ballots {
		w, rest, _ := strings.Cut(b, ":")
		var v int64
		for _, c := range w {
			v = v*10 + int64(c-'0')
		}
		if _, ok := sum[rest]; !ok {
			order = append(order, rest)
		}
		sum[rest] += v
	}
	s.Ballots = nil
	for _, r := range order {
		s.Ballots = append(s.Ballots, itoa(sum[r])+":"+r)
	}
	return s
}

func TestInput(t *testing.T) {
	f, err := ParseText([]byte("# candidates: A, B, C\n3: B=5 A=2\n1: C=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.Input(vote.Approval)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{0, 1}, in.Ballots[0].Choices); diff != "" {
		t.Errorf("Input(approval) choices (-want +got):\n%s", diff)
	}
	in, err = f.Input(vote.IRV)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]int{{1}, {0}}, in.Ballots[0].Ranking.Groups()); diff != "" {
		t.Errorf("Input(irv) ranking (-want +got):\n%s", diff)
	}
	r, _ := ParseText([]byte("# candidates: A, B\n1: A>B\n"))
	if _, err := r.Input(vote.STAR); err == nil {
		t.Errorf("Input(star) of rankings: no error")
	}
	if _, err := r.Input(vote.Consent); err == nil {
		t.Errorf("Input(consent) of a text file: no error")
	}
	dup := OptionsOf([]string{"X", "X", "Y"})
	if dup[1].Key != "X (2)" || dup[1].Label != "X" {
		t.Errorf("OptionsOf duplicate = %+v, want key \"X (2)\" label \"X\"", dup[1])
	}
}
