// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"opencoop/internal/coop"
)

// ledgerPageCases is representative data for the books and statement
// pages, for TestTemplatesExecute.
func ledgerPageCases() map[string][]any {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &coop.Coop{Slug: "river", Name: "River Bakery", Purpose: "Bread.", Currency: "EUR", CreatedAt: at}
	treasurer := coop.Member{Handle: "ada", Name: "Ada", Class: "workers", State: coop.StateMember, Treasurer: true}
	accts := []accountRow{{Owner: "external", Unit: "EUR", Balance: "−12.00 EUR", Available: "−12.00 EUR", Negative: true},
		{Owner: "member:bo", Unit: "EUR", Balance: "12.00 EUR", Available: "2.00 EUR", Reserved: "10.00 EUR", Handle: "bo"}}
	entries := []entryRow{{Seq: 2, ID: "r1", Action: "pending", State: "pending", Debit: "member:bo", Credit: "coop:pool", Amount: "10.00 EUR", Kind: "pledge", At: at},
		{Seq: 1, ID: "in", Action: "transfer", Debit: "external", Credit: "member:bo", Amount: "12.00 EUR", Kind: "income", Ref: "invoice 1", Links: "reverses x", At: at, In: true}}
	return map[string][]any{
		"books": {
			&booksPage{Coop: c, Member: treasurer, Accounts: accts, Entries: entries, Filter: booksFilter{Owner: "member:bo", From: "2026-03-01"},
				Older: 1, Newer: true, Query: "owner=member%3Abo", Form: transferForm{ID: "web-1", Debit: "external", Unit: "EUR", Kind: "income"},
				Debits: []string{"external", "coop:pool"}, Owners: []string{"member:bo"}, Errors: map[string]string{"amount": "bad", "credit": "bad"},
				Problem: "no", Done: "yes"},
			&booksPage{Coop: c, Member: coop.Member{Handle: "bo"}},
		},
		"statement": {
			statementPage{Coop: c, Handle: "bo", Name: "Bo", Own: true, Accounts: accts[1:], Entries: entries, Older: 1, Newer: true},
			statementPage{Coop: c, Handle: "bo", Name: "Bo", Query: "member=bo"},
		},
	}
}

func TestBooksPages(t *testing.T) {
	srv, ada, bo := setUp(t)
	expect(t, "nav links the books", ada.get("/coops/river/members"), http.StatusOK, "", `href="/coops/river/books"`)
	page := ada.get("/coops/river/books")
	expect(t, "empty books", page, http.StatusOK, "", "Record a transfer", "No accounts yet", "No entries.")
	id := formID(t, page.body)

	income := url.Values{"id": {id}, "debit": {"external"}, "credit": {"member:bo"}, "amount": {"1,234.5"}, "unit": {"EUR"}, "kind": {"income"}, "ref": {"invoice 7"}}
	expect(t, "record income", ada.post("/coops/river/books", income), http.StatusSeeOther, "/coops/river/books?done=created")
	// The same form sent twice records it once.
	expect(t, "send again", ada.post("/coops/river/books", income), http.StatusSeeOther, "/coops/river/books?done=replay")
	expect(t, "books", ada.get("/coops/river/books?done=created"), http.StatusOK, "", "The transfer is recorded.",
		"1,234.50 EUR", "−1,234.50 EUR", "invoice 7", `href="/coops/river/statement?member=bo"`, "Download as CSV",
		"!statement?member=external")

	// Refusals keep what was typed and say why.
	bad := url.Values{"id": {"web-x"}, "debit": {"external"}, "credit": {"member:bo"}, "amount": {"1.234"}, "unit": {"EUR"}, "kind": {"income"}}
	expect(t, "three decimals", ada.post("/coops/river/books", bad), http.StatusUnprocessableEntity, "", "at most 2 decimals", `value="1.234"`)
	bad.Set("amount", "5")
	bad.Set("credit", "member:nobody")
	expect(t, "no such member", ada.post("/coops/river/books", bad), http.StatusUnprocessableEntity, "", "nobody is not a member")
	bad.Set("credit", "coop:pool")
	bad.Set("debit", "member:bo")
	expect(t, "someone else's money", ada.post("/coops/river/books", bad), http.StatusForbidden, "", "You may move only your own money")
	over := url.Values{"id": {"web-y"}, "debit": {"coop:pool"}, "credit": {"member:ada"}, "amount": {"1"}, "unit": {"EUR"}, "kind": {"payment"}}
	expect(t, "overdraft", ada.post("/coops/river/books", over), http.StatusConflict, "", "Refused: coop:pool (EUR) has not enough available for this transfer.")

	// Bo sees the books and his statement, but gets no form.
	expect(t, "bo's books", bo.get("/coops/river/books"), http.StatusOK, "", "1,234.50 EUR", "!Record a transfer")
	expect(t, "bo records", bo.post("/coops/river/books", over), http.StatusForbidden, "")
	expect(t, "bo's statement", bo.get("/coops/river/statement"), http.StatusOK, "", "Your statement", "<strong>1,234.50 EUR</strong> balance",
		"+1,234.50 EUR")
	expect(t, "ada reads bo's", ada.get("/coops/river/statement?member=bo"), http.StatusOK, "", "Statement of Bo")
	expect(t, "filter", ada.get("/coops/river/books?kind=payment"), http.StatusOK, "", "No entries.", `value="payment"`)
	expect(t, "filter by date", ada.get("/coops/river/books?from=2026-03-01&to=2026-03-01&unit=eur"), http.StatusOK, "", "invoice 7")
	expect(t, "bad filter", ada.get("/coops/river/books?from=soon"), http.StatusBadRequest, "")

	resp, err := bo.c.Get(srv.URL + "/coops/river/books.csv?owner=member:bo")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 2 || rows[1][5] != "123450" || rows[1][8] != "invoice 7" {
		t.Errorf("CSV = %q, %v", rows, err)
	}

	// Outsiders see nothing.
	cy := newBrowser(t, srv)
	expect(t, "visitor", cy.get("/coops/river/books"), http.StatusSeeOther, "/signin")
	signUp(t, cy, "cy")
	for _, p := range []string{"/coops/river/books", "/coops/river/statement", "/coops/river/books.csv"} {
		expect(t, "non-member "+p, cy.get(p), http.StatusForbidden, "")
	}
}

