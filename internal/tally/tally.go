// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package tally implements "opencoop tally": recount any ballot file (BLT,
// PrefLib, star.vote CSV, the simple text format or opencoop's JSON export)
// by any counting method, or a decision record (docs/decision-record.md) by
// the method it fixes, and print the full result as JSON, so that anyone
// can check a count without trusting the server.
package tally

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"opencoop/internal/ballotfile"
	"opencoop/internal/record"
	"opencoop/internal/vote"
)

// Exit codes of [Run].
const (
	exitOK    = 0
	exitError = 1 // the count could not be made for another reason
	exitUsage = 2 // bad usage, unreadable or invalid ballot file or record
	// exitDiffers: a record's recount is not exactly the result it carries.
	exitDiffers = 3
)

// formatRecord is the --format of a decision record; auto detects it by
// its "format" field.
const formatRecord = "record"

const usage = `usage: opencoop tally --method M [--seats N] [--rules scottish|meek]
       [--default-option NAME] [--majority NAME=RATIO]... [--seed S]
       [--format auto|blt|preflib|starcsv|text|json] FILE
       opencoop tally [--format record] RECORD

Recounts the ballots in FILE ("-" for standard input) and prints the result
as JSON. Methods: %s.

A decision record (docs/decision-record.md; --format auto knows it by its
"format" field) fixes its own method, parameters, electorate and
delegations, so it takes no other flag. Its recount is printed as the
result JSON the server stores; when the record carries a "result", tally
says whether the recount equals it exactly and exits with 3 when it does
not.

Schulze with --default-option on a BLT, PrefLib, star.vote or text file
ranks the options a ballot leaves out below all it ranks (those formats'
convention, Debian's); opencoop's own ballots and JSON exports rank them
level with the default option when the ballot ranks it.

Exit status: 0 counted (and equal), 1 other failure, 2 bad usage or an
invalid file, 3 the recount differs from the record's result.
`

// Output is what tally prints: the count's parameters and its result, with
// candidates named as in the file.
type Output struct {
	Method     vote.Method                    `json:"method"`
	Rules      string                         `json:"rules,omitempty"`
	Seats      int                            `json:"seats,omitempty"`
	Seed       string                         `json:"seed"`
	File       string                         `json:"file"`
	Format     ballotfile.Format              `json:"format"`
	Candidates []string                       `json:"candidates"`
	Ballots    int64                          `json:"ballots"`
	Outcome    vote.Outcome                   `json:"outcome"`
	Winners    []string                       `json:"winners"`
	Rounds     []vote.Round                   `json:"rounds"`
	Pairwise   map[string]map[string]vote.Num `json:"pairwise,omitempty"`
	Paths      map[string]map[string]vote.Num `json:"paths,omitempty"`
	Dropped    []string                       `json:"dropped,omitempty"`
	TieBroken  []string                       `json:"tie_broken,omitempty"`
	Weighted   map[string]vote.Num            `json:"weighted,omitempty"`
	Extra      map[string]any                 `json:"extra,omitempty"`
	Rule       string                         `json:"rule"`
}

// majorities collects repeated --majority NAME=RATIO flags.
type majorities map[string]int64

func (m majorities) String() string { return fmt.Sprint(map[string]int64(m)) }

func (m majorities) Set(s string) error {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return fmt.Errorf("want NAME=RATIO, got %q", s)
	}
	name, ratio := s[:i], s[i+1:]
	ratio = strings.TrimSuffix(ratio, ":1")
	v, err := strconv.ParseInt(ratio, 10, 64)
	if err != nil || v < 1 {
		return fmt.Errorf("majority ratio %q: want a whole number N (N:1) of at least 1", s[i+1:])
	}
	m[name] = v
	return nil
}

