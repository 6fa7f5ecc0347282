// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
)

// registerLedger adds the ledger routes (RULES.md 3.1).
func (h *handler) registerLedger(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("POST /coops/{slug}/transfers", h.createTransfer)
	handle("POST /coops/{slug}/transfers/batch", h.createTransferBatch)
	handle("GET /coops/{slug}/transfers", h.listTransfers)
	handle("GET /coops/{slug}/transfers/{id}", h.showTransfer)
	handle("POST /coops/{slug}/transfers/{id}/post", h.postTransfer)
	handle("POST /coops/{slug}/transfers/{id}/void", h.voidTransfer)
	handle("POST /coops/{slug}/transfers/{id}/reverse", h.reverseTransfer)
	handle("GET /coops/{slug}/accounts", h.listLedgerAccounts)
	handle("GET /coops/{slug}/ledger/check", h.checkLedger)
}

// transferIn is a transfer request as JSON. The amount is read by hand
// so that 1.5, "10" or 1e30 get an answer that says what an amount is.
type transferIn struct {
	ID      string          `json:"id"`
	Debit   string          `json:"debit"`
	Credit  string          `json:"credit"`
	Amount  json.RawMessage `json:"amount"`
	Unit    string          `json:"unit"`
	Kind    string          `json:"kind"`
	Ref     string          `json:"ref"`
	Pending bool            `json:"pending"`
	Timeout int64           `json:"timeout"`
}

func (in transferIn) request(field string) (ledger.Request, error) {
	amount, err := parseAmount(in.Amount, field+"amount")
	return ledger.Request{ID: in.ID, Debit: in.Debit, Credit: in.Credit, Amount: amount, Unit: in.Unit, Kind: in.Kind,
		Ref: in.Ref, Pending: in.Pending, Timeout: in.Timeout}, err
}

