// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/pool"
)

// registerPool adds the pages for the pooling and income routes (RULES.md 3.2).
func (h *handler) registerPool(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/pooling", h.showPooling)
	handle("POST /coops/{slug}/pooling", h.setPooling)
	handle("POST /coops/{slug}/pooling/income", h.recordPoolIncome)
	handle("POST /coops/{slug}/pooling/run", h.runPooling)
	handle("POST /coops/{slug}/pooling/suspensions", h.suspendPoolLevy)
}

// poolPage is the pooling page: the rule in words and examples, each
// income's split and each month's run, and the forms a secretary or
// treasurer uses.
type poolPage struct {
	Coop     *coop.Coop
	Member   coop.Member
	Overview *pool.Overview
	Params   string // the rule's parameters as indented JSON
	Incomes  []poolIncomeRow
	Periods  []poolPeriodRow
	Members  []string
	Projects []string
	Presets  []string
	// Runs is what a run just did.
	Runs []pool.Period
	Done string

	RuleForm    poolRuleForm
	IncomeForm  poolIncomeForm
	RunForm     poolRunForm
	SuspendForm poolSuspendForm
	RuleErrs    map[string]string
	IncomeErrs  map[string]string
	RunErrs     map[string]string
	SuspendErrs map[string]string
}

type poolRuleForm struct{ Preset, Params string }

type poolIncomeForm struct{ ID, Member, Amount, Unit, Kind, Buyer, Project, Note string }

type poolRunForm struct{ Period, Job string }

type poolSuspendForm struct {
	Project, From, Proposal, Note string
	Resume                        bool
}

// poolIncomeRow is an income with its amounts written out; FeeText is
// empty without a fee.
type poolIncomeRow struct {
	pool.Income
	AmountText, FeeText string
	Parts               []poolPartRow
}

type poolPartRow struct{ Part, To, Amount string }

type poolPeriodRow struct {
	pool.Period
	TotalText string
	Rows      []poolLineRow
}

type poolLineRow struct{ Member, Basis, Amount, Note string }

// poolDone are the messages shown after a successful form.
var poolDone = map[string]string{
	"rule":       "The pooling rule is set; it splits every income from now on.",
	"income":     "The income is recorded and split.",
	"suspension": "The decision is recorded.",
}

func (h *handler) showPooling(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	d, err := h.poolPage(r, me, c)
	if err != nil {
		return err
	}
	d.Done = poolDone[r.URL.Query().Get("done")]
	return h.render(w, r, http.StatusOK, "pool", "Pooling", d)
}

// poolPage loads the page with empty forms.
func (h *handler) poolPage(r *http.Request, me auth.Account, c *coop.Coop) (*poolPage, error) {
	ctx := r.Context()
	m, err := h.Coops.RequireMember(ctx, c, me.ID)
	if err != nil {
		return nil, err
	}
	o, err := h.Pool.Overview(ctx, c, me)
	if err != nil {
		return nil, err
	}
	incomes, err := h.Pool.Incomes(ctx, c, me, 100)
	if err != nil {
		return nil, err
	}
	periods, err := h.Pool.Periods(ctx, c, me, 24)
	if err != nil {
		return nil, err
	}
	members, err := h.Coops.Members(ctx, c, false)
	if err != nil {
		return nil, err
	}
	d := &poolPage{Coop: c, Member: m, Overview: o, Presets: pool.PresetNames,
		IncomeForm: poolIncomeForm{ID: newIncomeID(), Unit: c.Currency}, RunForm: poolRunForm{Period: lastMonth(h.now())}}
	for _, x := range members {
		d.Members = append(d.Members, x.Handle)
	}
	if o.Rule != nil {
		b, _ := json.MarshalIndent(o.Rule.Params, "", "  ")
		d.Params = string(b)
		d.RuleForm = poolRuleForm{Preset: o.Rule.Preset, Params: d.Params}
		if lp, ok := o.Rule.Params.(*pool.LevyParams); ok {
			for _, p := range lp.Projects {
				d.Projects = append(d.Projects, p.Member)
			}
		}
	}
	for _, inc := range incomes {
		row := poolIncomeRow{Income: inc.Income, AmountText: formatAmount(inc.Income.Amount, inc.Income.Unit)}
		if inc.Income.Fee > 0 {
			row.FeeText = formatAmount(inc.Income.Fee, inc.Income.Unit)
		}
		for _, p := range inc.Postings {
			row.Parts = append(row.Parts, poolPartRow{Part: p.Part, To: p.Credit, Amount: formatAmount(p.Amount, p.Unit)})
		}
		d.Incomes = append(d.Incomes, row)
	}
	for _, p := range periods {
		d.Periods = append(d.Periods, periodRow(p))
	}
	return d, nil
}

func periodRow(p pool.Period) poolPeriodRow {
	row := poolPeriodRow{Period: p}
	units := make([]string, 0, len(p.Totals))
	for u := range p.Totals {
		units = append(units, u)
	}
	sort.Strings(units)
	var totals []string
	for _, u := range units {
		totals = append(totals, formatAmount(p.Totals[u], u))
	}
	row.TotalText = strings.Join(totals, ", ")
	for _, l := range p.Lines {
		basis := "traded " + formatAmount(l.Traded, l.Unit)
		if p.Job == pool.JobLevy {
			basis = fmt.Sprintf("%s m²", l.AreaM2)
			if l.Year > 0 {
				basis += fmt.Sprintf(" × %s minor units (year %d)", l.Rate, l.Year)
			}
		}
		row.Rows = append(row.Rows, poolLineRow{Member: l.Member, Basis: basis, Amount: formatAmount(l.Amount, l.Unit), Note: l.Note})
	}
	return row
}

