// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package record

import (
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/vote"
)

// to returns a delegation's trustee; "" is nobody.
func to(name string) *string {
	if name == "" {
		return nil
	}
	return &name
}

func del(from, trustee, scope string) Delegation {
	return Delegation{From: from, To: to(trustee), Scope: scope}
}

func choice(c string) Content { return Content{Choice: &c} }

// yesno builds a yes/no record over one class from "name" or "name:weight"
// members and "name=yes|no|abstain" ballots.
func yesno(members, ballots string, dels ...Delegation) *Record {
	rec := &Record{Format: Format, Proposal: 5, Method: vote.YesNo, Weighting: vote.Equal, Topic: "garden",
		Classes: []vote.Class{{Key: "all", Weight: 100}}, Options: vote.FixedOptions(vote.YesNo), Delegations: dels}
	for _, m := range strings.Fields(members) {
		name, w, ok := strings.Cut(m, ":")
		weight := int64(1)
		if ok {
			weight, _ = strconv.ParseInt(w, 10, 64)
		}
		rec.Electorate = append(rec.Electorate, Voter{Voter: name, Class: "all", Weight: weight})
	}
	for _, b := range strings.Fields(ballots) {
		name, c, _ := strings.Cut(b, "=")
		rec.Ballots = append(rec.Ballots, Ballot{Voter: name, Content: choice(c)})
	}
	return rec
}

// targets names where every member's vote went: the direct voter whose
// ballot counts for her, or "cycle", "blocked", "outside", "none".
func targets(rec *Record, res *Resolution) map[string]string {
	reason := map[int32]string{vote.Cycle: "cycle", vote.Blocked: "blocked", vote.Outside: "outside", vote.NoDelegation: "none"}
	m := map[string]string{}
	for i, t := range res.Target {
		if t >= 0 {
			m[rec.Electorate[i].Voter] = rec.Electorate[t].Voter
		} else {
			m[rec.Electorate[i].Voter] = reason[t]
		}
	}
	return m
}

