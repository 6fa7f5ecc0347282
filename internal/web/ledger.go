// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
)

// registerLedger adds the pages for the ledger routes (RULES.md 3.1).
func (h *handler) registerLedger(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/books", h.showBooks)
	handle("GET /coops/{slug}/books.csv", h.booksCSV)
	handle("POST /coops/{slug}/books", h.recordTransfer)
	handle("GET /coops/{slug}/statement", h.showStatement)
}

// booksPageSize is how many journal entries one page shows.
const booksPageSize = 50

type booksPage struct {
	Coop   *coop.Coop
	Member coop.Member
	// Accounts are every account with its balances.
	Accounts []accountRow
	Entries  []entryRow
	Filter   booksFilter
	// Older is the seq to page on from (0: this is the last page); Newer
	// is set below the newest page. Query is the filter as a query
	// string, for the pager and the CSV link.
	Older int64
	Newer bool
	Query string
	// Form is a treasurer's new transfer, as typed; Debits are the
	// accounts she may move, Owners every account to name.
	Form    transferForm
	Debits  []string
	Owners  []string
	Errors  map[string]string
	Problem string
	Done    string
}

type booksFilter struct {
	Owner, Kind, Unit, From, To string
}

type accountRow struct {
	Owner, Unit                  string
	Balance, Available, Reserved string
	Negative                     bool
	// Handle is set for a member's account, to link her statement.
	Handle string
}

type entryRow struct {
	Seq                   int64
	ID, Action, State     string
	Debit, Credit, Amount string
	Kind, Ref, Actor      string
	Links                 string
	At                    time.Time
	// In is set on a statement when the entry credits the member.
	In bool
}

type transferForm struct {
	ID, Debit, Credit, Amount, Unit, Kind, Ref string
}

// minorDigits is how many decimals a unit's minor units have: 2 for
// currencies (0 for those without minor units), 0 for units such as
// HOURS, which count whole minor units.
func minorDigits(unit string) int {
	switch unit {
	case "JPY", "KRW", "ISK", "CLP", "VND", "UGX", "XAF", "XOF", "PYG", "RWF":
		return 0
	}
	if len(unit) == 3 {
		return 2
	}
	return 0
}

// formatAmount writes minor units as a decimal of the unit, e.g. 123456
// EUR as "1,234.56 EUR".
func formatAmount(minor int64, unit string) string {
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = -u
	}
	digits := minorDigits(unit)
	s := strconv.FormatUint(u, 10)
	frac := ""
	if digits > 0 {
		for len(s) <= digits {
			s = "0" + s
		}
		s, frac = s[:len(s)-digits], "."+s[len(s)-digits:]
	}
	var b strings.Builder
	if neg {
		b.WriteString("−")
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + frac + " " + unit
}

// parseAmount reads a decimal typed in a form ("12.5", "1,200.00") as
// minor units of unit, exactly: no floats, no rounding, and no more
// decimals than the unit has.
func parseAmount(s, unit string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	digits := minorDigits(unit)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > digits || (dot && frac == "" && digits > 0 && whole == "") {
		return 0, errors.New("bad amount")
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, errors.New("bad amount")
			}
		}
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > money.MaxAmount {
		return 0, errors.New("bad amount")
	}
	return n, nil
}

func newAccountRow(a ledger.Account) accountRow {
	row := accountRow{Owner: a.Owner, Unit: a.Unit, Balance: formatAmount(a.Balance, a.Unit),
		Available: formatAmount(a.Available, a.Unit), Negative: a.Balance < 0}
	if a.DebitsPending > 0 {
		row.Reserved = formatAmount(a.DebitsPending, a.Unit)
	}
	if h, ok := strings.CutPrefix(a.Owner, "member:"); ok {
		row.Handle = h
	}
	return row
}

func newEntryRow(e ledger.Entry) entryRow {
	row := entryRow{Seq: e.Seq, ID: e.ID, Action: e.Action, State: e.State, Debit: e.Debit, Credit: e.Credit,
		Amount: formatAmount(e.Amount, e.Unit), Kind: e.Kind, Ref: e.Ref, Actor: e.Actor, At: e.At}
	switch {
	case e.PendingID != "":
		row.Links = "resolves " + e.PendingID
	case e.Reverses != "":
		row.Links = "reverses " + e.Reverses
	}
	return row
}