// newIncomeID is the id a fresh income form carries, so that sending the
// form twice records the income once.
func newIncomeID() string {
	var b [8]byte
	rand.Read(b[:])
	return "web-" + hex.EncodeToString(b[:])
}

func (h *handler) setPooling(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := poolRuleForm{Preset: r.PostForm.Get("preset"), Params: strings.TrimSpace(r.PostForm.Get("params"))}
	in := pool.SetRule{Preset: f.Preset}
	if f.Params != "" {
		if !json.Valid([]byte(f.Params)) {
			return h.poolFormError(w, r, me, c, func(d *poolPage) {
				d.RuleForm, d.RuleErrs = f, map[string]string{"params": "write the parameters as JSON, e.g. {\"collective_bp\": 2000}"}
			})
		}
		in.Params = json.RawMessage(f.Params)
	}
	if _, err := h.Pool.SetRule(r.Context(), c, me, in); err != nil {
		if fields, ok := fieldErrors(err); ok {
			return h.poolFormError(w, r, me, c, func(d *poolPage) { d.RuleForm, d.RuleErrs = f, flatten(fields, "params") })
		}
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"/pooling?done=rule")
}

// flatten files every params.* message under field, where the form shows
// one box for them all, keeping the path in the message.
func flatten(fields map[string]string, field string) map[string]string {
	out := map[string]string{}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var msgs []string
	for _, k := range keys {
		if k == field || strings.HasPrefix(k, field+".") {
			msgs = append(msgs, k+": "+fields[k])
			continue
		}
		out[k] = fields[k]
	}
	if len(msgs) > 0 {
		out[field] = strings.Join(msgs, "; ")
	}
	return out
}

func (h *handler) recordPoolIncome(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := poolIncomeForm{ID: pf.Get("id"), Member: strings.TrimSpace(pf.Get("member")), Amount: pf.Get("amount"),
		Unit: strings.TrimSpace(pf.Get("unit")), Kind: strings.TrimSpace(pf.Get("kind")), Buyer: strings.TrimSpace(pf.Get("buyer")),
		Project: pf.Get("project"), Note: pf.Get("note")}
	in := pool.NewIncome{ID: f.ID, Member: f.Member, Unit: f.Unit, Kind: f.Kind, Buyer: f.Buyer, Project: f.Project, Note: f.Note}
	unit := f.Unit
	if unit == "" {
		unit = c.Currency
	}
	amount, err := parseAmount(f.Amount, unit)
	if err != nil || amount <= 0 {
		return h.poolFormError(w, r, me, c, func(d *poolPage) {
			d.IncomeForm, d.IncomeErrs = f, map[string]string{"amount": "give the amount, e.g. 1000.00"}
		})
	}
	in.Amount = amount
	if _, _, err := h.Pool.RecordIncome(r.Context(), c, me, in); err != nil {
		if fields, ok := fieldErrors(err); ok {
			return h.poolFormError(w, r, me, c, func(d *poolPage) { d.IncomeForm, d.IncomeErrs = f, fields })
		}
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"/pooling?done=income#incomes")
}

func (h *handler) runPooling(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := poolRunForm{Period: strings.TrimSpace(r.PostForm.Get("period")), Job: r.PostForm.Get("job")}
	runs, err := h.Pool.RunPeriod(r.Context(), c, me, f.Period, f.Job)
	if err != nil {
		if fields, ok := fieldErrors(err); ok {
			return h.poolFormError(w, r, me, c, func(d *poolPage) { d.RunForm, d.RunErrs = f, fields })
		}
		return err
	}
	// The page shows what the run did, skipped jobs with their reasons;
	// sending it again runs nothing twice.
	d, err := h.poolPage(r, me, c)
	if err != nil {
		return err
	}
	d.RunForm, d.Runs = f, runs
	return h.render(w, r, http.StatusOK, "pool", "Pooling", d)
}

func (h *handler) suspendPoolLevy(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := poolSuspendForm{Project: pf.Get("project"), From: strings.TrimSpace(pf.Get("from")), Proposal: strings.TrimSpace(pf.Get("proposal")),
		Note: pf.Get("note"), Resume: pf.Get("resume") != ""}
	in := pool.NewSuspension{Project: f.Project, From: f.From, Note: f.Note, Resume: f.Resume}
	in.Proposal, _ = strconv.ParseInt(strings.TrimPrefix(f.Proposal, "#"), 10, 64)
	if _, err := h.Pool.Suspend(r.Context(), c, me, in); err != nil {
		fields, ok := fieldErrors(err)
		if !ok && errors.Is(err, errs.ErrNotFound) {
			fields, ok = map[string]string{"proposal": message(err, errs.ErrNotFound)}, true
		}
		if ok {
			return h.poolFormError(w, r, me, c, func(d *poolPage) { d.SuspendForm, d.SuspendErrs = f, fields })
		}
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug+"/pooling?done=suspension#levy")
}

// poolFormError re-renders the page with 422 and one form's errors.
func (h *handler) poolFormError(w http.ResponseWriter, r *http.Request, me auth.Account, c *coop.Coop, fill func(*poolPage)) error {
	d, err := h.poolPage(r, me, c)
	if err != nil {
		return err
	}
	fill(d)
	return h.render(w, r, http.StatusUnprocessableEntity, "pool", "Pooling", d)
}

// lastMonth is the month a run form offers first: the one before now's.
func lastMonth(now time.Time) string {
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}
