// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/budget"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/vote"
)

// registerBudget adds the pages for the budget-round routes (RULES.md 3.3).
func (h *handler) registerBudget(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/rounds", h.listRounds)
	handle("POST /coops/{slug}/rounds", h.createRound)
	handle("GET /coops/{slug}/rounds/{id}", h.showRound)
	handle("POST /coops/{slug}/rounds/{id}/buckets", h.createBucket)
	handle("POST /coops/{slug}/rounds/{id}/close", h.closeRound)
	handle("GET /coops/{slug}/buckets/{id}", h.showBucket)
	handle("POST /coops/{slug}/buckets/{id}/contributions", h.contribute)
	handle("POST /coops/{slug}/buckets/{id}/withdraw", h.withdraw)
	for _, action := range []string{budget.ActPublish, budget.ActOpen, budget.ActAccept, budget.ActComplete, budget.ActCancel} {
		handle("POST /coops/{slug}/buckets/{id}/"+action, h.changeBucket(action))
	}
}

// Rows the forms offer.
const (
	expenseRows    = 3
	bucketItemRows = 5
)

// roundsPage lists a co-op's rounds and, for treasurers and secretaries,
// the form that sets one up.
type roundsPage struct {
	Coop      *coop.Coop
	Member    coop.Member
	Rounds    []budgetRoundRow
	CanCreate bool
	Decisions []choice
	Form      roundForm
	Errors    map[string]string
	Problem   string
}

type budgetRoundRow struct {
	ID                        int64
	Title, State, Unit        string
	Discretionary, FundingTo  string
	CreationOpen, FundingOpen bool
}

// roundForm is the set-up form, every field as typed.
type roundForm struct {
	Title, Unit, BucketsFrom, BucketsTo, FundingFrom, FundingTo, MemberCap string
	Underfunded, Unspent, Allowance, PeriodFrom, PeriodTo, Contributions   string
	Expenses                                                               []expenseRow
}

type expenseRow struct {
	Index                   int
	Title, Amount, Proposal string
}

func (h *handler) listRounds(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	now := h.now().Truncate(time.Hour)
	f := roundForm{Unit: c.Currency, Underfunded: budget.Refund, Unspent: budget.ReturnToPool, Allowance: budget.Equal,
		BucketsFrom: now.Format(localInput), BucketsTo: now.Add(7 * 24 * time.Hour).Format(localInput),
		FundingFrom: now.Add(7 * 24 * time.Hour).Format(localInput), FundingTo: now.Add(21 * 24 * time.Hour).Format(localInput)}
	d, err := h.roundsPage(r, me, c, f)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "round_list", "Budget rounds", d)
}

func (h *handler) roundsPage(r *http.Request, me auth.Account, c *coop.Coop, f roundForm) (*roundsPage, error) {
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return nil, err
	}
	rs, err := h.Budget.Rounds(r.Context(), c, me)
	if err != nil {
		return nil, err
	}
	for len(f.Expenses) < expenseRows {
		f.Expenses = append(f.Expenses, expenseRow{Index: len(f.Expenses)})
	}
	d := &roundsPage{Coop: c, Member: m, CanCreate: m.Treasurer || m.Secretary, Form: f}
	for _, rd := range rs {
		d.Rounds = append(d.Rounds, budgetRoundRow{ID: rd.ID, Title: rd.Title, State: rd.State, Unit: rd.Unit,
			Discretionary: formatAmount(rd.Discretionary, rd.Unit), FundingTo: rd.FundingTo.Format(localInput),
			CreationOpen: rd.CreationOpen, FundingOpen: rd.FundingOpen})
	}
	if d.CanCreate {
		ps, err := h.Govern.List(r.Context(), c, "closed", 100)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Result != nil && p.Result.Outcome == vote.Passed {
				d.Decisions = append(d.Decisions, choice{strconv.FormatInt(p.ID, 10), fmt.Sprintf("#%d %s", p.ID, p.Title)})
			}
		}
	}
	return d, nil
}

// formTime reads a datetime-local field as UTC; empty is the zero time,
// which the service refuses by name.
func formTime(v *errs.ValidationError, field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(localInput, s)
	if err != nil {
		v.Add(field, "give a date and time")
	}
	return t
}

