// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package audit

import (
	"encoding/json"
	"testing"
	"time"
)

// canonicalSeeds are payloads of the kinds domain packages record, and
// the strings sortKeys must leave to the slow way.
var canonicalSeeds = []string{
	`{}`, `[]`, `null`, `true`, `"x"`, `-1.5e+30`, `{"b":1,"a":[{"d":null,"c":false}],"aa":"z"}`,
	`{"transfers":[{"id":"h1","debit":"member:m1","credit":"member:m2","amount":12,"unit":"EUR","kind":"payment","ref":"","pending":false,"at":"2026-11-30T11:00:00Z"}]}`,
	`{"é":1,"e":2,"z":3,"Z":4,"":5}`, `{"a<b":1}`, `{"k":"a&b"}`, `{"k":"line\nbreak"}`, `{"k":"quote\"d"}`,
	`{"k":"\u2028"}`, `{"a":1,"a":2}`, `{"k":"\ufffd"}`, `[1,[2,[3,{}]],{"y":[],"x":{}}]`,
	`{"n":1.0,"m":0.000001,"big":123456789012345678901234567890}`, `  {"spaced" : [ 1 , 2 ] }  `,
}

// TestSortKeysMatchesSlow holds sortKeys to the decode-and-encode way:
// the same bytes whenever it answers, for marshalled values and raw JSON.
func TestSortKeysMatchesSlow(t *testing.T) {
	type row struct {
		Z     string    `json:"z"`
		A     int64     `json:"a"`
		At    time.Time `json:"at"`
		Inner any       `json:"inner"`
	}
	values := []any{
		map[string]any{"b": 1, "a": "x"},
		row{Z: "z<", A: -3, At: time.Date(2026, 11, 30, 1, 2, 3, 4000, time.UTC), Inner: map[string]any{"y": []int{1}, "x": nil}},
		[]row{{Z: "plain"}, {Z: "é\u2029"}},
		map[string]any{"s": string([]byte{0xff, 'a'})},
	}
	for _, s := range canonicalSeeds {
		values = append(values, json.RawMessage(s))
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", v, err)
		}
		checkSortKeys(t, b)
	}
}

func checkSortKeys(t *testing.T, b []byte) {
	t.Helper()
	slow, err := canonicalSlow(b)
	fast, ok := sortKeys(b)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("sortKeys(%s) = %s, but the slow way fails: %v", b, fast, err)
	}
	if string(fast) != string(slow) {
		t.Errorf("sortKeys(%s) = %s, want %s", b, fast, slow)
	}
}

func FuzzSortKeys(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		// What Canonical sees: json.Marshal's output.
		b, err := json.Marshal(json.RawMessage(s))
		if err != nil {
			return
		}
		checkSortKeys(t, b)
	})
}