// TestResolve follows delegations on small records; each case's yes and
// no are the member weights whose vote reaches a yes or no ballot, counted
// by hand from the targets.
func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		rec     *Record
		want    map[string]string
		yes, no int64
	}{
		{
			name: "chain through three people",
			rec: yesno("a b c d", "d=yes",
				del("a", "b", ScopeCoop), del("b", "c", ScopeCoop), del("c", "d", ScopeCoop)),
			want: map[string]string{"a": "d", "b": "d", "c": "d", "d": "d"},
			yes:  4,
		},
		{
			name: "cycle gives no vote",
			rec: yesno("a b c d", "d=no",
				del("a", "b", ScopeCoop), del("b", "c", ScopeCoop), del("c", "a", ScopeCoop)),
			want: map[string]string{"a": "cycle", "b": "cycle", "c": "cycle", "d": "d"},
			no:   1,
		},
		{
			name: "into a cycle gives no vote",
			rec: yesno("a b c", "",
				del("a", "b", ScopeCoop), del("b", "c", ScopeCoop), del("c", "b", ScopeCoop)),
			want: map[string]string{"a": "cycle", "b": "cycle", "c": "cycle"},
		},
		{
			name: "topic delegation overrides a co-op one",
			rec: yesno("a y:2 n:3", "y=yes n=no",
				del("a", "n", ScopeCoop), Delegation{From: "a", To: to("y"), Scope: ScopeTopic, Topic: "garden"}),
			want: map[string]string{"a": "y", "y": "y", "n": "n"},
			yes:  1 + 2, no: 3,
		},
		{
			name: "topic delegation of another topic is ignored",
			rec: yesno("a y n", "y=yes n=no",
				del("a", "n", ScopeCoop), Delegation{From: "a", To: to("y"), Scope: ScopeTopic, Topic: "kitchen"}),
			want: map[string]string{"a": "n", "y": "y", "n": "n"},
			yes:  1, no: 2,
		},
		{
			name: "proposal delegation to nobody blocks a co-op one",
			rec: yesno("a:5 y", "y=yes",
				del("a", "y", ScopeCoop), Delegation{From: "a", Scope: ScopeProposal, Proposal: 5}),
			want: map[string]string{"a": "blocked", "y": "y"},
			yes:  1,
		},
		{
			name: "proposal delegation of another proposal is ignored",
			rec: yesno("a:5 y", "y=yes",
				del("a", "y", ScopeCoop), Delegation{From: "a", Scope: ScopeProposal, Proposal: 6}),
			want: map[string]string{"a": "y", "y": "y"},
			yes:  5 + 1,
		},
		{
			name: "topic delegation to nobody blocks a chain that passes through",
			rec: yesno("a b y", "y=yes",
				del("a", "b", ScopeCoop), del("b", "y", ScopeCoop), Delegation{From: "b", Scope: ScopeTopic, Topic: "garden"}),
			want: map[string]string{"a": "blocked", "b": "blocked", "y": "y"},
			yes:  1,
		},
		{
			name: "trustee who votes counts for herself and her delegators",
			rec: yesno("t:2 a b:3 c", "t=no c=yes",
				del("t", "c", ScopeCoop), del("a", "t", ScopeCoop), del("b", "t", ScopeCoop)),
			want: map[string]string{"t": "t", "a": "t", "b": "t", "c": "c"},
			yes:  1, no: 2 + 1 + 3,
		},
		{
			name: "delegator who votes after her trustee keeps her own ballot",
			rec: yesno("t a b", "t=yes a=no",
				del("a", "t", ScopeCoop), del("b", "a", ScopeCoop)),
			want: map[string]string{"t": "t", "a": "a", "b": "a"},
			yes:  1, no: 2,
		},
		{
			name: "chain to a silent member gives no vote",
			rec:  yesno("a s y", "y=yes", del("a", "s", ScopeCoop)),
			want: map[string]string{"a": "none", "s": "none", "y": "y"},
			yes:  1,
		},
		{
			name: "delegation to someone outside the electorate gives no vote",
			rec:  yesno("a y", "y=yes", del("a", "gone", ScopeCoop)),
			want: map[string]string{"a": "outside", "y": "y"},
			yes:  1,
		},
		{
			name: "delegation from someone outside the electorate is ignored",
			rec:  yesno("y", "y=yes", del("gone", "y", ScopeCoop)),
			want: map[string]string{"y": "y"},
			yes:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.rec.Resolve()
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if diff := cmp.Diff(tc.want, targets(tc.rec, res)); diff != "" {
				t.Errorf("Resolve targets (-want +got):\n%s", diff)
			}
			r, err := Count(tc.rec)
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if got := r.Classes["all"].Counts; got["yes"] != tc.yes || got["no"] != tc.no {
				t.Errorf("Count: yes %d no %d, want %d and %d", got["yes"], got["no"], tc.yes, tc.no)
			}
		})
	}
}

// TestLongChain resolves a chain of 100,000 members, each delegating to
// the next and the last voting: every member gets the last one's ballot.
// The delegations are listed backwards so resolution cannot just follow
// the record's order.
func TestLongChain(t *testing.T) {
	const n = 100_000
	rec := &Record{Format: Format, Method: vote.YesNo, Weighting: vote.Equal,
		Classes: []vote.Class{{Key: "all", Weight: 100}}, Options: vote.FixedOptions(vote.YesNo)}
	name := func(i int) string { return "m" + strconv.Itoa(i) }
	for i := range n {
		rec.Electorate = append(rec.Electorate, Voter{Voter: name(i), Class: "all", Weight: 1})
	}
	for i := n - 2; i >= 0; i-- {
		rec.Delegations = append(rec.Delegations, del(name(i), name(i+1), ScopeCoop))
	}
	rec.Ballots = []Ballot{{Voter: name(n - 1), Content: choice("no")}}
	res, err := rec.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for i, tg := range res.Target {
		if tg != n-1 {
			t.Fatalf("Resolve: member %d's vote goes to %d, want %d", i, tg, n-1)
		}
	}
	if got := res.Carried(n - 1); got != n-1 {
		t.Errorf("Carried(last) = %d, want %d", got, n-1)
	}
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Classes["all"].Counts["no"]; got != n || r.DelegatedWeight != n-1 || r.DirectWeight != 1 {
		t.Errorf("Count: no %d, delegated %d, direct %d; want %d, %d, 1", got, r.DelegatedWeight, r.DirectWeight, n, n-1)
	}
}

