// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package tally

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/ballotfile"
	"opencoop/internal/record"
	"opencoop/internal/vote"
)

const elections = "../../testdata/elections"

func run(t *testing.T, args ...string) (int, Output, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(t.Context(), args, &out, &errb)
	var o Output
	if code == 0 {
		if err := json.Unmarshal(out.Bytes(), &o); err != nil {
			t.Fatalf("Run(%q) printed bad JSON: %v\n%s", args, err, out.String())
		}
	}
	return code, o, errb.String()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		winners []string
		check   func(t *testing.T, o Output)
	}{
		{
			name:    "irv burlington",
			args:    []string{"--method", "irv", elections + "/us-rcv/00005-00000001.toi"},
			winners: []string{"Bob Kiss"},
			check: func(t *testing.T, o Output) {
				last := o.Rounds[len(o.Rounds)-1]
				if got := last.Counts["Hinda Miller"].String(); got != "3986" {
					t.Errorf("final round Miller = %s, want 3986", got)
				}
			},
		},
		{
			name:    "stv scottish",
			args:    []string{"--method", "stv", "--seats", "3", elections + "/scotland-glasgow-2007/00008-00000012.soi"},
			winners: []string{"James Dornan", "Archie Graham", "Paul Coleshill"},
			check: func(t *testing.T, o Output) {
				if o.Rules != "scottish" || o.Rounds[0].Quota.String() != "2334" {
					t.Errorf("rules %q quota %v, want scottish 2334", o.Rules, o.Rounds[0].Quota)
				}
			},
		},
		{
			name:    "stv meek from the file's seats",
			args:    []string{"--method", "stv", "--rules", "meek", elections + "/textbook/meek_opavote.txt"},
			winners: []string{"Alice", "Bob", "Chris"},
		},
		{
			name:    "schulze debian 2006 with a 3:1 majority",
			args:    []string{"--method", "schulze", "--default-option", "Further discussion", "--majority", "GFDL-licensed works are compatible with the DFSG [needs 3:1]=3", elections + "/debian/debian-2006-gr-gfdl.toi"},
			winners: []string{"GFDL-licensed works without unmodifiable sections are free"},
			check: func(t *testing.T, o Output) {
				if !slices.Equal(o.Dropped, []string{"GFDL-licensed works are compatible with the DFSG [needs 3:1]"}) {
					t.Errorf("dropped = %q", o.Dropped)
				}
				if got := o.Pairwise["GFDL-licensed works without unmodifiable sections are free"]["Further discussion"].String(); got != "272" {
					t.Errorf("pairwise = %s, want 272", got)
				}
			},
		},
		{
			name:    "star csv",
			args:    []string{"--method", "star", "--format", "starcsv", elections + "/star/starvote_ballots_wa_governor_2020_republican_party_straw_poll.csv"},
			winners: []string{"Loren Culp"},
		},
		{
			name:    "borda text",
			args:    []string{"--method", "borda", elections + "/textbook/tennessee.txt"},
			winners: []string{"Nashville"},
		},
		{
			name:    "approval from scores",
			args:    []string{"--method", "approval", elections + "/textbook/tennessee_approval.txt"},
			winners: []string{"Nashville"},
		},
		{
			name:    "seed is published",
			args:    []string{"--method", "irv", "--seed", "abc", elections + "/textbook/tennessee.txt"},
			winners: []string{"Knoxville"},
			check: func(t *testing.T, o Output) {
				if o.Seed != "abc" {
					t.Errorf("seed = %q, want abc", o.Seed)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, o, stderr := run(t, tc.args...)
			if code != 0 {
				t.Fatalf("Run(%q) = %d, want 0; stderr %s", tc.args, code, stderr)
			}
			if !slices.Equal(o.Winners, tc.winners) {
				t.Errorf("Run(%q) winners = %q, want %q", tc.args, o.Winners, tc.winners)
			}
			if o.Rounds == nil || o.Method == "" {
				t.Errorf("Run(%q) output lacks method or rounds: %+v", tc.args, o)
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.soi")
	if err := os.WriteFile(bad, []byte("# NUMBER ALTERNATIVES: 2\n1: 1,2\n1: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"bad line", []string{"--method", "irv", bad}, "line 3"},
		{"no method", []string{bad}, "--method"},
		{"unknown method", []string{"--method", "dhondt", bad}, "--method"},
		{"no file", []string{"--method", "irv"}, "FILE"},
		{"two files", []string{"--method", "irv", bad, bad}, "FILE"},
		{"missing file", []string{"--method", "irv", filepath.Join(dir, "none.soi")}, "none.soi"},
		{"bad flag", []string{"--method", "irv", "--bogus", bad}, "bogus"},
		{"bad rules", []string{"--method", "stv", "--rules", "droop", bad}, "rules"},
		{"bad format", []string{"--method", "irv", "--format", "xml", bad}, "format"},
		{"bad majority", []string{"--method", "schulze", "--majority", "A=0", bad}, "majority"},
		{"unknown default", []string{"--method", "schulze", "--default-option", "Nobody", elections + "/textbook/tennessee.txt"}, "Nobody"},
		{"scores for ranks", []string{"--method", "star", elections + "/textbook/tennessee.txt"}, "score"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != 2 {
				t.Errorf("Run(%q) = %d, want 2", tc.args, code)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("Run(%q) stderr = %q, want it to mention %q", tc.args, stderr, tc.stderr)
			}
		})
	}
}

// TestExportRecount checks that a JSON export, with classes, member weights
// and the count's parameters, recounts to exactly the stored result.
func TestExportRecount(t *testing.T) {
	src, err := os.ReadFile(elections + "/scotland-glasgow-2007/00008-00000003.soi")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ballotfile.ParsePrefLib(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Classes = []vote.Class{{Key: "workers", Weight: 60}, {Key: "users", Weight: 40}}
	f.Weighting = vote.Classes
	for i := range f.Ballots {
		f.Ballots[i].Class = i % 2
	}
	for _, m := range []struct {
		method vote.Method
		params vote.Params
	}{
		{vote.STV, vote.Params{Seats: 3, Rules: "scottish", Seed: "s"}},
		{vote.STV, vote.Params{Seats: 3, Rules: "meek", Seed: "s"}},
		{vote.IRV, vote.Params{Seed: "s"}},
		{vote.Schulze, vote.Params{Seed: "s"}},
		{vote.Borda, vote.Params{Seed: "s"}},
	} {
		t.Run(string(m.method)+m.params.Rules, func(t *testing.T) {
			p := m.params
			f.Method, f.Params = m.method, &p
			in, err := f.Input(m.method)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := vote.Count(in)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "export.json")
			var buf bytes.Buffer
			if err := ballotfile.Write(&buf, f, ballotfile.JSON); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			code, o, stderr := run(t, "--method", string(m.method), path)
			if code != 0 {
				t.Fatalf("Run = %d: %s", code, stderr)
			}
			if diff := cmp.Diff(stored.Winners, o.Winners); diff != "" {
				t.Errorf("recount winners (-stored +recount):\n%s", diff)
			}
			if stored.Rounds == nil {
				stored.Rounds = []vote.Round{}
			}
			want, _ := json.Marshal([]any{stored.Rounds, stored.Pairwise, stored.Dropped})
			got, _ := json.Marshal([]any{o.Rounds, o.Pairwise, o.Dropped})
			if string(want) != string(got) {
				t.Errorf("recount rounds differ:\n got %s\nwant %s", got, want)
			}
		})
	}
}

const records = "../../testdata/record"

// withResult writes the record at src into a temporary file with result
// set to what change makes of its own recount.
func withResult(t *testing.T, src string, change func(r *vote.Result)) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := record.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	r, err := record.Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	change(r)
	rec.Result = r
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "record.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRecord recounts the hand-written decision records of testdata/record
// (their figures are worked out in internal/record's tests) and compares
// recounts with the results records carry.
func TestRecord(t *testing.T) {
	schulze := records + "/schulze-default.json"
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		check  func(t *testing.T, r *vote.Result)
	}{
		{
			name: "schulze, format detected", args: []string{schulze}, stderr: "carries no result",
			check: func(t *testing.T, r *vote.Result) {
				if !slices.Equal(r.Winners, []string{"a"}) || r.Pairwise["a"]["sq"].String() != "7" || r.DelegatedWeight != 4 {
					t.Errorf("winners %q, pairwise a/sq %s, delegated %d; want [a], 7, 4", r.Winners, r.Pairwise["a"]["sq"], r.DelegatedWeight)
				}
			},
		},
		{
			name: "yesno, format given", args: []string{"--format", "record", records + "/yesno-classes.json"}, stderr: "carries no result",
			check: func(t *testing.T, r *vote.Result) {
				if r.Outcome != vote.Rejected || r.Support.String() != "0.4" || r.Classes["users"].Delegated != 4 {
					t.Errorf("outcome %s, support %s, users delegated %d; want rejected, 0.4, 4", r.Outcome, r.Support, r.Classes["users"].Delegated)
				}
			},
		},
		{
			name: "result equal", args: []string{withResult(t, schulze, func(*vote.Result) {})}, stderr: "equals the record's result exactly",
		},
		{
			name: "result differs", code: 3,
			args:   []string{withResult(t, schulze, func(r *vote.Result) { r.Classes["members"].Counts["b"]++ })},
			stderr: "result.classes.members.counts.b is 2 in the recount, 3 in the record",
		},
		{
			name: "result differs in a rational", code: 3,
			args:   []string{withResult(t, schulze, func(r *vote.Result) { r.Pairwise["c"]["sq"] = vote.NumOf(5, 2) })},
			stderr: "result.pairwise.c.sq is 2 in the recount, 2.5 in the record",
		},
		{
			name: "result lacks a field", code: 3,
			args:   []string{withResult(t, schulze, func(r *vote.Result) { r.Dropped = nil })},
			stderr: "result.dropped is only in the recount",
		},
		{
			name: "flags with a record", code: 2,
			args:   []string{"--method", "irv", "--seed", "x", schulze},
			stderr: "drop --method, --seed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(t.Context(), tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("Run(%q) = %d, want %d; stderr %s", tc.args, code, tc.code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("Run(%q) stderr = %q, want it to say %q", tc.args, errb.String(), tc.stderr)
			}
			if tc.code == 2 {
				return
			}
			var r vote.Result
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("Run(%q) printed bad JSON: %v\n%s", tc.args, err, out.String())
			}
			if tc.check != nil {
				tc.check(t, &r)
			}
		})
	}
}

func TestRecordErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := `{"format": "opencoop-decision/1", "method": "yesno", "params": {}, "weighting": "equal", "quorum": {},
		"classes": [{"key": "all", "weight": 100}], "options": [], "ballots": [], `
	tests := []struct {
		name, file, stderr string
	}{
		{"duplicate voter", write("dup.json", base+`"electorate": [{"voter": "a", "class": "all", "weight": 1}, {"voter": "a", "class": "all", "weight": 1}]}`), `"a" is twice in the electorate`},
		{"unknown field", write("field.json", base+`"electorate": [], "extra": 1}`), `unknown field "extra"`},
		{"other format", write("other.json", `{"format": "opencoop-decision/9"}`), `format "opencoop-decision/9"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, "--format", "record", tc.file)
			if code != 2 || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("Run(%s) = %d, %q; want 2 and a message saying %q", tc.name, code, stderr, tc.stderr)
			}
		})
	}
}

// TestDebianUnrankedBelow recounts the Debian 2006 GR from its PrefLib
// file: ballots such as "1,2,4" leave option 3 out, which Debian ranks
// below Further discussion, so the official tally's 205 for Further
// discussion over option 3 (testdata/elections/debian/expected.json) must
// come out, not the smaller count of opencoop's level-with-default rule.
func TestDebianUnrankedBelow(t *testing.T) {
	code, o, stderr := run(t, "--method", "schulze", "--default-option", "Further discussion", elections+"/debian/debian-2006-gr-gfdl.toi")
	if code != 0 {
		t.Fatalf("Run = %d: %s", code, stderr)
	}
	if got := o.Pairwise["Further discussion"]["GFDL-licensed works are compatible with the DFSG [needs 3:1]"].String(); got != "205" {
		t.Errorf("pairwise[Further discussion][option 3] = %s, want the official 205", got)
	}
}