// formAmount reads an amount field in unit; empty is 0.
func formAmount(v *errs.ValidationError, field, s, unit string) int64 {
	if s == "" {
		return 0
	}
	n, err := parseAmount(s, unit)
	if err != nil {
		v.Add(field, fmt.Sprintf("give an amount such as %s", formatAmount(1250*int64(pow10(minorDigits(unit)))/100, unit)))
	}
	return n
}

func (h *handler) createRound(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	get := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := roundForm{Title: get("title"), Unit: strings.ToUpper(get("unit")), BucketsFrom: get("buckets_from"), BucketsTo: get("buckets_to"),
		FundingFrom: get("funding_from"), FundingTo: get("funding_to"), MemberCap: get("member_cap"), Underfunded: get("underfunded"),
		Unspent: get("unspent"), Allowance: get("allowance"), PeriodFrom: get("period_from"), PeriodTo: get("period_to"),
		Contributions: get("contributions")}
	if f.Unit == "" {
		f.Unit = c.Currency
	}
	var v errs.ValidationError
	n := budget.NewRound{Title: f.Title, Unit: f.Unit, Underfunded: f.Underfunded, Unspent: f.Unspent, Allowance: f.Allowance,
		BucketsFrom: formTime(&v, "buckets_from", f.BucketsFrom), BucketsTo: formTime(&v, "buckets_to", f.BucketsTo),
		FundingFrom: formTime(&v, "funding_from", f.FundingFrom), FundingTo: formTime(&v, "funding_to", f.FundingTo),
		MemberCap: formAmount(&v, "member_cap", f.MemberCap, f.Unit)}
	if f.PeriodFrom != "" || f.PeriodTo != "" {
		from, to := formTime(&v, "period_from", f.PeriodFrom), formTime(&v, "period_to", f.PeriodTo)
		n.PeriodFrom, n.PeriodTo = &from, &to
	}
	if f.Contributions != "" {
		amount := formAmount(&v, "contributions", f.Contributions, f.Unit)
		n.Contributions = &amount
	}
	var rows []int // the form row of each expense sent
	for i := range expenseRows {
		s := strconv.Itoa(i)
		row := expenseRow{Index: i, Title: get("expense_title_" + s), Amount: get("expense_amount_" + s), Proposal: get("expense_proposal_" + s)}
		f.Expenses = append(f.Expenses, row)
		if row.Title == "" && row.Amount == "" && row.Proposal == "" {
			continue
		}
		e := budget.Expense{Title: row.Title, Amount: formAmount(&v, "expense_"+s, row.Amount, f.Unit)}
		if row.Proposal != "" {
			if e.ProposalID, err = strconv.ParseInt(row.Proposal, 10, 64); err != nil {
				v.Add("expense_"+s, "choose the decision that approved it")
			}
		}
		n.Expenses = append(n.Expenses, e)
		rows = append(rows, i)
	}
	var round *budget.Round
	if err = v.Err(); err == nil {
		round, err = h.Budget.CreateRound(r.Context(), c, me, n)
	}
	if err == nil {
		return redirect(w, r, fmt.Sprintf("/coops/%s/rounds/%d", c.Slug, round.ID))
	}
	status, fields, problem, err := formProblem(err)
	if err != nil {
		return err
	}
	d, derr := h.roundsPage(r, me, c, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Problem = indexedErrors(fields, "expenses", "expense_", rows), problem
	return h.render(w, r, status, "round_list", "Budget rounds", d)
}

// formProblem sorts a refused form's error: field errors (422), or a
// conflict or refusal to show beside the form (409, 403); anything else
// comes back for the error page.
func formProblem(err error) (status int, fields map[string]string, problem string, rest error) {
	if fields, ok := fieldErrors(err); ok {
		return http.StatusUnprocessableEntity, fields, "", nil
	}
	for _, k := range []struct {
		err    error
		status int
	}{{errs.ErrConflict, http.StatusConflict}, {errs.ErrForbidden, http.StatusForbidden}} {
		if errors.Is(err, k.err) {
			msg := message(err, k.err)
			if errors.Is(err, ledger.ErrInsufficient) {
				msg = strings.TrimSuffix(msg, ": insufficient funds")
			}
			return k.status, nil, msg, nil
		}
	}
	return 0, nil, "", err
}

// indexedErrors files the service's errors on a list ("expenses[2].amount")
// under the form row they came from ("expense_5").
func indexedErrors(fields map[string]string, list, row string, rows []int) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		msg := fields[k]
		if rest, ok := strings.CutPrefix(k, list+"["); ok {
			if i, err := strconv.Atoi(rest[:max(0, strings.IndexByte(rest, ']'))]); err == nil && i >= 0 && i < len(rows) {
				k = row + strconv.Itoa(rows[i])
			}
		}
		if _, ok := out[k]; !ok {
			out[k] = msg
		}
	}
	return out
}