// twoClasses is a class-weighted yes/no record: workers (60%) w1, w2;
// users (40%) u1, u2, u3. w1 votes yes, u1 no; u2 and u3 delegate to w1
// and w2 to u1, each across classes.
func twoClasses(within bool) *Record {
	return &Record{Format: Format, Method: vote.YesNo, Weighting: vote.Classes, WithinClassOnly: within,
		Classes: []vote.Class{{Key: "workers", Weight: 60}, {Key: "users", Weight: 40}},
		Options: vote.FixedOptions(vote.YesNo),
		Electorate: []Voter{{"w1", "workers", 1}, {"w2", "workers", 1},
			{"u1", "users", 1}, {"u2", "users", 1}, {"u3", "users", 1}},
		Ballots:     []Ballot{{Voter: "w1", Content: choice("yes")}, {Voter: "u1", Content: choice("no")}},
		Delegations: []Delegation{del("u2", "w1", ScopeCoop), del("u3", "w1", ScopeCoop), del("w2", "u1", ScopeCoop)},
	}
}

// TestClassWeightsKeepDelegatorsClass checks RULES.md 2.3 with 2.4: a
// delegated vote counts in the delegator's class. Workers: w1 yes, w2 no
// (u1's, delegated); users: u1 no, u2 and u3 yes (w1's). Support =
// (60·1/2 + 40·2/3) / 100 = (30 + 80/3) / 100 = 17/30. Had the votes moved
// to the trustee's class, workers would hold yes 3 of 3 and users no 2 of 2,
// support 60/100.
func TestClassWeightsKeepDelegatorsClass(t *testing.T) {
	rec := twoClasses(false)
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Support.Rat(); got.Cmp(big.NewRat(17, 30)) != 0 {
		t.Errorf("Count: support %s, want 17/30", got.RatString())
	}
	for _, c := range []struct {
		class             string
		yes, no           int64
		direct, delegated int64
	}{{"workers", 1, 1, 1, 1}, {"users", 2, 1, 1, 2}} {
		cc := r.Classes[c.class]
		if cc.Counts["yes"] != c.yes || cc.Counts["no"] != c.no || cc.Direct != c.direct || cc.Delegated != c.delegated {
			t.Errorf("Count: class %s = %+v, want yes %d no %d, direct %d delegated %d", c.class, cc, c.yes, c.no, c.direct, c.delegated)
		}
	}
	if cc := r.Classes["users"]; cc.DelegatedCounts["yes"] != 2 || cc.DelegatedCounts["no"] != 0 {
		t.Errorf("Count: users' delegated counts %v, want yes 2, no 0", cc.DelegatedCounts)
	}
}

// TestWithinClassOnly: with within_class_only, every hop of twoClasses
// crosses a class, so only w1 and u1 vote: support = (60·1/1 + 40·0/1) /
// 100 = 3/5.
func TestWithinClassOnly(t *testing.T) {
	rec := twoClasses(true)
	res, err := rec.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"w1": "w1", "w2": "outside", "u1": "u1", "u2": "outside", "u3": "outside"}
	if diff := cmp.Diff(want, targets(rec, res)); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Support.Rat(); got.Cmp(big.NewRat(3, 5)) != 0 || r.DelegatedWeight != 0 {
		t.Errorf("Count: support %s, delegated %d, want 3/5 and 0", got.RatString(), r.DelegatedWeight)
	}
}

// TestSecretBallots counts ballots without voters with their own class and
// weight; a delegation cannot reach them, so it gives no vote.
func TestSecretBallots(t *testing.T) {
	rec := &Record{Format: Format, Method: vote.YesNo, Weighting: vote.Equal,
		Classes:    []vote.Class{{Key: "a", Weight: 50}, {Key: "b", Weight: 50}},
		Options:    vote.FixedOptions(vote.YesNo),
		Electorate: []Voter{{"p", "a", 1}, {"q", "b", 3}, {"r", "b", 1}},
		Ballots: []Ballot{
			{Class: "a", Weight: 1, Content: choice("yes")},
			{Class: "b", Weight: 3, Content: choice("no")},
		},
		Delegations: []Delegation{del("r", "q", ScopeCoop)},
	}
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := r.Classes["a"], r.Classes["b"]; a.Counts["yes"] != 1 || b.Counts["no"] != 3 || b.Ballots != 3 || r.DirectWeight != 4 || r.DelegatedWeight != 0 {
		t.Errorf("Count: classes a %+v, b %+v, direct %d; want a yes 1, b no 3 of 3 ballots, direct 4", a, b, r.DirectWeight)
	}
	res, _ := rec.Resolve()
	if got := targets(rec, res); got["r"] != "none" {
		t.Errorf("Resolve: r's vote goes to %s, want none", got["r"])
	}
}