// parseAmount reads an amount: a JSON integer of minor units. Anything
// but a number is a 400; a number that is not a whole one is a 400; a
// whole number out of range is a 422, as zero and negatives are (the
// ledger says so).
func parseAmount(raw json.RawMessage, field string) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return 0, nil
	}
	const what = "a whole number of minor units, e.g. 1050 for 10.50"
	if s[0] != '-' && (s[0] < '0' || s[0] > '9') {
		return 0, badRequest("%s must be %s, not %s", field, what, short(s))
	}
	if strings.ContainsAny(s, ".eE") {
		return 0, badRequest("%s must be %s, not %s: amounts carry no fractions", field, what, short(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errs.Invalid(field, fmt.Sprintf("give a whole number of minor units from 1 to %d", int64(money.MaxAmount)))
	}
	return n, nil
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// created answers 201 for something new and 200 for a replay.
func created(w http.ResponseWriter, isNew bool, v any) error {
	if isNew {
		return writeJSON(w, http.StatusCreated, v)
	}
	return writeJSON(w, http.StatusOK, v)
}

func (h *handler) createTransfer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in transferIn
	if err := decode(r, &in); err != nil {
		return err
	}
	req, err := in.request("")
	if err != nil {
		return err
	}
	out, isNew, err := h.Ledger.Submit(r.Context(), c, a, []ledger.Request{req})
	if err != nil {
		return err
	}
	return created(w, isNew, out[0])
}

func (h *handler) createTransferBatch(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		Transfers []transferIn `json:"transfers"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	reqs := make([]ledger.Request, len(in.Transfers))
	for i, t := range in.Transfers {
		if reqs[i], err = t.request(fmt.Sprintf("transfers[%d].", i)); err != nil {
			return err
		}
	}
	out, isNew, err := h.Ledger.Submit(r.Context(), c, a, reqs)
	if err != nil {
		return err
	}
	return created(w, isNew, map[string]any{"transfers": out})
}

// decodeOptional is decode for a body that may be left out.
func decodeOptional(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return badRequest("the body is larger than %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return decode(r, v)
}

func (h *handler) postTransfer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		Amount json.RawMessage `json:"amount"`
	}
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	amount, err := parseAmount(in.Amount, "amount")
	if err != nil {
		return err
	}
	if len(in.Amount) > 0 && string(in.Amount) != "null" && amount <= 0 {
		return errs.Invalid("amount", "post at least 1 minor unit, or leave amount out to post all that was reserved")
	}
	t, isNew, err := h.Ledger.SubmitResolve(r.Context(), c, a, r.PathValue("id"), ledger.ActPost, amount)
	if err != nil {
		return err
	}
	return created(w, isNew, t)
}

func (h *handler) voidTransfer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct{}
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	t, isNew, err := h.Ledger.SubmitResolve(r.Context(), c, a, r.PathValue("id"), ledger.ActVoid, 0)
	if err != nil {
		return err
	}
	return created(w, isNew, t)
}

func (h *handler) reverseTransfer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, isNew, err := h.Ledger.SubmitReverse(r.Context(), c, a, r.PathValue("id"), in.ID, in.Kind)
	if err != nil {
		return err
	}
	return created(w, isNew, t)
}

func (h *handler) showTransfer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	t, err := h.Ledger.TransferByID(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// ledgerFilter reads ?owner=&kind=&unit=&from=&to=&before=&limit=; from
// and to are RFC 3339 times or dates (to a date means up to its end).
func ledgerFilter(r *http.Request) (ledger.Filter, error) {
	q := r.URL.Query()
	f := ledger.Filter{Owner: q.Get("owner"), Kind: q.Get("kind"), Unit: q.Get("unit"), Limit: 100}
	if f.Owner != "" && !ledger.ValidOwner(f.Owner) {
		return f, badRequest("owner must name an account such as member:ada, coop:pool or external")
	}
	if f.Unit != "" && !money.ValidUnit(f.Unit) {
		return f, badRequest("unit must be a unit code such as EUR or HOURS")
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			*p.dst = t.UTC()
		} else if d, err := time.Parse(time.DateOnly, s); err == nil {
			if p.end {
				d = d.AddDate(0, 0, 1)
			}
			*p.dst = d
		} else {
			return f, badRequest("%s must be a date (2026-11-30) or an RFC 3339 time", p.name)
		}
	}
	var err error
	if s := q.Get("before"); s != "" {
		if f.Before, err = strconv.ParseInt(s, 10, 64); err != nil || f.Before < 1 {
			return f, badRequest("before must be a journal seq")
		}
	}
	if s := q.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return f, badRequest("limit must be 1 to 1000")
		}
	}
	return f, nil
}

// listTransfers shows the co-op's journal to its members, newest first: an
// open co-op's books are open to every member. ?format=csv sends every
// entry that matches the filter as a CSV file.
func (h *handler) listTransfers(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	f, err := ledgerFilter(r)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("format") {
	case "", "json":
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-transfers.csv"`, c.Slug))
		return h.Ledger.WriteCSV(r.Context(), w, c, f)
	default:
		return badRequest("format must be json or csv")
	}
	es, err := h.Ledger.Transfers(r.Context(), c, f)
	if err != nil {
		return err
	}
	out := map[string]any{"transfers": es}
	if len(es) == f.Limit {
		out["next_before"] = es[len(es)-1].Seq
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *handler) listLedgerAccounts(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	owner := r.URL.Query().Get("owner")
	if owner != "" && !ledger.ValidOwner(owner) {
		return badRequest("owner must name an account such as member:ada, coop:pool or external")
	}
	accts, err := h.Ledger.Accounts(r.Context(), c, owner)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"accounts": accts})
}

