// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"opencoop/internal/errs"
	"opencoop/internal/money"
)

// amounts returns each leg's account and amount.
func amounts(legs []Leg) map[string]int64 {
	out := map[string]int64{}
	for _, l := range legs {
		out[l.To] += l.Amount
	}
	return out
}

func mustPlan(t *testing.T, preset, params, kind string) plan {
	t.Helper()
	p, err := parseParams(preset, json.RawMessage(params))
	if err != nil {
		t.Fatalf("parseParams(%s, %s): %v", preset, params, err)
	}
	var v errs.ValidationError
	p.check(&v)
	if err := v.Err(); err != nil {
		t.Fatalf("check(%s, %s): %v", preset, params, err)
	}
	pl, err := planFor(p, kind)
	if err != nil {
		t.Fatalf("planFor(%s): %v", kind, err)
	}
	return pl
}

// TestEnspiral is RULES.md 3.2's example: an invoice of 1000 leaves the
// member 800, the foundation 50 and the pool 150; venture revenue gives
// the pool 5%.
func TestEnspiral(t *testing.T) {
	for _, tc := range []struct {
		name, params, kind string
		amount             int64
		want               map[string]int64
	}{
		{"invoice 1000", "", KindInvoice, 1000, map[string]int64{"member": 800, "coop:foundation": 50, "coop:pool": 150}},
		{"invoice 1,000.00", "", KindInvoice, 100000, map[string]int64{"member": 80000, "coop:foundation": 5000, "coop:pool": 15000}},
		// 7 × 20% = 1.4 → collective 1 (member's 5.6 has the larger remainder: 6);
		// of the collective's 1, the pool's 0.75 beats the foundation's 0.25.
		{"invoice 7", "", KindInvoice, 7, map[string]int64{"member": 6, "coop:pool": 1, "coop:foundation": 0}},
		{"venture 1000", "", KindVenture, 1000, map[string]int64{"member": 950, "coop:pool": 50}},
		{"venture 10%", `{"venture_bp": 1000}`, KindVenture, 1000, map[string]int64{"member": 900, "coop:pool": 100}},
		{"collective 30%", `{"collective_bp": 3000, "foundation_bp": 5000}`, KindInvoice, 1000,
			map[string]int64{"member": 700, "coop:foundation": 150, "coop:pool": 150}},
		{"no collective", `{"collective_bp": 0}`, KindInvoice, 1000, map[string]int64{"member": 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := mustPlan(t, Enspiral, tc.params, tc.kind)
			legs, fee, err := pl.split(tc.amount)
			if err != nil || fee != 0 {
				t.Fatalf("split(%d) = fee %d, %v", tc.amount, fee, err)
			}
			if diff := cmp.Diff(tc.want, amounts(legs)); diff != "" {
				t.Errorf("split(%d) (-want +got):\n%s", tc.amount, diff)
			}
		})
	}
}

// TestMarketplaceFee checks the fee is rounded half to even, never by
// largest remainder, and is then halved by largest remainder.
func TestMarketplaceFee(t *testing.T) {
	for _, tc := range []struct {
		price, feeBP                   int64
		fee, seller, common, usersPool int64
	}{
		{price: 1000, feeBP: 500, fee: 50, seller: 950, common: 25, usersPool: 25},
		{price: 1050, feeBP: 500, fee: 52, seller: 998, common: 26, usersPool: 26},  // 52.5 → 52 (even)
		{price: 1030, feeBP: 500, fee: 52, seller: 978, common: 26, usersPool: 26},  // 51.5 → 52 (even)
		{price: 1070, feeBP: 500, fee: 54, seller: 1016, common: 27, usersPool: 27}, // 53.5 → 54
		{price: 10, feeBP: 500, fee: 0, seller: 10},                                 // 0.5 → 0
		{price: 30, feeBP: 500, fee: 2, seller: 28, common: 1, usersPool: 1},        // 1.5 → 2
		{price: 50, feeBP: 500, fee: 2, seller: 48, common: 1, usersPool: 1},        // 2.5 → 2
		{price: 51, feeBP: 500, fee: 3, seller: 48, common: 2, usersPool: 1},        // 2.55 → 3; 1.5/1.5 → common first
		{price: 1, feeBP: 5000, fee: 0, seller: 1},                                  // 0.5 → 0
		{price: 3, feeBP: 5000, fee: 2, seller: 1, common: 1, usersPool: 1},         // 1.5 → 2
		{price: 999, feeBP: 0, fee: 0, seller: 999},
	} {
		t.Run(fmt.Sprintf("%d at %d bp", tc.price, tc.feeBP), func(t *testing.T) {
			pl := mustPlan(t, Marketplace, fmt.Sprintf(`{"fee_bp": %d}`, tc.feeBP), KindSale)
			legs, fee, err := pl.split(tc.price)
			if err != nil {
				t.Fatal(err)
			}
			got := amounts(legs)
			want := map[string]int64{"member": tc.seller, "coop:common": tc.common, "coop:users_pool": tc.usersPool}
			if fee != tc.fee {
				t.Errorf("fee of %d = %d, want %d", tc.price, fee, tc.fee)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s gets %d, want %d (%v)", k, got[k], v, got)
				}
			}
		})
	}
}

