// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// arrivalBallots are four ballots in two classes, two of them delegated:
// workers 2 direct and 1 delegated, users 5 delegated and 3 direct. choose
// gives each ballot's content by its position.
func arrivalBallots(choose func(i int, b *Ballot)) []Ballot {
	bs := []Ballot{
		{Weight: 2, Class: 0},
		{Weight: 1, Class: 0, Delegated: true},
		{Weight: 5, Class: 1, Delegated: true},
		{Weight: 3, Class: 1},
	}
	for i := range bs {
		choose(i, &bs[i])
	}
	return bs
}

// TestArrivals wants every method to report the direct and delegated
// weight, overall and per class: 2+3 direct and 1+5 delegated, from the
// four ballots of arrivalBallots.
func TestArrivals(t *testing.T) {
	ab := []Option{{"a", "A"}, {"b", "B"}}
	for _, m := range Methods {
		t.Run(string(m), func(t *testing.T) {
			opts := FixedOptions(m)
			if opts == nil {
				opts = ab
			}
			in := &Input{Method: m, Options: opts, Weighting: Equal, Params: Params{Seats: 1, Points: 10},
				Classes: []Class{{"workers", 50}, {"users", 50}}}
			in.Ballots = arrivalBallots(func(i int, b *Ballot) {
				switch {
				case m.Ranked():
					b.Ranking = Strict(i%2, 1-i%2)
				case m.Scored():
					b.Scores = []int{i % 3, 2 - i%3}
				default:
					b.Choices = []int{i % 2}
				}
			})
			r, err := Count(in)
			if err != nil {
				t.Fatalf("Count(%s): %v", m, err)
			}
			if r.DirectWeight != 5 || r.DelegatedWeight != 6 {
				t.Errorf("Count(%s) direct, delegated weight = %d, %d, want 5, 6", m, r.DirectWeight, r.DelegatedWeight)
			}
			for _, c := range []struct {
				class                      string
				direct, delegated, ballots int64
			}{{"workers", 2, 1, 3}, {"users", 3, 5, 8}} {
				cc := r.Classes[c.class]
				if cc == nil || cc.Direct != c.direct || cc.Delegated != c.delegated || cc.Ballots != c.ballots {
					t.Errorf("Count(%s).Classes[%s] = %+v, want direct %d, delegated %d of %d ballots", m, c.class, cc, c.direct, c.delegated, c.ballots)
				}
			}
		})
	}
}