// roundPage is one round: its money, the member's allowance, its buckets
// with their progress, and the bucket form.
type roundPage struct {
	Coop      *coop.Coop
	Member    coop.Member
	R         *budget.Round
	Money     map[string]string
	Expenses  []expenseView
	Mine      *allowanceView
	Buckets   []bucketRow
	CanManage bool
	Form      bucketForm
	Errors    map[string]string
	Problem   string
	Done      string
}

type expenseView struct {
	Title, Amount string
	ProposalID    int64
}

type allowanceView struct {
	Account, Granted, RolledIn, Balance, Given string
	Empty                                      bool
}

type bucketRow struct {
	ID                          int64
	Title, State, Outcome       string
	Author                      string
	Raised, Min, Max            string
	RaisedN, MinN, MaxN, ToMinN int64
}

type bucketForm struct {
	Title, Description, Cocreators string
	Publish                        bool
	Items                          []bucketItemRow
}

type bucketItemRow struct {
	Index           int
	Title, Min, Max string
}

// pathInt64 reads the path value name as a positive id; anything else is
// a 404 naming what.
func pathInt64(r *http.Request, name, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &httpError{http.StatusNotFound, fmt.Sprintf("There is no %s %q.", what, r.PathValue(name))}
	}
	return id, nil
}

func (h *handler) showRound(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	d, err := h.roundPage(r, me, c, id, bucketForm{Publish: true})
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("done")
	return h.render(w, r, http.StatusOK, "round_show", d.R.Title, d)
}

func newBucketRow(b *budget.Bucket) bucketRow {
	return bucketRow{ID: b.ID, Title: b.Title, State: b.State, Outcome: b.Outcome, Author: b.Author,
		Raised: formatAmount(b.Raised, b.Unit), Min: formatAmount(b.Min, b.Unit), Max: formatAmount(b.Max, b.Unit),
		RaisedN: b.Raised, MinN: b.Min, MaxN: b.Max, ToMinN: min(b.Raised, b.Min)}
}

func (h *handler) roundPage(r *http.Request, me auth.Account, c *coop.Coop, id int64, f bucketForm) (*roundPage, error) {
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return nil, err
	}
	rd, err := h.Budget.Round(r.Context(), c, me, id)
	if err != nil {
		return nil, err
	}
	bs, err := h.Budget.Buckets(r.Context(), c, me, id)
	if err != nil {
		return nil, err
	}
	u := rd.Unit
	d := &roundPage{Coop: c, Member: m, R: rd, CanManage: m.Treasurer || m.Secretary, Form: f,
		Money: map[string]string{"C": formatAmount(rd.Contributions, u), "E": formatAmount(rd.CoreExpenses, u),
			"D": formatAmount(rd.Discretionary, u), "Shortfall": formatAmount(rd.Shortfall, u), "RolledIn": formatAmount(rd.RolledIn, u),
			"Cap": formatAmount(rd.MemberCap, u)}}
	if rd.Close != nil {
		d.Money["Refunded"], d.Money["Kept"] = formatAmount(rd.Close.Refunded, u), formatAmount(rd.Close.Kept, u)
		d.Money["Reclaimed"], d.Money["Returned"] = formatAmount(rd.Close.Reclaimed, u), formatAmount(rd.Close.Returned, u)
		d.Money["RolledOver"] = formatAmount(rd.Close.RolledOver, u)
	}
	for _, e := range rd.Expenses {
		d.Expenses = append(d.Expenses, expenseView{Title: e.Title, Amount: formatAmount(e.Amount, u), ProposalID: e.ProposalID})
	}
	al, err := h.Budget.Allowance(r.Context(), c, me, id, "")
	switch {
	case err == nil:
		d.Mine = &allowanceView{Account: al.Account, Granted: formatAmount(al.Granted, u), RolledIn: formatAmount(al.RolledIn, u),
			Balance: formatAmount(al.Balance, u), Given: formatAmount(al.Given, u), Empty: al.Balance == 0}
	case !errors.Is(err, errs.ErrNotFound):
		return nil, err
	}
	for _, b := range bs {
		d.Buckets = append(d.Buckets, newBucketRow(b))
	}
	for len(d.Form.Items) < bucketItemRows {
		d.Form.Items = append(d.Form.Items, bucketItemRow{Index: len(d.Form.Items)})
	}
	return d, nil
}