// Run runs "opencoop tally" with args (without the subcommand name) and
// returns the exit status: 0 on success, 2 for bad usage or a bad ballot
// file (the message names the line), 1 otherwise.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tally", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		names := make([]string, len(vote.Methods))
		for i, m := range vote.Methods {
			names[i] = string(m)
		}
		fmt.Fprintf(stderr, usage, strings.Join(names, ", "))
		fs.PrintDefaults()
	}
	method := fs.String("method", "", "counting method (required)")
	seats := fs.Int("seats", 0, "seats to fill (stv; default: the file's, else 1)")
	rules := fs.String("rules", "", "stv rules: scottish (default) or meek")
	def := fs.String("default-option", "", "schulze: the default option's name (Debian A.6)")
	maj := majorities{}
	fs.Var(maj, "majority", "schulze: NAME=RATIO, the N:1 majority NAME needs against the default option (repeatable)")
	seed := fs.String("seed", "", "seed of the tie-breaking lot (published with the result)")
	format := fs.String("format", string(ballotfile.Auto), "file format: auto, blt, preflib, starcsv, text, json or record")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "opencoop tally: "+format+"\n", a...)
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fail(exitUsage, "want exactly one FILE, got %d", fs.NArg())
	}
	name := fs.Arg(0)
	data, err := readFile(name)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	if *format == formatRecord || (*format == string(ballotfile.Auto) && isRecord(data)) {
		var set []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "format" {
				set = append(set, "--"+f.Name)
			}
		})
		if len(set) > 0 {
			return fail(exitUsage, "%s: a decision record fixes its own method and parameters; drop %s", name, strings.Join(set, ", "))
		}
		return recount(name, data, stdout, stderr)
	}
	m := vote.Method(*method)
	if !m.Valid() {
		return fail(exitUsage, "unknown or missing --method %q", *method)
	}
	f := ballotfile.Format(*format)
	if !slices.Contains(ballotfile.Formats, f) {
		return fail(exitUsage, "unknown --format %q", *format)
	}
	if *rules != "" && *rules != "scottish" && *rules != "meek" {
		return fail(exitUsage, "unknown --rules %q (want scottish or meek)", *rules)
	}
	if *seats < 0 {
		return fail(exitUsage, "--seats %d", *seats)
	}

	if f == ballotfile.Auto {
		f = ballotfile.Detect(name, data[:min(len(data), 4096)])
	}
	file, err := ballotfile.Read(bytes.NewReader(data), name, f)
	if err != nil {
		return fail(exitUsage, "%s: %v", name, err)
	}
	in, err := file.Input(m)
	if err != nil {
		return fail(exitUsage, "%s: %v", name, err)
	}
	if *seats > 0 {
		in.Params.Seats = *seats
	}
	if in.Params.Seats == 0 && m == vote.STV {
		in.Params.Seats = 1
	}
	if *rules != "" {
		in.Params.Rules = *rules
	}
	if *seed != "" {
		in.Params.Seed = *seed
	}
	keyOf := func(flagName, label string) (string, error) {
		for _, o := range in.Options {
			if o.Key == label {
				return o.Key, nil
			}
		}
		for _, o := range in.Options {
			if o.Label == label {
				return o.Key, nil
			}
		}
		return "", fmt.Errorf("%s: %q is not a candidate of %s", flagName, label, name)
	}
	if *def != "" {
		k, err := keyOf("--default-option", *def)
		if err != nil {
			return fail(exitUsage, "%v", err)
		}
		in.Params.DefaultOption = k
	}
	if len(maj) > 0 {
		if in.Params.Majority == nil {
			in.Params.Majority = map[string]int64{}
		}
		for label, v := range maj {
			k, err := keyOf("--majority", label)
			if err != nil {
				return fail(exitUsage, "%v", err)
			}
			in.Params.Majority[k] = v
		}
	}
	if in.Method == vote.Schulze && in.Params.DefaultOption != "" && f != ballotfile.JSON {
		// These formats mean "below everything ranked" by an option left
		// out; written out, Schulze counts it so (vote.Ranking.UnrankedLast).
		for i := range in.Ballots {
			in.Ballots[i].Ranking = in.Ballots[i].Ranking.UnrankedLast(len(in.Options))
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(exitError, "%v", err)
	}
	res, err := vote.Count(in)
	if err != nil {
		code := exitError
		if errors.Is(err, vote.ErrBallot) || errors.Is(err, vote.ErrInput) || errors.Is(err, vote.ErrMethod) {
			code = exitUsage
		}
		return fail(code, "%s: %v", name, err)
	}
	out := Output{
		Method: m, Seats: in.Params.Seats, Seed: in.Params.Seed, File: name, Format: f,
		Outcome: res.Outcome, Winners: res.Winners, Rounds: res.Rounds,
		Pairwise: res.Pairwise, Paths: res.Paths, Dropped: res.Dropped, TieBroken: res.TieBroken,
		Weighted: res.Weighted, Extra: res.Extra, Rule: res.Rule,
	}
	if m == vote.STV {
		out.Rules = in.Params.Rules
		if out.Rules == "" {
			out.Rules = "scottish"
		}
	} else {
		out.Seats = 0
	}
	for _, o := range in.Options {
		out.Candidates = append(out.Candidates, o.Key)
	}
	for _, b := range in.Ballots {
		out.Ballots += b.Weight
	}
	if out.Winners == nil {
		out.Winners = []string{}
	}
	if out.Rounds == nil {
		out.Rounds = []vote.Round{}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fail(exitError, "write: %v", err)
	}
	return exitOK
}