// booksFilterOf reads the journal filter from the query string.
func booksFilterOf(r *http.Request) (booksFilter, ledger.Filter, error) {
	q := r.URL.Query()
	bf := booksFilter{Owner: strings.TrimSpace(q.Get("owner")), Kind: strings.TrimSpace(q.Get("kind")),
		Unit: strings.ToUpper(strings.TrimSpace(q.Get("unit"))), From: q.Get("from"), To: q.Get("to")}
	f := ledger.Filter{Owner: bf.Owner, Kind: bf.Kind, Unit: bf.Unit, Limit: booksPageSize}
	if bf.Owner != "" && !ledger.ValidOwner(bf.Owner) {
		return bf, f, badRequest("“owner” must name an account such as member:ada, coop:pool or external")
	}
	if bf.Unit != "" && !money.ValidUnit(bf.Unit) {
		return bf, f, badRequest("“unit” must be a unit code such as EUR or HOURS")
	}
	if bf.From != "" {
		t, err := time.Parse(time.DateOnly, bf.From)
		if err != nil {
			return bf, f, badRequest("“from” must be a date")
		}
		f.From = t
	}
	if bf.To != "" {
		t, err := time.Parse(time.DateOnly, bf.To)
		if err != nil {
			return bf, f, badRequest("“to” must be a date")
		}
		f.To = t.AddDate(0, 0, 1) // to the end of that day
	}
	if s := q.Get("before"); s != "" {
		b, err := strconv.ParseInt(s, 10, 64)
		if err != nil || b < 1 {
			return bf, f, badRequest("“before” must be a journal number")
		}
		f.Before = b
	}
	return bf, f, nil
}

func (bf booksFilter) query() string {
	q := url.Values{}
	for k, v := range map[string]string{"owner": bf.Owner, "kind": bf.Kind, "unit": bf.Unit, "from": bf.From, "to": bf.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

// showBooks shows a co-op's books to its members: every account's
// balance and the whole journal, newest first, filtered and paged; and,
// to treasurers, the form that records a transfer.
func (h *handler) showBooks(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return err
	}
	d := &booksPage{Coop: c, Member: m, Form: transferForm{ID: newTransferID(), Debit: "external", Unit: c.Currency, Kind: "income"}}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Done = "The transfer is recorded."
	case "replay":
		d.Done = "That transfer was recorded already; nothing new was written."
	}
	if err := h.fillBooks(r, d); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "books", "Books of "+c.Name, d)
}

func (h *handler) fillBooks(r *http.Request, d *booksPage) error {
	ctx := r.Context()
	bf, f, err := booksFilterOf(r)
	if err != nil {
		return err
	}
	d.Filter, d.Query, d.Newer = bf, bf.query(), f.Before > 0
	accts, err := h.Ledger.Accounts(ctx, d.Coop, "")
	if err != nil {
		return err
	}
	d.Accounts = nil
	for _, a := range accts {
		d.Accounts = append(d.Accounts, newAccountRow(a))
	}
	es, err := h.Ledger.Transfers(ctx, d.Coop, f)
	if err != nil {
		return err
	}
	d.Entries = nil
	for _, e := range es {
		d.Entries = append(d.Entries, newEntryRow(e))
	}
	if len(es) == f.Limit {
		d.Older = es[len(es)-1].Seq
	}
	if d.Member.Treasurer {
		d.Debits = []string{"external", "coop:pool", "coop:foundation", "coop:reserves", "coop:users_pool", "coop:common", "member:" + d.Member.Handle}
		members, err := h.Coops.Members(ctx, d.Coop, false)
		if err != nil {
			return err
		}
		d.Owners = append([]string{}, d.Debits[:6]...)
		for _, m := range members {
			d.Owners = append(d.Owners, "member:"+m.Handle)
		}
	}
	return nil
}

// newTransferID is the idempotency key a form carries: sending the same
// form twice (a double click, a reload) records the transfer once.
func newTransferID() string {
	var b [9]byte
	rand.Read(b[:])
	return "web-" + hex.EncodeToString(b[:])
}