// TestDelegatedCounts checks the per-class, per-option delegated part of
// the counts, worked out from the ballots listed in each case.
func TestDelegatedCounts(t *testing.T) {
	ab := []Option{{"a", "A"}, {"b", "B"}}
	tests := []struct {
		name    string
		method  Method
		options []Option
		content []func(*Ballot) // per ballot of arrivalBallots
		// counts and delegated per class: workers, then users.
		counts, delegated [2]map[string]int64
	}{
		{
			// workers: 2 yes (direct), 1 no (delegated);
			// users: 5 yes (delegated), 3 abstain (direct).
			name: "yesno", method: YesNo, options: FixedOptions(YesNo),
			content: []func(*Ballot){
				func(b *Ballot) { b.Choices = []int{0} },
				func(b *Ballot) { b.Choices = []int{1} },
				func(b *Ballot) { b.Choices = []int{0} },
				func(b *Ballot) { b.Choices = []int{2} },
			},
			counts:    [2]map[string]int64{{"yes": 2, "no": 1, "abstain": 0}, {"yes": 5, "no": 0, "abstain": 3}},
			delegated: [2]map[string]int64{{"yes": 0, "no": 1, "abstain": 0}, {"yes": 5, "no": 0, "abstain": 0}},
		},
		{
			// workers: 2 direct agree, 1 delegated block; users: 5
			// delegated disagree, 3 direct agree.
			name: "consent", method: Consent, options: FixedOptions(Consent),
			content: []func(*Ballot){
				func(b *Ballot) { b.Choices = []int{0} },
				func(b *Ballot) { b.Choices = []int{3} },
				func(b *Ballot) { b.Choices = []int{2} },
				func(b *Ballot) { b.Choices = []int{0} },
			},
			counts: [2]map[string]int64{{"agree": 2, "abstain": 0, "disagree": 0, "block": 1},
				{"agree": 3, "abstain": 0, "disagree": 5, "block": 0}},
			delegated: [2]map[string]int64{{"agree": 0, "abstain": 0, "disagree": 0, "block": 1},
				{"agree": 0, "abstain": 0, "disagree": 5, "block": 0}},
		},
		{
			// workers: 2 direct {a, b}, 1 delegated {b}; users: 5
			// delegated {a}, 3 direct {} (blank).
			name: "approval", method: Approval, options: ab,
			content: []func(*Ballot){
				func(b *Ballot) { b.Choices = []int{0, 1} },
				func(b *Ballot) { b.Choices = []int{1} },
				func(b *Ballot) { b.Choices = []int{0} },
				func(b *Ballot) {},
			},
			counts:    [2]map[string]int64{{"a": 2, "b": 2 + 1}, {"a": 5, "b": 0}},
			delegated: [2]map[string]int64{{"a": 0, "b": 1}, {"a": 5, "b": 0}},
		},
		{
			// Scores times weight. workers: 2 direct a5 b0, 1 delegated
			// a1 b4; users: 5 delegated a2 b0, 3 direct a0 b3.
			name: "score", method: Score, options: ab,
			content: []func(*Ballot){
				func(b *Ballot) { b.Scores = []int{5, 0} },
				func(b *Ballot) { b.Scores = []int{1, 4} },
				func(b *Ballot) { b.Scores = []int{2, 0} },
				func(b *Ballot) { b.Scores = []int{0, 3} },
			},
			counts:    [2]map[string]int64{{"a": 10 + 1, "b": 4}, {"a": 10, "b": 9}},
			delegated: [2]map[string]int64{{"a": 1, "b": 4}, {"a": 10, "b": 0}},
		},
		{
			// First preferences. workers: 2 direct a>b, 1 delegated b;
			// users: 5 delegated b>a, 3 direct a.
			name: "irv", method: IRV, options: ab,
			content: []func(*Ballot){
				func(b *Ballot) { b.Ranking = Strict(0, 1) },
				func(b *Ballot) { b.Ranking = Strict(1) },
				func(b *Ballot) { b.Ranking = Strict(1, 0) },
				func(b *Ballot) { b.Ranking = Strict(0) },
			},
			counts:    [2]map[string]int64{{"a": 2, "b": 1}, {"a": 3, "b": 5}},
			delegated: [2]map[string]int64{{"a": 0, "b": 1}, {"a": 0, "b": 5}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &Input{Method: tc.method, Options: tc.options, Weighting: Equal,
				Classes: []Class{{"workers", 50}, {"users", 50}}}
			in.Ballots = arrivalBallots(func(i int, b *Ballot) { tc.content[i](b) })
			r, err := Count(in)
			if err != nil {
				t.Fatalf("Count(%s): %v", tc.method, err)
			}
			for k, class := range []string{"workers", "users"} {
				cc := r.Classes[class]
				if diff := cmp.Diff(tc.counts[k], cc.Counts); diff != "" {
					t.Errorf("Count(%s).Classes[%s].Counts (-want +got):\n%s", tc.method, class, diff)
				}
				if diff := cmp.Diff(tc.delegated[k], cc.DelegatedCounts); diff != "" {
					t.Errorf("Count(%s).Classes[%s].DelegatedCounts (-want +got):\n%s", tc.method, class, diff)
				}
			}
		})
	}
}

// TestNoDelegatedCounts wants no delegated_counts when nothing was
// delegated, so results without delegation read as before.
func TestNoDelegatedCounts(t *testing.T) {
	in := election(t, Approval, Params{}, "a,b", "1: a", "2: b")
	for i := range in.Ballots {
		in.Ballots[i].Choices = []int{i}
		in.Ballots[i].Ranking = nil
	}
	r := mustCount(t, in)
	if cc := r.Classes["all"]; cc.DelegatedCounts != nil || cc.Direct != 3 || cc.Delegated != 0 || r.Direct != nil {
		t.Errorf("Count(approval) without delegation: class %+v, direct %v, want no delegated counts and direct 3", cc, r.Direct)
	}
}