func (h *handler) createBucket(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	rd, err := h.Budget.Round(r.Context(), c, me, id)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	get := func(k string) string { return strings.TrimSpace(pf.Get(k)) }
	f := bucketForm{Title: get("title"), Description: pf.Get("description"), Cocreators: get("cocreators"), Publish: pf.Get("publish") != ""}
	n := budget.NewBucket{Title: f.Title, Description: f.Description, Publish: f.Publish,
		Cocreators: strings.FieldsFunc(f.Cocreators, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })}
	var v errs.ValidationError
	var rows []int
	for i := range bucketItemRows {
		s := strconv.Itoa(i)
		row := bucketItemRow{Index: i, Title: get("item_title_" + s), Min: get("item_min_" + s), Max: get("item_max_" + s)}
		f.Items = append(f.Items, row)
		if row.Title == "" && row.Min == "" && row.Max == "" {
			continue
		}
		n.Items = append(n.Items, budget.Item{Title: row.Title, Min: formAmount(&v, "item_"+s, row.Min, rd.Unit),
			Max: formAmount(&v, "item_"+s, row.Max, rd.Unit)})
		rows = append(rows, i)
	}
	var b *budget.Bucket
	if err = v.Err(); err == nil {
		b, err = h.Budget.CreateBucket(r.Context(), c, me, id, n)
	}
	if err == nil {
		return redirect(w, r, fmt.Sprintf("/coops/%s/buckets/%d", c.Slug, b.ID))
	}
	status, fields, problem, err := formProblem(err)
	if err != nil {
		return err
	}
	d, derr := h.roundPage(r, me, c, id, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Problem = indexedErrors(fields, "items", "item_", rows), problem
	for k, msg := range d.Errors {
		if strings.HasPrefix(k, "cocreators[") {
			d.Errors["cocreators"] = msg
		}
	}
	return h.render(w, r, status, "round_show", rd.Title, d)
}

func (h *handler) closeRound(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	if _, _, err := h.Budget.CloseRound(r.Context(), c, me, id); err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/rounds/%d?done=closed", c.Slug, id))
}

// bucketPage is one bucket: its budget, its progress toward its minimum
// and maximum, who gave, and the forms the viewer may use.
type bucketPage struct {
	Coop         *coop.Coop
	Member       coop.Member
	B            *budget.Bucket
	R            *budget.Round
	Row          bucketRow
	Items        []expenseView
	Contributors []expenseView
	Mine         *allowanceView
	MyGift       string
	// Cap is the round's per-member cap on one bucket, "" for none.
	Cap     string
	Can     map[string]bool
	Form    contributionForm
	Errors  map[string]string
	Problem string
	Done    string
}

type contributionForm struct{ ID, Amount, PayTo string }

func (h *handler) showBucket(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	d, err := h.bucketPage(r, me, c, id, contributionForm{ID: newTransferID()})
	if err != nil {
		return err
	}
	d.Done = r.URL.Query().Get("done")
	return h.render(w, r, http.StatusOK, "bucket_show", d.B.Title, d)
}