func formID(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, `name="id" value="`)
	id, _, _ := strings.Cut(rest, `"`)
	if !ok || !strings.HasPrefix(id, "web-") {
		t.Fatalf("no transfer id in the form")
	}
	return id
}

func TestAmounts(t *testing.T) {
	for _, tc := range []struct {
		in, unit string
		want     int64
		ok       bool
	}{
		{"12.5", "EUR", 1250, true}, {"1,234.56", "EUR", 123456, true}, {".5", "EUR", 50, true}, {"7", "EUR", 700, true},
		{"5.", "EUR", 500, true}, {"8", "HOURS", 8, true}, {"100", "JPY", 100, true},
		{"1.234", "EUR", 0, false}, {"1.5", "HOURS", 0, false}, {"-3", "EUR", 0, false}, {"", "EUR", 0, false}, {".", "EUR", 0, false},
		{"1e3", "EUR", 0, false}, {"99999999999999999999", "EUR", 0, false}, {"90071992547409.93", "EUR", 0, false},
	} {
		got, err := parseAmount(tc.in, tc.unit)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAmount(%q, %s) = %d, %v; want %d, ok %v", tc.in, tc.unit, got, err, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		minor int64
		unit  string
		want  string
	}{{0, "EUR", "0.00 EUR"}, {5, "EUR", "0.05 EUR"}, {123456789, "EUR", "1,234,567.89 EUR"}, {-1050, "EUR", "−10.50 EUR"}, {1000, "HOURS", "1,000 HOURS"}} {
		if got := formatAmount(tc.minor, tc.unit); got != tc.want {
			t.Errorf("formatAmount(%d, %s) = %q, want %q", tc.minor, tc.unit, got, tc.want)
		}
	}
}

// FuzzAmount: whatever is typed, parseAmount never panics, and what it
// accepts formats back to the same number.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{"12.5", "1,234.56", ".5", "0", "9007199254740992", "1.2.3", "", "٣"} {
		f.Add(s, "EUR")
		f.Add(s, "HOURS")
	}
	f.Fuzz(func(t *testing.T, s, unit string) {
		n, err := parseAmount(s, unit)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseAmount(%q) = %d < 0", s, n)
		}
		back, _, _ := strings.Cut(formatAmount(n, unit), " ")
		if m, err := parseAmount(back, unit); err != nil || m != n {
			t.Fatalf("parseAmount(%q) = %d, formats as %q, reads back as %d, %v", s, n, back, m, err)
		}
	})
}