func TestBadRecords(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Record)
		want   string
	}{
		{"duplicate voter", func(r *Record) { r.Electorate = append(r.Electorate, Voter{"a", "all", 1}) }, `"a" is twice in the electorate`},
		{"unknown class", func(r *Record) { r.Electorate[0].Class = "guests" }, `class "guests", which the record does not list`},
		{"weight 0", func(r *Record) { r.Electorate[1].Weight = 0 }, `"b" has weight 0`},
		{"negative weight", func(r *Record) { r.Electorate[1].Weight = -2 }, `"b" has weight -2`},
		{"nameless member", func(r *Record) { r.Electorate[1].Voter = "" }, "has no name"},
		{"two delegations of one scope", func(r *Record) { r.Delegations = append(r.Delegations, del("a", "c", ScopeCoop)) }, `"a" has two coop delegations`},
		{"two delegations of one scope around a narrower one", func(r *Record) {
			r.Delegations = append(r.Delegations, Delegation{From: "a", To: to("c"), Scope: ScopeTopic, Topic: "garden"}, del("a", "c", ScopeCoop))
		}, `"a" has two coop delegations`},
		{"unknown scope", func(r *Record) { r.Delegations = append(r.Delegations, del("c", "b", "area")) }, `scope "area"`},
		{"ballot of a non-member", func(r *Record) { r.Ballots = append(r.Ballots, Ballot{Voter: "zed", Content: choice("yes")}) }, `ballot of "zed", who is not in the electorate`},
		{"two ballots of one voter", func(r *Record) { r.Ballots = append(r.Ballots, Ballot{Voter: "b", Content: choice("no")}) }, `two ballots of "b"`},
		{"ballot for no option", func(r *Record) { r.Ballots[0].Content = choice("maybe") }, `ballot 0 ("b")`},
		{"secret ballot without class", func(r *Record) { r.Ballots = append(r.Ballots, Ballot{Weight: 1, Content: choice("no")}) }, "secret ballot 1 needs a listed class"},
		{"secret ballot of weight 0", func(r *Record) { r.Ballots = append(r.Ballots, Ballot{Class: "all", Content: choice("no")}) }, "secret ballot 1 needs a listed class and a positive weight"},
		{"total of an unknown class", func(r *Record) { r.Totals = []Total{{Class: "guests", Choice: "yes", Count: 2}} }, `total for class "guests"`},
		{"negative total", func(r *Record) { r.Totals = []Total{{Class: "all", Choice: "yes", Count: -1}} }, "negative total -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := yesno("a b c", "b=yes", del("a", "b", ScopeCoop))
			tc.change(rec)
			_, err := Count(rec)
			if !errors.Is(err, ErrRecord) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Count(%s) = %v, want ErrRecord saying %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"other format", `{"format": "opencoop-decision/2"}`, `format "opencoop-decision/2"`},
		{"unknown field", `{"format": "opencoop-decision/1", "electorat": []}`, `unknown field "electorat"`},
		{"not JSON", `format: x`, "invalid character"},
	}
	for _, tc := range tests {
		_, err := Read(strings.NewReader(tc.json))
		if !errors.Is(err, ErrRecord) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want ErrRecord saying %q", tc.name, err, tc.want)
		}
	}
}