func (h *handler) checkLedger(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, a.ID); err != nil {
		return err
	}
	rep, err := h.Ledger.Check(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// ledgerPaths documents them.
func ledgerPaths(add func(method, path string, o obj)) {
	transferReq := object([]string{"id", "debit", "credit", "amount", "kind"}, obj{
		"id":      obj{"type": "string", "description": "the client's idempotency key: 1 to 100 of A-Z a-z 0-9 . _ : - (not ending in :post, :void or :expire)"},
		"debit":   obj{"type": "string", "description": "the account money leaves: member:<handle>, coop:pool|foundation|reserves|users_pool|common, external"},
		"credit":  obj{"type": "string", "description": "the account money reaches"},
		"amount":  obj{"type": "integer", "format": "int64", "minimum": 1, "maximum": int64(money.MaxAmount), "description": "minor units (cents for EUR)"},
		"unit":    obj{"type": "string", "description": "EUR, HOURS…; default the co-op's currency"},
		"kind":    obj{"type": "string", "description": "a lower-case word: payment, income, refund…"},
		"ref":     obj{"type": "string", "description": "the business object, at most 200 characters"},
		"pending": obj{"type": "boolean", "description": "reserve only; post or void later"},
		"timeout": obj{"type": "integer", "description": "seconds after which a pending transfer expires (1 to a year)"},
	})
	transfer := object(nil, obj{"id": str, "action": obj{"type": "string", "enum": []string{"transfer", "pending", "post", "void", "expire", "reverse"}},
		"debit": str, "credit": str, "amount": integer, "unit": str, "kind": str, "ref": str,
		"pending_id": obj{"type": "string", "description": "the pending transfer a post, void or expire resolves"},
		"reverses":   obj{"type": "string", "description": "the transfer a reversal undoes"},
		"expires_at": when, "batch": str, "actor": str, "at": when,
		"state": obj{"type": "string", "enum": []string{"pending", "posted", "voided", "expired"}, "description": "of a pending transfer"}})
	entry := object(nil, obj{"seq": integer, "id": str, "action": str, "debit": str, "credit": str, "amount": integer, "unit": str,
		"kind": str, "ref": str, "pending_id": str, "reverses": str, "expires_at": when, "batch": str, "actor": str, "at": when, "state": str})
	account := object(nil, obj{"id": integer, "owner": str, "unit": str, "no_overdraft": boolean, "external": boolean,
		"balance": obj{"type": "integer", "description": "credits posted − debits posted"}, "available": obj{"type": "integer", "description": "balance − pending debits"},
		"debits_pending": integer, "credits_pending": integer})
	add("POST", "/coops/{slug}/transfers", op("Record a transfer (201), or repeat one (200 with the original; the same id with other content is 409). "+
		"A member moves her own money; treasurers the co-op's accounts and money from outside (external); bucket and offer accounts only by their rules",
		transferReq, "201", transfer, true))
	add("POST", "/coops/{slug}/transfers/batch", op("Record up to 10,000 transfers atomically: all or none (201); the whole batch again is 200, a batch mixing new and old ids 409. "+
		"No-overdraft accounts are checked on the batch's net effect",
		object([]string{"transfers"}, obj{"transfers": arrayOf(transferReq)}), "201", object(nil, obj{"transfers": arrayOf(transfer)}), true))
	add("GET", "/coops/{slug}/transfers", op("The co-op's journal, newest first, for members: ?owner=&kind=&unit=&from=&to= (dates or RFC 3339), "+
		"?before=<seq>&limit= (default 100, at most 1000); ?format=csv downloads every matching entry", nil, "200",
		object(nil, obj{"transfers": arrayOf(entry), "next_before": obj{"type": "integer", "description": "the before= of the next page, when there may be one"}}), true))
	add("GET", "/coops/{slug}/transfers/{id}", op("One journal entry; a pending transfer carries its state", nil, "200", transfer, true))
	add("POST", "/coops/{slug}/transfers/{id}/post", op("Post a pending transfer, all of it or {\"amount\"} of it (the rest is released); "+
		"its entry is <id>:post. By the member it debits, or a treasurer for the co-op's accounts. Repeating it is 200; another resolution 409",
		object(nil, obj{"amount": obj{"type": "integer", "minimum": 1, "description": "at most the amount reserved; left out: all"}}), "201", transfer, true))
	add("POST", "/coops/{slug}/transfers/{id}/void", op("Void a pending transfer (releases it); its entry is <id>:void", nil, "201", transfer, true))
	add("POST", "/coops/{slug}/transfers/{id}/reverse", op("Reverse a posted transfer with a new one the other way, linked to it (treasurers); once per transfer",
		object([]string{"id"}, obj{"id": obj{"type": "string", "description": "the reversal's own client id"}, "kind": obj{"type": "string", "default": "reversal"}}),
		"201", transfer, true))
	add("GET", "/coops/{slug}/accounts", op("The co-op's accounts with balances (members; ?owner=)", nil, "200",
		object(nil, obj{"accounts": arrayOf(account)}), true))
	add("GET", "/coops/{slug}/ledger/check", op("Replay the journal and compare: per unit the balances sum to 0, no no-overdraft account is below 0, "+
		"stored balances equal the replay (members)", nil, "200",
		object(nil, obj{"ok": boolean, "units": obj{"type": "object", "additionalProperties": object(nil, obj{"sum": integer, "accounts": integer, "transfers": integer})},
			"problems": arrayOf(str)}), true))
}
