// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"strings"
	"testing"
)

// yn builds yes/no ballots: per class, counts of yes, no and abstain.
func yn(counts ...[3]int) []Ballot {
	var bs []Ballot
	for k, c := range counts {
		for o, n := range c {
			choice := []int{0, 1, 2}[o] // yes, no, abstain in FixedOptions order
			for range n {
				bs = append(bs, Ballot{Weight: 1, Class: k, Choices: []int{choice}})
			}
		}
	}
	return bs
}

func TestYesNoClassWeighting(t *testing.T) {
	two := []Class{{"workers", 60}, {"users", 40}}
	three := []Class{{"workers", 50}, {"users", 30}, {"investors", 20}}
	cases := []struct {
		name     string
		in       Input
		support  string
		outcome  Outcome
		weighted map[string]string
	}{
		{
			// Workers 2 yes, users 1 yes 4 no: equal 3:4 fails, classes
			// 60·1 + 40·1/5 = 68% passes.
			name:    "equal",
			in:      Input{Weighting: Equal, Classes: two, Ballots: yn([3]int{2, 0, 0}, [3]int{1, 4, 0})},
			support: "3/7", outcome: Rejected, weighted: map[string]string{"yes": "3", "no": "4"},
		},
		{
			name:    "classes",
			in:      Input{Weighting: Classes, Classes: two, Ballots: yn([3]int{2, 0, 0}, [3]int{1, 4, 0})},
			support: "17/25", outcome: Passed, weighted: map[string]string{"yes": "68", "no": "32"},
		},
		{
			// Abstentions do not dilute a class: n_k counts yes and no only.
			name:    "abstentions left out of n_k",
			in:      Input{Weighting: Classes, Classes: two, Ballots: yn([3]int{1, 1, 5}, [3]int{0, 1, 0})},
			support: "3/10", outcome: Rejected, weighted: map[string]string{"yes": "30", "no": "70"},
		},
		{
			// Investors are silent: redistribute rescales 50 and 30 to 100.
			name:    "empty class redistributed",
			in:      Input{Weighting: Classes, Classes: three, Ballots: yn([3]int{1, 0, 0}, [3]int{0, 1, 0}, [3]int{})},
			support: "5/8", outcome: Passed, weighted: map[string]string{"yes": "62.5", "no": "37.5"},
		},
		{
			// abstain keeps the investors' 20 in the divisor: 50/100 is not > 1/2.
			name:    "empty class abstains",
			in:      Input{Weighting: Classes, EmptyClass: Abstain, Classes: three, Ballots: yn([3]int{1, 0, 0}, [3]int{0, 1, 0}, [3]int{})},
			support: "1/2", outcome: Rejected, weighted: map[string]string{"yes": "50", "no": "30"},
		},
		{
			// 68% overall, but users say no: the class veto rejects.
			name: "class majority veto",
			in: Input{Weighting: Classes, ClassMajority: true, Classes: two,
				Ballots: yn([3]int{2, 0, 0}, [3]int{1, 4, 0})},
			support: "17/25", outcome: Rejected,
		},
		{
			name:    "special resolution at exactly three quarters",
			in:      Input{Weighting: Equal, Classes: two, Pass: Special, Ballots: yn([3]int{3, 1, 0}, [3]int{})},
			support: "3/4", outcome: Passed,
		},
		{
			name:    "majority of the electorate",
			in:      Input{Weighting: Equal, Classes: two, Pass: PassRule{Of: "electorate", Num: 1, Den: 2, Strict: true}, Electorate: []int64{4, 6}, Ballots: yn([3]int{3, 0, 0}, [3]int{2, 0, 0})},
			support: "1/2", outcome: Rejected,
		},
		{
			name:    "quorum counts abstentions",
			in:      Input{Weighting: Equal, Classes: two, Quorum: Quorum{Percent: 30}, Electorate: []int64{5, 5}, Ballots: yn([3]int{1, 0, 2}, [3]int{})},
			support: "1", outcome: Passed,
		},
		{
			name:    "quorum not met",
			in:      Input{Weighting: Equal, Classes: two, Quorum: Quorum{Percent: 31}, Electorate: []int64{5, 5}, Ballots: yn([3]int{1, 0, 2}, [3]int{})},
			support: "1", outcome: NotQuorate,
		},
		{
			name:    "per-class quorum",
			in:      Input{Weighting: Equal, Classes: two, Quorum: Quorum{ClassPercent: 20}, Electorate: []int64{5, 5}, Ballots: yn([3]int{3, 0, 0}, [3]int{})},
			support: "1", outcome: NotQuorate,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Method, tc.in.Options = YesNo, FixedOptions(YesNo)
			r, err := Count(&tc.in)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if got := r.Support.Exact(); got != tc.support {
				t.Errorf("support = %s, want %s", got, tc.support)
			}
			if r.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s (rule %q)", r.Outcome, tc.outcome, r.Rule)
			}
			for k, want := range tc.weighted {
				if got := r.Weighted[k].String(); got != want {
					t.Errorf("weighted[%s] = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestConsentBlocks(t *testing.T) {
	opts := FixedOptions(Consent) // agree, abstain, disagree, block
	ballots := []Ballot{{Weight: 1, Choices: []int{0}}, {Weight: 1, Choices: []int{0}}, {Weight: 1, Choices: []int{0}}, {Weight: 1, Choices: []int{3}}}
	for _, tc := range []struct {
		allowed int
		want    Outcome
	}{{0, Rejected}, {1, Passed}} {
		in := Input{Method: Consent, Options: opts, Classes: []Class{{"members", 100}}, Weighting: Equal,
			Params: Params{AllowedBlocks: tc.allowed}, Ballots: ballots}
		r, err := Count(&in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != tc.want {
			t.Errorf("3 agree, 1 block, %d allowed: %s, want %s", tc.allowed, r.Outcome, tc.want)
		}
	}
}

func TestTotalsMethods(t *testing.T) {
	abc := []Option{{"a", "A"}, {"b", "B"}, {"c", "C"}}
	one := []Class{{"members", 100}}
	cases := []struct {
		name    string
		in      Input
		winner  string
		totals  map[string]string
		tieLot  bool
		outcome Outcome
	}{
		{"choice plurality", Input{Method: Choice, Ballots: []Ballot{{Weight: 2, Choices: []int{1}}, {Weight: 1, Choices: []int{0}}, {Weight: 1, Choices: []int{0}}, {Weight: 1, Choices: []int{2}}}},
			"a", map[string]string{"a": "2", "b": "2", "c": "1"}, true, Decided},
		{"approval", Input{Method: Approval, Ballots: []Ballot{{Weight: 1, Choices: []int{0, 1}}, {Weight: 1, Choices: []int{1, 2}}, {Weight: 1, Choices: []int{1}}}},
			"b", map[string]string{"a": "1", "b": "3", "c": "1"}, false, Decided},
		{"score", Input{Method: Score, Ballots: []Ballot{{Weight: 1, Scores: []int{5, 0, 3}}, {Weight: 1, Scores: []int{0, 4, 3}}}},
			"c", map[string]string{"a": "5", "b": "4", "c": "6"}, false, Decided},
		{"dot", Input{Method: Dot, Params: Params{Points: 10}, Ballots: []Ballot{{Weight: 1, Scores: []int{7, 3, 0}}, {Weight: 1, Scores: []int{0, 5, 5}}}},
			"b", map[string]string{"a": "7", "b": "8", "c": "5"}, false, Decided},
		{"meeting: yes, then maybe", Input{Method: Meeting, Ballots: []Ballot{{Weight: 1, Scores: []int{2, 2, 0}}, {Weight: 1, Scores: []int{1, 0, 2}}}},
			"a", map[string]string{"a": "1", "b": "1", "c": "1"}, false, Decided},
		{"nobody voted", Input{Method: Approval, Ballots: []Ballot{{Weight: 1}}}, "", nil, false, NoVotes},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Options, tc.in.Classes, tc.in.Weighting = abc, one, Equal
			tc.in.Params.MaxChoices = max(tc.in.Params.MaxChoices, 1)
			tc.in.Params.Seed = "seed"
			r, err := Count(&tc.in)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if r.Outcome != tc.outcome {
				t.Fatalf("outcome = %s, want %s", r.Outcome, tc.outcome)
			}
			if tc.winner != "" && (len(r.Winners) != 1 || r.Winners[0] != tc.winner) {
				// A lot decides ties; check it against Lot itself.
				if !tc.tieLot || r.Winners[0] != Lot("seed", r.TieBroken)[0] {
					t.Errorf("winners = %v, want [%s]", r.Winners, tc.winner)
				}
			}
			if tc.tieLot != (len(r.TieBroken) > 0) {
				t.Errorf("tie broken by lot: %v, want %v", r.TieBroken, tc.tieLot)
			}
			for k, want := range tc.totals {
				if got := r.Weighted[k].String(); got != want {
					t.Errorf("weighted[%s] = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestLotIsReproducibleAndSeeded(t *testing.T) {
	keys := []string{"a", "b", "c", "d", "e", "f"}
	first := Lot("s1", keys)
	if again := Lot("s1", []string{"f", "e", "d", "c", "b", "a"}); !equal(first, again) {
		t.Errorf("Lot depends on input order: %v vs %v", first, again)
	}
	differs := false
	for _, s := range []string{"s2", "s3", "s4", "s5"} {
		differs = differs || !equal(first, Lot(s, keys))
	}
	if !differs {
		t.Errorf("Lot gives %v for every seed", first)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInvalidBallotsRefused(t *testing.T) {
	opts := []Option{{"a", "A"}, {"b", "B"}}
	one := []Class{{"m", 100}}
	for _, in := range []Input{
		{Method: Choice, Params: Params{MaxChoices: 1}, Ballots: []Ballot{{Weight: 1, Choices: []int{0, 1}}}},
		{Method: Approval, Ballots: []Ballot{{Weight: 1, Choices: []int{0, 0}}}},
		{Method: Approval, Ballots: []Ballot{{Weight: 1, Choices: []int{5}}}},
		{Method: Score, Ballots: []Ballot{{Weight: 1, Scores: []int{9, 0}}}},
		{Method: Score, Ballots: []Ballot{{Weight: 0, Scores: []int{1, 0}}}},
		{Method: Dot, Params: Params{Points: 3}, Ballots: []Ballot{{Weight: 1, Scores: []int{2, 2}}}},
		{Method: Score, Ballots: []Ballot{{Weight: 1, Class: 3, Scores: []int{1, 0}}}},
	} {
		in.Options, in.Classes, in.Weighting = opts, one, Equal
		if _, err := Count(&in); err == nil {
			t.Errorf("Count(%s, %+v) accepted an invalid ballot", in.Method, in.Ballots)
		}
	}
}

// TestQuorumInEveryRule: whatever the method, the rule applied names the
// quorum first, and a missed quorum stops the count as not quorate.
func TestQuorumInEveryRule(t *testing.T) {
	abc := []Option{{"a", "A"}, {"b", "B"}, {"c", "C"}}
	for _, tc := range []struct {
		in   Input
		want Outcome
	}{
		{Input{Method: YesNo, Options: FixedOptions(YesNo), Ballots: yn([3]int{1, 0, 0})}, NotQuorate},
		{Input{Method: IRV, Options: abc, Ballots: []Ballot{{Weight: 1, Ranking: Strict(0, 1)}}}, NotQuorate},
		{Input{Method: Schulze, Options: abc, Ballots: []Ballot{{Weight: 3, Ranking: Strict(2, 0)}}}, Decided},
		{Input{Method: Approval, Options: abc, Ballots: []Ballot{{Weight: 3, Choices: []int{1}}}}, Decided},
	} {
		tc.in.Classes, tc.in.Weighting = []Class{{"m", 100}}, Equal
		tc.in.Quorum, tc.in.Electorate = Quorum{Percent: 30}, []int64{10}
		r, err := Count(&tc.in)
		if err != nil {
			t.Fatalf("Count(%s): %v", tc.in.Method, err)
		}
		if !strings.HasPrefix(r.Rule, "quorum 30% of the electorate; ") || len(r.Rule) < 40 {
			t.Errorf("Count(%s).Rule = %q, want the quorum, then the method's rule", tc.in.Method, r.Rule)
		}
		if r.Outcome != tc.want {
			t.Errorf("Count(%s) with %d of 10 voting: %s, want %s", tc.in.Method, r.Participation.Voted, r.Outcome, tc.want)
		}
	}
}