// recordTransfer records a transfer from the books page's form. The
// ledger decides who may move what; a refusal re-renders the form.
func (h *handler) recordTransfer(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	d := &booksPage{Coop: c, Member: m, Form: transferForm{ID: strings.TrimSpace(f.Get("id")), Debit: strings.TrimSpace(f.Get("debit")),
		Credit: strings.TrimSpace(f.Get("credit")), Amount: strings.TrimSpace(f.Get("amount")),
		Unit: strings.ToUpper(strings.TrimSpace(f.Get("unit"))), Kind: strings.TrimSpace(f.Get("kind")), Ref: strings.TrimSpace(f.Get("ref"))}}
	if d.Form.Unit == "" {
		d.Form.Unit = c.Currency
	}
	req := ledger.Request{ID: d.Form.ID, Debit: d.Form.Debit, Credit: d.Form.Credit, Unit: d.Form.Unit, Kind: d.Form.Kind, Ref: d.Form.Ref}
	var created bool
	if req.Amount, err = parseAmount(d.Form.Amount, d.Form.Unit); err != nil {
		digits := minorDigits(d.Form.Unit)
		err = errs.Invalid("amount", fmt.Sprintf("give an amount such as %s, with at most %d decimals", formatAmount(1250*int64(pow10(digits))/100, d.Form.Unit), digits))
	} else {
		_, created, err = h.Ledger.Submit(r.Context(), c, me, []ledger.Request{req})
	}
	if err == nil {
		done := "replay"
		if created {
			done = "created"
		}
		return redirect(w, r, "/coops/"+c.Slug+"/books?done="+done)
	}
	status := http.StatusUnprocessableEntity
	if fields, ok := fieldErrors(err); ok {
		d.Errors = fields
	} else {
		switch {
		case errors.Is(err, errs.ErrForbidden):
			status = http.StatusForbidden
		case errors.Is(err, errs.ErrConflict):
			status = http.StatusConflict
		default:
			return err
		}
		d.Problem = message(err, map[int]error{http.StatusForbidden: errs.ErrForbidden, http.StatusConflict: errs.ErrConflict}[status])
		if msg := err.Error(); errors.Is(err, ledger.ErrInsufficient) {
			// The ledger counts the shortfall in minor units, which is
			// for the API; here the account is what matters.
			who, _, _ := strings.Cut(msg, " has not enough available")
			d.Problem = "Refused: " + who + " has not enough available for this transfer."
		}
	}
	if d.Form.ID == "" || errors.Is(err, errs.ErrConflict) {
		// A refused form gets a fresh id, so that sending it again, mended,
		// is a new transfer rather than a clash with the refused one.
		d.Form.ID = newTransferID()
	}
	if err := h.fillBooks(r, d); err != nil {
		return err
	}
	return h.render(w, r, status, "books", "Books of "+c.Name, d)
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// booksCSV downloads every journal entry the filter selects.
func (h *handler) booksCSV(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, me.ID); err != nil {
		return err
	}
	_, f, err := booksFilterOf(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-transfers.csv"`, c.Slug))
	w.Header().Set("Cache-Control", "no-store")
	return h.Ledger.WriteCSV(r.Context(), w, c, f)
}

type statementPage struct {
	Coop *coop.Coop
	// Whose statement: handle and name; Own when it is the viewer's.
	Handle, Name string
	Own          bool
	Accounts     []accountRow
	Entries      []entryRow
	Older        int64
	Newer        bool
	Query        string
}

// showStatement shows a member her accounts, balances, what she may
// spend and her transfers; ?member= shows another member's (a co-op's
// books are open to its members).
func (h *handler) showStatement(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return err
	}
	who := m
	if hd := r.URL.Query().Get("member"); hd != "" && hd != m.Handle {
		if who, err = h.Coops.MemberByHandle(r.Context(), c, hd); err != nil {
			return err
		}
	}
	owner := "member:" + who.Handle
	d := statementPage{Coop: c, Handle: who.Handle, Name: who.Name, Own: who.Handle == m.Handle}
	if !d.Own {
		d.Query = "member=" + url.QueryEscape(who.Handle)
	}
	f := ledger.Filter{Owner: owner, Limit: booksPageSize}
	if s := r.URL.Query().Get("before"); s != "" {
		if f.Before, err = strconv.ParseInt(s, 10, 64); err != nil || f.Before < 1 {
			return badRequest("“before” must be a journal number")
		}
		d.Newer = true
	}
	accts, err := h.Ledger.Accounts(r.Context(), c, owner)
	if err != nil {
		return err
	}
	for _, a := range accts {
		d.Accounts = append(d.Accounts, newAccountRow(a))
	}
	es, err := h.Ledger.Transfers(r.Context(), c, f)
	if err != nil {
		return err
	}
	for _, e := range es {
		row := newEntryRow(e)
		// A reversal or resolution runs the other way round on paper;
		// what counts is which side she is on.
		row.In = e.Credit == owner
		d.Entries = append(d.Entries, row)
	}
	if len(es) == f.Limit {
		d.Older = es[len(es)-1].Seq
	}
	title := "Statement of " + who.Name
	if d.Own {
		title = "Your statement"
	}
	return h.render(w, r, http.StatusOK, "statement", title, d)
}