func readFile(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// isRecord reports whether data is a JSON object whose "format" is a
// decision record's. It stops at that field, which the server writes
// first, so detection costs nothing next to reading a large record.
func isRecord(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		if t == "format" {
			var f string
			return dec.Decode(&f) == nil && f == record.Format
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// recount counts the decision record in data, prints the result and, when
// the record carries one, compares it with the recount as canonical JSON
// (object keys sorted, numbers as written): exitDiffers names the first
// place where they differ.
func recount(name string, data []byte, stdout, stderr io.Writer) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "opencoop tally: %s: "+format+"\n", append([]any{name}, a...)...)
		return code
	}
	rec, stored, err := record.ReadResult(bytes.NewReader(data))
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	res, err := record.Count(rec)
	if err != nil {
		code := exitError
		if errors.Is(err, record.ErrRecord) || errors.Is(err, vote.ErrBallot) || errors.Is(err, vote.ErrInput) || errors.Is(err, vote.ErrMethod) {
			code = exitUsage
		}
		return fail(code, "%v", err)
	}
	got, err := json.Marshal(res)
	if err != nil {
		return fail(exitError, "encode: %v", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return fail(exitError, "write: %v", err)
	}
	if stored == nil {
		fmt.Fprintf(stderr, "opencoop tally: %s: the record carries no result to compare\n", name)
		return exitOK
	}
	a, errA := canonical(got)
	b, errB := canonical(stored)
	if err := errors.Join(errA, errB); err != nil {
		return fail(exitUsage, "result: %v", err)
	}
	if !bytes.Equal(a, b) {
		var ga, gb any
		_ = decodeNumbers(got, &ga)
		_ = decodeNumbers(stored, &gb)
		return fail(exitDiffers, "the recount differs from the record's result: %s", firstDiff("result", ga, gb))
	}
	fmt.Fprintf(stderr, "opencoop tally: %s: the recount equals the record's result exactly\n", name)
	return exitOK
}

// canonical re-encodes JSON with object keys sorted, no spaces, and
// numbers as written.
func canonical(data []byte) ([]byte, error) {
	var v any
	if err := decodeNumbers(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func decodeNumbers(data []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// firstDiff describes the first place, in sorted key order, where the
// decoded JSON values a (recount) and b (record) differ.
func firstDiff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			va, okA := x[k]
			vb, okB := y[k]
			switch {
			case !okA:
				return fmt.Sprintf("%s.%s is only in the record", path, k)
			case !okB:
				return fmt.Sprintf("%s.%s is only in the recount", path, k)
			}
			if d := firstDiff(path+"."+k, va, vb); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			break
		}
		for i := range x {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if bytes.Equal(ja, jb) {
		return ""
	}
	return fmt.Sprintf("%s is %s in the recount, %s in the record", path, short(ja), short(jb))
}

// short cuts a long JSON value for a message.
func short(j []byte) string {
	if len(j) > 80 {
		return string(j[:77]) + "..."
	}
	return string(j)
}