// randomTree builds a valid tree of up to depth levels whose leaves are
// numbered accounts.
func randomTree(r *rand.Rand, depth int, leaf *int) Node {
	if depth == 0 || r.IntN(3) == 0 {
		*leaf++
		return Node{To: fmt.Sprintf("member:m%d", *leaf)}
	}
	k := 1 + r.IntN(5)
	cuts := make([]int64, k)
	left := int64(Whole - k) // every child at least 1 bp
	for i := range k - 1 {
		cuts[i] = r.Int64N(left + 1)
		left -= cuts[i]
	}
	cuts[k-1] = left
	n := Node{}
	for i := range k {
		c := randomTree(r, depth-1, leaf)
		c.BP = cuts[i] + 1
		n.Parts = append(n.Parts, c)
	}
	return n
}

// leafAmounts splits amount down the tree with money.Split at every node,
// checking that each node's children sum exactly to it and that no child
// is a whole minor unit away from its exact share, and returns the leaves'
// amounts in order.
func leafAmounts(t *testing.T, n *Node, amount int64) []int64 {
	t.Helper()
	if len(n.Parts) == 0 {
		return []int64{amount}
	}
	weights := make([]int64, len(n.Parts))
	for i, c := range n.Parts {
		weights[i] = c.BP
	}
	shares, err := money.Split(amount, weights)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	var out []int64
	for i, c := range n.Parts {
		sum += shares[i]
		exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(c.BP)), big.NewInt(Whole))
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(shares[i]), exact)
		if diff.Cmp(big.NewRat(-1, 1)) <= 0 || diff.Cmp(big.NewRat(1, 1)) >= 0 {
			t.Errorf("child %d of a node of %d at %d bp got %d, exact %s", i, amount, c.BP, shares[i], exact.FloatString(4))
		}
		out = append(out, leafAmounts(t, &n.Parts[i], shares[i])...)
	}
	if sum != amount {
		t.Errorf("a node of %d splits into parts summing to %d", amount, sum)
	}
	return out
}

// TestSplitSumsExactly is the property of RULES.md 3.2 on random trees
// and amounts: every split sums exactly to its input, at every node, and
// no part is a whole minor unit away from its exact share.
func TestSplitSumsExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 2))
	for i := range 2000 {
		leaf := 0
		tree := randomTree(r, MaxDepth, &leaf)
		if leaf > MaxLeaves {
			continue
		}
		var v errs.ValidationError
		tree.Validate(&v, "tree")
		if err := v.Err(); err != nil {
			t.Fatalf("random tree %d is invalid: %v", i, err)
		}
		var amount int64
		switch i % 4 {
		case 0:
			amount = r.Int64N(10)
		case 1:
			amount = r.Int64N(100000)
		case 2:
			amount = r.Int64N(1 << 40)
		default:
			amount = 1<<53 - r.Int64N(1000)
		}
		legs, err := tree.Split(amount)
		if err != nil {
			t.Fatalf("Split(%d): %v", amount, err)
		}
		var sum int64
		for _, l := range legs {
			if l.Amount < 0 {
				t.Fatalf("Split(%d) gave %s %d", amount, l.To, l.Amount)
			}
			sum += l.Amount
		}
		if sum != amount || len(legs) != leaf {
			t.Fatalf("Split(%d) = %d legs summing to %d, want %d legs summing to %d", amount, len(legs), sum, leaf, amount)
		}
		want := leafAmounts(t, &tree, amount)
		for j, l := range legs {
			if l.Amount != want[j] {
				t.Fatalf("Split(%d): leg %d is %d, a split node by node gives %d", amount, j, l.Amount, want[j])
			}
		}
	}
}