func (h *handler) bucketPage(r *http.Request, me auth.Account, c *coop.Coop, id int64, f contributionForm) (*bucketPage, error) {
	m, err := h.Coops.RequireMember(r.Context(), c, me.ID)
	if err != nil {
		return nil, err
	}
	b, err := h.Budget.Bucket(r.Context(), c, me, id)
	if err != nil {
		return nil, err
	}
	rd, err := h.Budget.Round(r.Context(), c, me, b.RoundID)
	if err != nil {
		return nil, err
	}
	u := b.Unit
	d := &bucketPage{Coop: c, Member: m, B: b, R: rd, Row: newBucketRow(b), Form: f, Can: map[string]bool{}}
	for _, it := range b.Items {
		d.Items = append(d.Items, expenseView{Title: it.Title, Amount: formatAmount(it.Min, u) + " – " + formatAmount(it.Max, u)})
	}
	var mine int64
	for _, g := range b.Contributors {
		d.Contributors = append(d.Contributors, expenseView{Title: g.Handle, Amount: formatAmount(g.Amount, u)})
		if g.Handle == m.Handle {
			mine = g.Amount
		}
	}
	al, err := h.Budget.Allowance(r.Context(), c, me, b.RoundID, "")
	switch {
	case err == nil:
		d.Mine = &allowanceView{Account: al.Account, Granted: formatAmount(al.Granted, u), RolledIn: formatAmount(al.RolledIn, u),
			Balance: formatAmount(al.Balance, u), Given: formatAmount(al.Given, u), Empty: al.Balance == 0}
	case !errors.Is(err, errs.ErrNotFound):
		return nil, err
	}
	d.MyGift = formatAmount(mine, u)
	if rd.MemberCap > 0 {
		d.Cap = formatAmount(rd.MemberCap, u)
	}
	creator := b.Author == m.Handle || slices.Contains(b.Cocreators, m.Handle)
	officer := m.Treasurer || m.Secretary
	open := rd.State == budget.RoundOpen
	d.Can["give"] = open && rd.FundingOpen && b.State == budget.Open && d.Mine != nil
	d.Can["withdraw"] = open && b.State == budget.Open && mine > 0
	d.Can["publish"] = open && creator && b.State == budget.Draft
	d.Can["open"] = open && (creator || officer) && b.State == budget.Idea
	d.Can["accept"] = open && (creator || officer) && b.State == budget.Open && b.Raised >= b.Min
	d.Can["cancel"] = open && (creator || officer) && slices.Contains([]string{budget.Draft, budget.Idea, budget.Open, budget.Funded}, b.State)
	d.Can["complete"] = m.Treasurer && (b.State == budget.Funded || (b.State == budget.Open && b.Outcome == budget.OutcomeKept))
	return d, nil
}

// bucketRefused re-renders the bucket page with what was refused.
func (h *handler) bucketRefused(w http.ResponseWriter, r *http.Request, me auth.Account, c *coop.Coop, id int64, f contributionForm, err error) error {
	status, fields, problem, err := formProblem(err)
	if err != nil {
		return err
	}
	if f.ID == "" || status == http.StatusConflict {
		// A mended form is a new contribution, not a clash with the refused one.
		f.ID = newTransferID()
	}
	d, derr := h.bucketPage(r, me, c, id, f)
	if derr != nil {
		return derr
	}
	d.Errors, d.Problem = fields, problem
	return h.render(w, r, status, "bucket_show", d.B.Title, d)
}

func (h *handler) contribute(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := contributionForm{ID: strings.TrimSpace(r.PostForm.Get("id")), Amount: strings.TrimSpace(r.PostForm.Get("amount"))}
	b, err := h.Budget.Bucket(r.Context(), c, me, id)
	if err != nil {
		return err
	}
	var v errs.ValidationError
	n := budget.NewContribution{ID: f.ID, Amount: formAmount(&v, "amount", f.Amount, b.Unit)}
	if f.Amount == "" {
		v.Add("amount", "give an amount")
	}
	if err = v.Err(); err == nil {
		_, _, err = h.Budget.Contribute(r.Context(), c, me, id, n)
	}
	if err != nil {
		return h.bucketRefused(w, r, me, c, id, f, err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/buckets/%d?done=given", c.Slug, id))
}

func (h *handler) withdraw(w http.ResponseWriter, r *http.Request) error {
	me, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	if _, err := h.Budget.Withdraw(r.Context(), c, me, id); err != nil {
		return h.bucketRefused(w, r, me, c, id, contributionForm{}, err)
	}
	return redirect(w, r, fmt.Sprintf("/coops/%s/buckets/%d?done=withdrawn", c.Slug, id))
}

func (h *handler) changeBucket(action string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		me, c, id, err := h.callerAndID(r, "bucket")
		if err != nil {
			return err
		}
		if err := parseForm(w, r); err != nil {
			return err
		}
		f := contributionForm{PayTo: strings.TrimSpace(r.PostForm.Get("pay_to"))}
		if _, err := h.Budget.Change(r.Context(), c, me, id, action, f.PayTo); err != nil {
			return h.bucketRefused(w, r, me, c, id, f, err)
		}
		return redirect(w, r, fmt.Sprintf("/coops/%s/buckets/%d?done=%s", c.Slug, id, action))
	}
}
