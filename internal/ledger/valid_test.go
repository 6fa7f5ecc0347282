// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestValidMatchesRegexps holds the hand-written checks to the regular
// expressions they replace, on chosen strings and random ones.
func TestValidMatchesRegexps(t *testing.T) {
	checks := []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"validID", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`), validID},
		{"validKind", regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`), validKind},
		{"validOwner", regexp.MustCompile(`^(member:[a-z0-9_-]{1,40}|coop:(pool|foundation|reserves|users_pool|common)|bucket:[0-9]{1,18}|offer:[0-9]{1,18}|external)$`), validOwner},
	}
	inputs := []string{"", "a", "A", "_", "-a", "a-", "round:1:allowance:7", "x.y_z:w-v", strings.Repeat("a", 100), strings.Repeat("a", 101),
		"allowance", "a_1", "1a", "aB", strings.Repeat("k", 32), strings.Repeat("k", 33), "member:", "member:ada", "member:Ada",
		"member:" + strings.Repeat("a", 40), "member:" + strings.Repeat("a", 41), "member:a:b", "coop:pool", "coop:poo", "coop:pool2",
		"coop:users_pool", "coop:common", "coop:", "bucket:", "bucket:12", "bucket:1a", "bucket:" + strings.Repeat("9", 18),
		"bucket:" + strings.Repeat("9", 19), "offer:3", "external", "externa", "external:", "external\n", "member:ada\n", "a\n", "é", "member:é"}
	const alphabet = "aAzZ09_-.:\n é/bucketoffermemberpool"
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		switch r.IntN(4) {
		case 0:
			b.WriteString("member:")
		case 1:
			b.WriteString("bucket:")
		case 2:
			b.WriteString("coop:")
		}
		for range r.IntN(45) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, c := range checks {
		for _, in := range inputs {
			if got, want := c.fn(in), c.re.MatchString(in); got != want {
				t.Errorf("%s(%q) = %v, want %v", c.name, in, got, want)
			}
		}
	}
}

// TestBodyIsJSON holds Request.body to json.Marshal, which wrote the
// bodies already in the journal: a replay must find them equal.
func TestBodyIsJSON(t *testing.T) {
	refs := []string{"", "round:1", `say "<hi>" & \ bye`, "café ☕ \u2028 \x01", "bad \xff utf-8", "tab\there"}
	for i, ref := range refs {
		for _, pending := range []bool{false, true} {
			r := Request{ID: fmt.Sprintf("id-%d", i), Debit: "coop:pool", Credit: "member:ada", Amount: int64(i) * 1e15, Unit: "EUR",
				Kind: "allowance", Ref: ref, Pending: pending}
			if pending {
				r.Timeout = int64(i)
			}
			want, _ := json.Marshal(&r)
			if got := r.body(); got != string(want) {
				t.Errorf("body() = %s, want %s", got, want)
			}
		}
	}
}