func TestTreeValidation(t *testing.T) {
	deep := Node{To: "coop:pool"}
	for range MaxDepth + 1 {
		deep = Node{Parts: []Node{{BP: Whole, Parts: deep.Parts, To: deep.To}}}
	}
	wide := Node{}
	for range MaxChildren + 1 {
		wide.Parts = append(wide.Parts, Node{BP: 1, To: "coop:pool"})
	}
	for _, tc := range []struct {
		name string
		tree Node
		want map[string]string // field → a word of the message
	}{
		{"ok", Node{Parts: []Node{{BP: 7000, To: "member"}, {BP: 3000, Label: "fund", Parts: []Node{{BP: 5000, To: "coop:pool"}, {BP: 5000, To: "member:ada"}}}}}, nil},
		{"leaf root", Node{To: "coop:reserves"}, nil},
		{"sum", Node{Parts: []Node{{BP: 7000, To: "member"}, {BP: 2000, To: "coop:pool"}}}, map[string]string{"t.split": "not 9000"}},
		{"inner sum", Node{Parts: []Node{{BP: 10000, Parts: []Node{{BP: 1, To: "coop:pool"}}}}}, map[string]string{"t.split[0].split": "not 1"}},
		{"zero", Node{Parts: []Node{{BP: 0, To: "member"}, {BP: 10000, To: "coop:pool"}}}, map[string]string{"t.split[0].bp": "1 to 10000"}},
		{"external", Node{Parts: []Node{{BP: 5000, To: "external"}, {BP: 5000, To: "bucket:1"}}},
			map[string]string{"t.split[0].to": "cannot", "t.split[1].to": "cannot"}},
		{"unknown", Node{Parts: []Node{{BP: 10000, To: "coop:bank"}}}, map[string]string{"t.split[0].to": "name an account"}},
		{"both", Node{Parts: []Node{{BP: 10000, To: "coop:pool", Parts: []Node{{BP: 10000, To: "member"}}}}}, map[string]string{"t.split[0].to": "either"}},
		{"root bp", Node{BP: 5000, To: "member"}, map[string]string{"t.bp": "root"}},
		{"deep", deep, map[string]string{"t" + strings.Repeat(".split[0]", MaxDepth) + ".split": "levels"}},
		{"wide", wide, map[string]string{"t.split": "at most 16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v errs.ValidationError
			tc.tree.Validate(&v, "t")
			if len(v.Fields) != len(tc.want) {
				t.Fatalf("Validate = %v, want fields %v", v.Fields, tc.want)
			}
			for f, word := range tc.want {
				if !strings.Contains(v.Fields[f], word) {
					t.Errorf("Validate: %s = %q, want it to say %q (all: %v)", f, v.Fields[f], word, v.Fields)
				}
			}
		})
	}
}