func readRecord(t *testing.T, name string) *Record {
	t.Helper()
	f, err := os.Open(filepath.Join("../../testdata/record", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := Read(f)
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return rec
}

// TestHandWrittenSchulze recounts testdata/record/schulze-default.json,
// written and counted by hand. Where each vote goes:
//
//	ana (1), eli (1, → ana), fay (2, → eli → ana)   weight 4: a > b=sq > c
//	ben (1)                                        weight 1: b > sq, so a=c=sq
//	cai (2)                                        weight 2: c=a > sq, so b=sq
//	dee (1), gus (1, topic → dee; his co-op → ben
//	  and "rota" topic → cai do not apply)         weight 2: sq > a, so b=c=sq
//	kim (1, votes herself over her co-op → ana)    weight 1: b > a; sq unranked,
//	                                               so sq=c below a
//	hal: blocked on this proposal; ivy ↔ jon: a cycle.
//
// Pairwise, d[x][y] summed over those five ballots:
//
//	d[a][sq] = 4 + 2 + 1 = 7    d[sq][a] = 2
//	d[b][sq] = 1 + 1     = 2    d[sq][b] = 0
//	d[c][sq] = 2         = 2    d[sq][c] = 4
//	d[a][b]  = 4 + 2     = 6    d[b][a]  = 1 + 2 + 1 = 4
//	d[a][c]  = 4 + 1     = 5    d[c][a]  = 2
//	d[b][c]  = 4 + 1 + 1 = 6    d[c][b]  = 2
//
// c fails the default 2:4 and is dropped; a beats sq and b, so a wins.
// Direct weight 1+1+2+1+1 = 6, delegated 1+2+1 = 4.
func TestHandWrittenSchulze(t *testing.T) {
	rec := readRecord(t, "schulze-default.json")
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{
		"sq": {"a": 2, "b": 0, "c": 4},
		"a":  {"sq": 7, "b": 6, "c": 5},
		"b":  {"sq": 2, "a": 4, "c": 6},
		"c":  {"sq": 2, "a": 2, "b": 2},
	}
	for x, row := range want {
		for y, n := range row {
			if got := r.Pairwise[x][y]; got.Rat().Cmp(big.NewRat(n, 1)) != 0 {
				t.Errorf("Count: pairwise[%s][%s] = %s, want %d", x, y, got, n)
			}
		}
	}
	if !slices.Equal(r.Winners, []string{"a"}) || !slices.Equal(r.Dropped, []string{"c"}) {
		t.Errorf("Count: winners %q, dropped %q; want [a], [c]", r.Winners, r.Dropped)
	}
	if r.DirectWeight != 6 || r.DelegatedWeight != 4 || r.Participation.Voted != 10 || r.Participation.Electorate != 13 {
		t.Errorf("Count: direct %d, delegated %d, participation %+v; want 6, 4, 10 of 13", r.DirectWeight, r.DelegatedWeight, r.Participation)
	}
	res, _ := rec.Resolve()
	wantTargets := map[string]string{"ana": "ana", "ben": "ben", "cai": "cai", "dee": "dee", "eli": "ana", "fay": "ana",
		"gus": "dee", "hal": "blocked", "ivy": "cycle", "jon": "cycle", "kim": "kim"}
	if diff := cmp.Diff(wantTargets, targets(rec, res)); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

// TestHandWrittenYesNo recounts testdata/record/yesno-classes.json, written
// and counted by hand. Workers (60%): wren 1 yes, wade 2 no, will 1 yes
// (→ uma, a user, but counted as a worker). Users (40%): uma 1 yes, ugo 1
// abstain, una 3 no (topic → wade), uri 1 abstain (→ ugo); ula's co-op
// delegation is blocked by her topic delegation to nobody.
//
//	workers: yes 2, no 2, valid 4        users: yes 1, no 3, valid 4
//	weighted yes = 60·2/4 + 40·1/4 = 40  weighted no = 60·2/4 + 40·3/4 = 60
//	support = 40/100 = 2/5: rejected (yes must exceed 1/2 of cast).
//
// Participation 10 of 11 (ula silent), quorum 50% = 6: quorate. Direct
// weight 1+2+1+1 = 5, delegated 1+3+1 = 5; per class workers 3 + 1, users
// 2 + 4. Neither class has a yes majority.
func TestHandWrittenYesNo(t *testing.T) {
	rec := readRecord(t, "yesno-classes.json")
	r, err := Count(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Support.Rat(); got.Cmp(big.NewRat(2, 5)) != 0 || r.Outcome != vote.Rejected {
		t.Errorf("Count: support %s, outcome %s; want 2/5, rejected", got.RatString(), r.Outcome)
	}
	if y, n := r.Weighted["yes"].Rat(), r.Weighted["no"].Rat(); y.Cmp(big.NewRat(40, 1)) != 0 || n.Cmp(big.NewRat(60, 1)) != 0 {
		t.Errorf("Count: weighted yes %s, no %s; want 40, 60", y.RatString(), n.RatString())
	}
	no := false
	want := map[string]*vote.ClassCount{
		"workers": {Weight: 60, Electorate: 4, Ballots: 4, Valid: 4, Direct: 3, Delegated: 1,
			Counts:          map[string]int64{"yes": 2, "no": 2, "abstain": 0},
			DelegatedCounts: map[string]int64{"yes": 1, "no": 0, "abstain": 0}, Majority: &no},
		"users": {Weight: 40, Electorate: 7, Ballots: 6, Valid: 4, Direct: 2, Delegated: 4,
			Counts:          map[string]int64{"yes": 1, "no": 3, "abstain": 2},
			DelegatedCounts: map[string]int64{"yes": 0, "no": 3, "abstain": 1}, Majority: &no},
	}
	if diff := cmp.Diff(want, r.Classes); diff != "" {
		t.Errorf("Count: classes (-want +got):\n%s", diff)
	}
	if p := r.Participation; p.Voted != 10 || p.Electorate != 11 || p.Required != 6 || !p.Quorate {
		t.Errorf("Count: participation %+v, want 10 of 11, 6 required, quorate", p)
	}
	if r.DirectWeight != 5 || r.DelegatedWeight != 5 {
		t.Errorf("Count: direct %d, delegated %d, want 5, 5", r.DirectWeight, r.DelegatedWeight)
	}
}

// TestNormalizeCanonical checks that Content.Normalize, which the server
// uses on every ballot cast, still gives the canonical form.
func TestNormalizeCanonical(t *testing.T) {
	opts := []vote.Option{{Key: "a"}, {Key: "b"}, {Key: "c"}}
	tests := []struct {
		m    vote.Method
		p    vote.Params
		in   Content
		want Content
		ball vote.Ballot
	}{
		{vote.Approval, vote.Params{}, Content{Choices: []string{"c", "a"}}, Content{Choices: []string{"a", "c"}},
			vote.Ballot{Choices: []int{0, 2}}},
		{vote.Score, vote.Params{ScoreMin: 1, ScoreMax: 5}, Content{Scores: map[string]int{"b": 4}},
			Content{Scores: map[string]int{"a": 1, "b": 4, "c": 1}}, vote.Ballot{Scores: []int{1, 4, 1}}},
		{vote.Schulze, vote.Params{}, Content{Ranking: Ranking{{"b"}, {"c", "a"}}}, Content{Ranking: Ranking{{"b"}, {"c", "a"}}},
			vote.Ballot{Ranking: vote.RankingOf([][]int{{1}, {2, 0}})}},
	}
	for _, tc := range tests {
		got, b, err := tc.in.Normalize(tc.m, opts, tc.p)
		if err != nil {
			t.Errorf("Normalize(%s, %+v): %v", tc.m, tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Normalize(%s) content (-want +got):\n%s", tc.m, diff)
		}
		if diff := cmp.Diff(tc.ball, b); diff != "" {
			t.Errorf("Normalize(%s) ballot (-want +got):\n%s", tc.m, diff)
		}
	}
	for _, bad := range []Content{{Choices: []string{"a", "a"}}, {Ranking: Ranking{{"a"}, {"a"}}}, {Ranking: Ranking{{}}}} {
		m := vote.Approval
		if bad.Ranking != nil {
			m = vote.Schulze
		}
		if _, _, err := bad.Normalize(m, opts, vote.Params{}); err == nil {
			t.Errorf("Normalize(%s, %+v): no error", m, bad)
		}
	}
}

// TestRankingJSON reads rankings by the hand-written fast path and by
// encoding/json's generic one and wants the same groups or an error from
// both.
func TestRankingJSON(t *testing.T) {
	tests := []struct {
		json string
		want Ranking // nil: an error
	}{
		{`["a", ["b", "c"], "sq"]`, Ranking{{"a"}, {"b", "c"}, {"sq"}}},
		{` [ [ "a" ] , "b" ] `, Ranking{{"a"}, {"b"}}},
		{`[]`, Ranking{}},
		{`[[]]`, Ranking{{}}},
		{`["a[1]", ["b]", "[c"]]`, Ranking{{"a[1]"}, {"b]", "[c"}}},
		{`["\u00e9t\u00e9", ["a\"b"]]`, Ranking{{"été"}, {`a"b`}}},
		{`["a",]`, nil},
		{`[["a",]]`, nil},
		{`[1]`, nil},
		{`[[["a"]]]`, nil},
		{`"a"`, nil},
		{`["a"`, nil},
	}
	for _, tc := range tests {
		var got Ranking
		err := json.Unmarshal([]byte(tc.json), &got)
		if tc.want == nil {
			if err == nil {
				t.Errorf("Unmarshal(%s) = %q, want an error", tc.json, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.json, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Unmarshal(%s) (-want +got):\n%s", tc.json, diff)
		}
	}
	var c Content
	if err := json.Unmarshal([]byte(`{"ranking": null, "choice": "yes"}`), &c); err != nil || c.Ranking != nil {
		t.Errorf(`Unmarshal("ranking": null) = %v, %v; want no ranking`, c.Ranking, err)
	}
}
