// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package record

import (
	"cmp"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"opencoop/internal/vote"
)

// lfDir is a LiquidFeedback reference run (testdata/liquid/README.md).
const lfDir = "../../testdata/liquid/lf-10000"

// readCSV reads a CSV file with a header into one map per row.
func readCSV(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(lfDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		m := make(map[string]string, len(r))
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func atoi(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// liquidRecord turns LiquidFeedback's input into a decision record, as
// docs/decision-record.md describes:
//
//   - the electorate is the members who are active and have the voting
//     right, in one class, each with her weight; LiquidFeedback removes
//     direct voters without both when it closes the vote, so their ballots
//     are left out here;
//   - unit delegations are co-op ones, area delegations topic ones (topic
//     "area-N"; the issue is in area 1), issue delegations proposal ones;
//     an empty trustee is a delegation to nobody;
//   - the options are the status quo "sq", the default option, and the
//     admitted initiatives "i<id>" (result_initiatives.csv);
//   - a ballot's grades become a ranking: positive grades, highest first,
//     then one group of sq with every initiative graded 0 or not graded,
//     then negative grades, highest (least negative) first; equal grades
//     are level.
func liquidRecord(t testing.TB) *Record {
	t.Helper()
	rec := &Record{Format: Format, Proposal: 1, Title: "LiquidFeedback issue 1", Method: vote.Schulze,
		Params: vote.Params{DefaultOption: "sq"}, Weighting: vote.Equal, Topic: "area-1",
		Classes: []vote.Class{{Key: "members", Weight: 100}},
		Options: []vote.Option{{Key: "sq", Label: "Status quo"}}}
	admitted := map[string]bool{}
	for _, r := range readCSV(t, "result_initiatives.csv") {
		if r["admitted"] == "t" {
			admitted[r["initiative_id"]] = true
			rec.Options = append(rec.Options, vote.Option{Key: "i" + r["initiative_id"], Label: "Initiative " + r["initiative_id"]})
		}
	}
	eligible := map[string]bool{}
	for _, r := range readCSV(t, "input_members.csv") {
		if r["active"] == "t" && r["voting_right"] == "t" {
			eligible[r["member_id"]] = true
			rec.Electorate = append(rec.Electorate, Voter{Voter: r["member_id"], Class: "members", Weight: atoi(t, r["weight"])})
		}
	}
	grades := map[string]map[string]int64{} // member → option → grade
	for _, r := range readCSV(t, "input_ballots.csv") {
		if r["issue_id"] != "1" || !admitted[r["initiative_id"]] {
			continue
		}
		if grades[r["member_id"]] == nil {
			grades[r["member_id"]] = map[string]int64{}
		}
		grades[r["member_id"]]["i"+r["initiative_id"]] = atoi(t, r["grade"])
	}
	for _, r := range readCSV(t, "input_direct_voters.csv") {
		if r["issue_id"] != "1" || !eligible[r["member_id"]] {
			continue
		}
		rec.Ballots = append(rec.Ballots, Ballot{Voter: r["member_id"], Content: Content{Ranking: gradeRanking(rec.Options, grades[r["member_id"]])}})
	}
	for _, r := range readCSV(t, "input_delegations.csv") {
		d := Delegation{From: r["truster_id"], To: to(r["trustee_id"])}
		switch r["scope"] {
		case "unit":
			d.Scope = ScopeCoop
		case "area":
			d.Scope, d.Topic = ScopeTopic, "area-"+r["area_id"]
		case "issue":
			d.Scope, d.Proposal = ScopeProposal, atoi(t, r["issue_id"])
		default:
			t.Fatalf("delegation %s: scope %q", r["delegation_id"], r["scope"])
		}
		rec.Delegations = append(rec.Delegations, d)
	}
	return rec
}

// gradeRanking ranks the options by LiquidFeedback grades: higher first,
// the status quo at grade 0, ungraded options at grade 0 too.
func gradeRanking(options []vote.Option, grades map[string]int64) Ranking {
	keys := make([]string, len(options))
	for i, o := range options {
		keys[i] = o.Key
	}
	grade := func(k string) int64 { return grades[k] } // sq and ungraded: 0
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(grade(b), grade(a)) })
	var r Ranking
	for i, k := range keys {
		if i > 0 && grade(k) == grade(keys[i-1]) {
			r[len(r)-1] = append(r[len(r)-1], k)
		} else {
			r = append(r, []string{k})
		}
	}
	return r
}

// TestLiquidFeedback counts LiquidFeedback's own run of 10,000 members
// (testdata/liquid/lf-10000) through a decision record and wants
// LiquidFeedback's figures back exactly: every initiative's positive and
// negative votes (pairwise against the status quo), its whole battle table,
// which initiatives fail the majority against the status quo, the Schulze
// order, the winner, the voter count and population, every direct voter's
// weight with the votes delegated to her, and every delegating voter's
// final direct voter.
func TestLiquidFeedback(t *testing.T) {
	rec := liquidRecord(t)
	in, res, err := rec.Input()
	if err != nil {
		t.Fatal(err)
	}
	r, err := vote.Count(in)
	if err != nil {
		t.Fatal(err)
	}
	pair := func(a, b string) int64 {
		t.Helper()
		n := r.Pairwise[a][b].Rat()
		if !n.IsInt() {
			t.Fatalf("pairwise[%s][%s] = %s, not whole", a, b, n.RatString())
		}
		return n.Num().Int64()
	}
	key := func(id string) string {
		if id == "" {
			return "sq"
		}
		return "i" + id
	}

	var wantDropped []string
	rank := map[string]int64{}
	for _, row := range readCSV(t, "result_initiatives.csv") {
		if row["admitted"] != "t" {
			continue
		}
		k := key(row["initiative_id"])
		if got, want := pair(k, "sq"), atoi(t, row["positive_votes"]); got != want {
			t.Errorf("pairwise[%s][sq] = %d, want LiquidFeedback's positive_votes %d", k, got, want)
		}
		if got, want := pair("sq", k), atoi(t, row["negative_votes"]); got != want {
			t.Errorf("pairwise[sq][%s] = %d, want LiquidFeedback's negative_votes %d", k, got, want)
		}
		// The policy's direct majority is > 1/2 of positive + negative:
		// the 1:1 majority against the default option.
		if row["direct_majority"] != "t" {
			wantDropped = append(wantDropped, k)
		}
		rank[k] = atoi(t, row["schulze_rank"])
		if row["winner"] == "t" && !slices.Equal(r.Winners, []string{k}) {
			t.Errorf("winners = %q, want LiquidFeedback's %s", r.Winners, k)
		}
	}
	if !slices.Equal(r.Winners, []string{"i2"}) {
		t.Errorf("winners = %q, want [i2] (testdata/liquid/README.md)", r.Winners)
	}
	if got := slices.Sorted(slices.Values(r.Dropped)); !slices.Equal(got, wantDropped) {
		t.Errorf("dropped = %q, want the initiatives without a direct majority %q", got, wantDropped)
	}
	battles := readCSV(t, "result_battle.csv")
	if len(battles) != len(rec.Options)*(len(rec.Options)-1) {
		t.Errorf("result_battle.csv has %d pairs, want %d", len(battles), len(rec.Options)*(len(rec.Options)-1))
	}
	for _, row := range battles {
		a, b := key(row["winning_initiative_id"]), key(row["losing_initiative_id"])
		if got, want := pair(a, b), atoi(t, row["count"]); got != want {
			t.Errorf("pairwise[%s][%s] = %d, want LiquidFeedback's battle count %d", a, b, got, want)
		}
	}
	// LiquidFeedback ranks the status quo too; opencoop ranks what is left
	// after the majority check, in the same order.
	rank["sq"] = atoi(t, readCSV(t, "result_issue.csv")[0]["status_quo_schulze_rank"])
	ranking, _ := r.Extra["ranking"].([]string)
	if !slices.IsSortedFunc(ranking, func(a, b string) int { return cmp.Compare(rank[a], rank[b]) }) || len(ranking) != len(rec.Options)-len(wantDropped) {
		t.Errorf("ranking = %q, want the undropped options in LiquidFeedback's schulze_rank order %v", ranking, rank)
	}
	issue := readCSV(t, "result_issue.csv")[0]
	if p := r.Participation; p.Voted != atoi(t, issue["voter_count"]) || p.Electorate != atoi(t, issue["population"]) {
		t.Errorf("participation %d of %d, want LiquidFeedback's voter_count %s of population %s", p.Voted, p.Electorate, issue["voter_count"], issue["population"])
	}

	// Delegation: the weight each direct voter carries, and where each
	// delegated vote went.
	pos := map[string]int32{}
	for i, v := range rec.Electorate {
		pos[v.Voter] = int32(i)
	}
	carried := make([]int64, len(rec.Electorate)) // Σ weights of members whose Target is her
	for i, tg := range res.Target {
		if tg >= 0 {
			carried[tg] += rec.Electorate[i].Weight
		}
	}
	direct := readCSV(t, "result_direct_voters.csv")
	for _, row := range direct {
		i, ok := pos[row["member_id"]]
		if !ok || res.Target[i] != i {
			t.Errorf("LiquidFeedback's direct voter %s is not a direct voter here", row["member_id"])
			continue
		}
		if got, want := carried[i], atoi(t, row["weight"]); got != want {
			t.Errorf("direct voter %s carries weight %d (own %d + %d members), want LiquidFeedback's %d",
				row["member_id"], got, rec.Electorate[i].Weight, res.Carried(i), want)
		}
	}
	delegating := readCSV(t, "result_delegating_voters.csv")
	for _, row := range delegating {
		i, ok := pos[row["member_id"]]
		if !ok {
			t.Errorf("LiquidFeedback's delegating voter %s is not in the electorate", row["member_id"])
			continue
		}
		tg := res.Target[i]
		if tg < 0 || rec.Electorate[tg].Voter != row["final_direct_voter"] {
			t.Errorf("member %s's vote goes to %d, want LiquidFeedback's final direct voter %s", row["member_id"], tg, row["final_direct_voter"])
		}
	}
	// And no one else: members LiquidFeedback counted neither directly nor
	// through delegation have no vote here.
	var voters, delegated int
	for i, tg := range res.Target {
		switch {
		case tg == int32(i):
			voters++
		case tg >= 0:
			delegated++
		}
	}
	if voters != len(direct) || delegated != len(delegating) {
		t.Errorf("%d direct and %d delegated votes, want LiquidFeedback's %d and %d", voters, delegated, len(direct), len(delegating))
	}
}

// TestLiquidFeedbackUnranked leaves every initiative graded 0 or not at
// all out of the rankings of the LiquidFeedback record, keeping sq in its
// group: by the default-option rule of countSchulze they rank level with
// sq, as LiquidFeedback's absent grade does, so every pairwise count must
// stay the same.
func TestLiquidFeedbackUnranked(t *testing.T) {
	full := liquidRecord(t)
	short := liquidRecord(t)
	for i := range short.Ballots {
		rk := short.Ballots[i].Ranking
		for j, g := range rk {
			if slices.Contains(g, "sq") {
				rk[j] = []string{"sq"}
			}
		}
	}
	a, err := Count(full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Count(short)
	if err != nil {
		t.Fatal(err)
	}
	for x, row := range a.Pairwise {
		for y, n := range row {
			if m := b.Pairwise[x][y]; m.Rat().Cmp(n.Rat()) != 0 {
				t.Errorf("pairwise[%s][%s] = %s with ungraded initiatives left out, %s with them level with sq", x, y, m, n)
			}
		}
	}
}

var lfRec *Record

// BenchmarkCountLF10000 recounts LiquidFeedback's 10,000-member run from
// its decision record (Resolve, Input and vote.Count; the CSV conversion
// is not timed). LiquidFeedback took about 31 s to close it.
func BenchmarkCountLF10000(b *testing.B) {
	if lfRec == nil {
		lfRec = liquidRecord(b)
	}
	for b.Loop() {
		r, err := Count(lfRec)
		if err != nil {
			b.Fatal(err)
		}
		if !slices.Equal(r.Winners, []string{"i2"}) {
			b.Fatalf("winners %q", r.Winners)
		}
	}
}