// TestLevyRate follows a project over its years: the rate starts at 0.10
// per m² and rises each year by 0.5% of the previous year's base rent.
func TestLevyRate(t *testing.T) {
	p, err := parseParams(SolidarityLevy, json.RawMessage(`{"projects": [
		{"member": "house", "area_m2": 450, "base_rent": 650, "start": "2026-01"},
		{"member": "barn", "area_m2": "123.45", "base_rents": [600, 620, 700], "start": "2025-07"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var v errs.ValidationError
	p.check(&v)
	if err := v.Err(); err != nil {
		t.Fatal(err)
	}
	lp := p.(*LevyParams)
	month := func(s string) int { m, _ := parsePeriod(s); return m }
	for _, tc := range []struct {
		project, month string
		year           int
		rate           string // minor units per m² a month
		charge         int64
	}{
		// 450 m² × 10 = 4500.
		{"house", "2026-01", 0, "10", 4500},
		{"house", "2026-12", 0, "10", 4500},
		// 10 + 0.5% × 650 = 13.25; 450 × 13.25 = 5962.5 → 5962 (half to even).
		{"house", "2027-01", 1, "13.25", 5962},
		// 16.5 → 7425.
		{"house", "2028-06", 2, "16.5", 7425},
		// 19.75 × 450 = 8887.5 → 8888 (half to even).
		{"house", "2029-01", 3, "19.75", 8888},
		// 123.45 × 10 = 1234.5 → 1234.
		{"barn", "2025-07", 0, "10", 1234},
		// 10 + 3 = 13: 1604.85 → 1605.
		{"barn", "2026-07", 1, "13", 1605},
		// 13 + 3.1 = 16.1: 1987.545 → 1988.
		{"barn", "2027-07", 2, "16.1", 1988},
		// 16.1 + 3.5 = 19.6: 2419.62 → 2420; later years keep the last base rent.
		{"barn", "2028-07", 3, "19.6", 2420},
		{"barn", "2029-07", 4, "23.1", 2852}, // 2851.695 → 2852
	} {
		pr := lp.project(tc.project)
		k := pr.year(month(tc.month))
		if k != tc.year {
			t.Errorf("%s in %s: year %d, want %d", tc.project, tc.month, k, tc.year)
			continue
		}
		if got := formatRate(lp.rate(pr, k)); got != tc.rate {
			t.Errorf("%s rate in year %d = %s, want %s", tc.project, k, got, tc.rate)
		}
		got, err := lp.charge(pr, k)
		if err != nil || got != tc.charge {
			t.Errorf("%s charge in %s = %d, %v; want %d", tc.project, tc.month, got, err, tc.charge)
		}
	}
	if k := lp.project("house").year(month("2025-12")); k != -1 {
		t.Errorf("year before the start = %d, want -1", k)
	}
}

func TestParamsRefused(t *testing.T) {
	for _, tc := range []struct {
		preset, params string
		field          string
	}{
		{"cooperative", ``, "preset"},
		{Enspiral, `{"collective_bp": 12000}`, "params.collective_bp"},
		{Enspiral, `{"colective_bp": 1000}`, "params"},
		{Enspiral, `{"venture_bp": "5%"}`, "params"},
		{Marketplace, `{"fee_bp": -1}`, "params.fee_bp"},
		{SolidarityLevy, `{}`, "params.projects"},
		{SolidarityLevy, `{"start_rate": 0.10001, "projects": [{"member": "h", "area_m2": 10, "start": "2026-01"}]}`, "params.start_rate"},
		{SolidarityLevy, `{"projects": [{"member": "h", "area_m2": 10.123, "start": "2026-01"}]}`, "params.projects[0].area_m2"},
		{SolidarityLevy, `{"projects": [{"member": "h", "area_m2": 0, "start": "2026-01"}]}`, "params.projects[0].area_m2"},
		{SolidarityLevy, `{"projects": [{"member": "h", "area_m2": 10, "start": "2026-13"}]}`, "params.projects[0].start"},
		{SolidarityLevy, `{"projects": [{"member": "h", "area_m2": 10, "start": "2026-01", "base_rent": -5}]}`, "params.projects[0].base_rent"},
		{SolidarityLevy, `{"projects": [{"member": "h", "area_m2": 1, "start": "2026-01"}, {"member": "h", "area_m2": 1, "start": "2026-01"}]}`, "params.projects[1].member"},
		{Custom, `{}`, "params.tree"},
		{Custom, `{"tree": {"split": [{"bp": 5000, "to": "member"}]}}`, "params.tree.split"},
		{Custom, `{"tree": {"to": "member"}, "kinds": {"Bad Kind": {"to": "member"}}}`, "params.kinds.Bad Kind"},
		{Custom, `{"tree": {"to": "member"}, "kinds": {"sale": {"split": [{"bp": 10000, "to": "nobody"}]}}}`, "params.kinds.sale.split[0].to"},
	} {
		t.Run(tc.preset+" "+tc.params, func(t *testing.T) {
			p, err := parseParams(tc.preset, json.RawMessage(tc.params))
			if err == nil {
				var v errs.ValidationError
				p.check(&v)
				err = v.Err()
			}
			ve, ok := err.(*errs.ValidationError)
			if !ok {
				t.Fatalf("params %s = %v, want a validation error", tc.params, err)
			}
			if _, ok := ve.Fields[tc.field]; !ok {
				t.Errorf("params %s: fields %v, want %s", tc.params, ve.Fields, tc.field)
			}
		})
	}
}

func TestWords(t *testing.T) {
	r := &Rule{Preset: Enspiral, Params: &EnspiralParams{CollectiveBP: 2000, FoundationBP: 2500, VentureBP: 500}}
	words, ex, err := describeRule(r, "EUR", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "Of a member's invoice (kind invoice): 80% to the member and 20% to the collective (of that, 25% to the foundation (coop:foundation) and 75% to the pool (coop:pool))."
	if words[0] != want {
		t.Errorf("words[0] = %q\nwant %q", words[0], want)
	}
	wantEx := "An invoice of 1,000.00 EUR → the member 800.00, the collective › the foundation 50.00, the collective › the pool 150.00"
	if ex[0].Text != wantEx {
		t.Errorf("example = %q\nwant %q", ex[0].Text, wantEx)
	}
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {100000, "1,000.00"}, {123456789, "1,234,567.89"}, {-150, "-1.50"}} {
		if got := FormatAmount(tc.in); got != tc.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for bp, want := range map[int64]string{2000: "20%", 2550: "25.5%", 1: "0.01%", 10000: "100%"} {
		if got := Percent(bp); got != want {
			t.Errorf("Percent(%d) = %q, want %q", bp, got, want)
		}
	}
}
