// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"fmt"
	"testing"
)

// TestEveryMethodOverHTTP puts a proposal of every method to five members
// and checks the winner the method must pick from these ballots.
func TestEveryMethodOverHTTP(t *testing.T) {
	e := newEnv(t)
	toks := e.people("m", "workers", "users", "users", "users")
	abc := []map[string]any{{"key": "a", "label": "A"}, {"key": "b", "label": "B"}, {"key": "c", "label": "C"}}
	rank := func(keys ...any) map[string]any { return map[string]any{"ranking": keys} }
	scores := func(a, b, c int) map[string]any {
		return map[string]any{"scores": map[string]int{"a": a, "b": b, "c": c}}
	}
	cases := []struct {
		method  string
		extra   map[string]any
		ballots []map[string]any
		winners []string
	}{
		// b is the Condorcet winner: 3 of 5 prefer b to a and b to c.
		{"schulze", nil, []map[string]any{rank("a", "b", "c"), rank("a", "b", "c"), rank("b", "c", "a"), rank("c", "b", "a"), rank("b", "a", "c")}, []string{"b"}},
		// a and c lead with 2; b is excluded and its ballot goes on to c.
		{"irv", nil, []map[string]any{rank("a", "b"), rank("a", "b"), rank("b", "c"), rank("c", "b"), rank("c", "b")}, []string{"c"}},
		// b 12, a 10, c 8: no tie for the lot to decide.
		{"borda", nil, []map[string]any{rank("a", "b", "c"), rank("b", "a", "c"), rank("b", "c", "a"), rank("c", "a", "b"), rank("b", "a", "c")}, []string{"b"}},
		{"stv", map[string]any{"seats": 2}, []map[string]any{rank("a", "b"), rank("a", "b"), rank("a", "c"), rank("c"), rank("c")}, []string{"a", "c"}},
		// b has the highest total (18 to 11), but 3 of 5 score a above b: a wins the runoff.
		{"star", nil, []map[string]any{scores(5, 4, 0), scores(5, 4, 0), scores(0, 5, 1), scores(0, 5, 1), scores(1, 0, 5)}, []string{"a"}},
		{"approval", nil, []map[string]any{{"choices": []string{"a", "b"}}, {"choices": []string{"b"}}, {"choices": []string{"c"}}}, []string{"b"}},
		{"dot", map[string]any{"points": 5}, []map[string]any{scores(5, 0, 0), scores(0, 3, 2), scores(0, 3, 0)}, []string{"b"}},
		// a and b have 2 yes each; a wins on its one maybe.
		{"meeting", nil, []map[string]any{scores(2, 2, 0), scores(1, 0, 2), scores(2, 2, 0)}, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			p := map[string]any{"title": "By " + tc.method, "method": tc.method, "options": abc}
			for k, v := range tc.extra {
				p[k] = v
			}
			id := e.propose(toks[0], "m", p)
			for i, b := range tc.ballots {
				e.vote(toks[i], id, b)
			}
			res := e.closeProposal(toks[0], id)
			if res["tie_broken"] != nil {
				t.Errorf("%s: the lot decided between %v; these ballots must not tie", tc.method, res["tie_broken"])
			}
			if got := fmt.Sprint(res["winners"]); got != fmt.Sprint(tc.winners) {
				t.Errorf("%s winners = %s, want %v: %.600s", tc.method, got, tc.winners, res["_raw"])
			}
		})
	}
}
