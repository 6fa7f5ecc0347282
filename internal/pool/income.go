// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
	"opencoop/internal/store"
)

// NewIncome is an income for the co-op's rule to split. ID is the
// client's idempotency key. Member is whom the income is for (the
// invoicing member, a sale's seller); Buyer a sale's buyer, when a member.
// Project names the venture or project it came from, for the record.
type NewIncome struct {
	ID      string `json:"id"`
	Member  string `json:"member,omitempty"`
	Amount  int64  `json:"amount"`
	Unit    string `json:"unit,omitempty"`
	Kind    string `json:"kind"`
	Buyer   string `json:"buyer,omitempty"`
	Project string `json:"project,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Income is an income as split. Fee is a marketplace sale's fee.
type Income struct {
	ID         string    `json:"id"`
	Member     string    `json:"member,omitempty"`
	Amount     int64     `json:"amount"`
	Unit       string    `json:"unit"`
	Kind       string    `json:"kind"`
	Buyer      string    `json:"buyer,omitempty"`
	Project    string    `json:"project,omitempty"`
	Note       string    `json:"note,omitempty"`
	RuleID     int64     `json:"rule_id"`
	Preset     string    `json:"preset"`
	Fee        int64     `json:"fee"`
	RecordedBy string    `json:"recorded_by"`
	At         time.Time `json:"at"`
}

// Posting is one transfer a split made, with the part of the rule it pays.
type Posting struct {
	ID     string `json:"id"`
	Debit  string `json:"debit"`
	Credit string `json:"credit"`
	Amount int64  `json:"amount"`
	Unit   string `json:"unit"`
	Kind   string `json:"kind"`
	Part   string `json:"part"`
}

// IncomeSplit is an income with the postings its rule made.
type IncomeSplit struct {
	Income   Income    `json:"income"`
	Postings []Posting `json:"postings"`
}

var incomeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`)

func (in *NewIncome) validate(c *coop.Coop) error {
	var v errs.ValidationError
	in.Member, in.Buyer = strings.TrimSpace(in.Member), strings.TrimSpace(in.Buyer)
	in.Project, in.Note = strings.TrimSpace(in.Project), strings.TrimSpace(in.Note)
	if !incomeIDRE.MatchString(in.ID) {
		v.Add("id", "give a client id of 1 to 64 letters, digits or . _ : - (a retry sends the same)")
	}
	if err := money.CheckAmount(in.Amount); err != nil {
		v.Add("amount", fmt.Sprintf("give a whole number of minor units from 1 to %d", int64(money.MaxAmount)))
	}
	if in.Unit == "" {
		in.Unit = c.Currency
	}
	if !money.ValidUnit(in.Unit) {
		v.Add("unit", "give a unit code such as EUR or HOURS")
	}
	if !kindRE.MatchString(in.Kind) {
		v.Add("kind", "give a kind: a lower-case word such as invoice, venture_revenue or sale")
	}
	if in.Member != "" && !auth.ValidHandle(in.Member) {
		v.Add("member", "give a member's handle")
	}
	if in.Buyer != "" && !auth.ValidHandle(in.Buyer) {
		v.Add("buyer", "give a member's handle")
	}
	if in.Buyer != "" && in.Buyer == in.Member {
		v.Add("buyer", "the buyer and the seller are different members")
	}
	if utf8.RuneCountInString(in.Project) > 100 {
		v.Add("project", "at most 100 characters")
	}
	if utf8.RuneCountInString(in.Note) > 500 {
		v.Add("note", "at most 500 characters")
	}
	return v.Err()
}

// RecordIncome splits in by the co-op's rule in force and posts the split
// as one atomic ledger batch, money coming from external, with the income
// and its audit event; treasurers may. The postings' ids are
// inc:<id>:<n>, so a retry cannot post twice: the same id with the same
// content returns the original (created false) even after the rule
// changed; other content under the id is errs.ErrConflict. Without a rule
// it is errs.ErrConflict too; bad fields, and a member or buyer who is not
// a member, are a *errs.ValidationError, and nothing is written.
func (s *Service) RecordIncome(ctx context.Context, c *coop.Coop, a auth.Account, in NewIncome) (*IncomeSplit, bool, error) {
	m, err := s.Coops.RequireTreasurer(ctx, c, a.ID)
	if err != nil {
		return nil, false, err
	}
	if err := in.validate(c); err != nil {
		return nil, false, err
	}
	body, err := audit.Canonical(in)
	if err != nil {
		return nil, false, fmt.Errorf("pool: encode income: %w", err)
	}
	var out *IncomeSplit
	created := false
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		old, err := incomeByID(ctx, tx, c.ID, in.ID)
		if err == nil {
			out, err = old.replay(in.ID, string(body))
			return err
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		out, err = s.split(ctx, tx, c, a.Actor(), m.Handle, in, string(body))
		created = err == nil
		return err
	})
	if err != nil && !isInvalid(err) {
		// A concurrent request with the same id may have won the race.
		if old, lerr := incomeByID(ctx, s.DB.Read(), c.ID, in.ID); lerr == nil {
			out, err = old.replay(in.ID, string(body))
			created = false
		}
	}
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

func isInvalid(err error) bool {
	_, ok := errors.AsType[*errs.ValidationError](err)
	return ok
}

// split does RecordIncome's work inside tx for treasurer by.
func (s *Service) split(ctx context.Context, tx *store.Tx, c *coop.Coop, actor, by string, in NewIncome, body string) (*IncomeSplit, error) {
	now := s.now()
	r, err := ruleAt(ctx, tx, c.ID, now)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%s has no pooling rule yet: a secretary or treasurer sets one first: %w", c.Name, errs.ErrConflict)
	}
	pl, err := planFor(r.Params, in.Kind)
	if err != nil {
		return nil, err
	}
	legs, fee, err := pl.split(in.Amount)
	if err != nil {
		return nil, err
	}
	var v errs.ValidationError
	for _, l := range legs {
		switch {
		case l.To == ToMember && in.Member == "":
			v.Add("member", fmt.Sprintf("name the member %s pays (%s)", pl.What, l.Part))
		case l.To == ToBuyer && in.Buyer == "":
			v.Add("buyer", fmt.Sprintf("name the buyer %s pays (%s)", pl.What, l.Part))
		}
	}
	for field, h := range map[string]string{"member": in.Member, "buyer": in.Buyer} {
		if h == "" {
			continue
		}
		if err := s.requireMember(ctx, c, h); errors.Is(err, errs.ErrNotFound) {
			v.Add(field, fmt.Sprintf("%s is not a member of %s", h, c.Name))
		} else if err != nil {
			return nil, err
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	inc := Income{ID: in.ID, Member: in.Member, Amount: in.Amount, Unit: in.Unit, Kind: in.Kind, Buyer: in.Buyer,
		Project: in.Project, Note: in.Note, RuleID: r.ID, Preset: r.Preset, Fee: fee, RecordedBy: by, At: now}
	postings := []Posting{}
	var reqs []ledger.Request
	var usersPool int64
	for _, l := range legs {
		if l.Amount == 0 {
			continue // the ledger moves no zero amounts; nothing is owed
		}
		to := l.To
		switch to {
		case ToMember:
			to = "member:" + in.Member
		case ToBuyer:
			to = "member:" + in.Buyer
		}
		if to == "coop:users_pool" && r.Preset == Marketplace {
			usersPool += l.Amount
		}
		p := Posting{ID: fmt.Sprintf("inc:%s:%d", in.ID, len(postings)+1), Debit: "external", Credit: to, Amount: l.Amount,
			Unit: in.Unit, Kind: in.Kind, Part: l.Part}
		postings = append(postings, p)
		reqs = append(reqs, ledger.Request{ID: p.ID, Debit: p.Debit, Credit: p.Credit, Amount: p.Amount, Unit: p.Unit,
			Kind: p.Kind, Ref: "income:" + in.ID})
	}
	if _, _, err := s.Ledger.Apply(ctx, tx, c, actor, reqs); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(postings)
	if err != nil {
		return nil, fmt.Errorf("pool: encode postings: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pool_incomes (coop_id, client_id, rule_id, preset, kind, member, buyer, project, note,
			amount, unit, fee, users_pool, body, postings, recorded_by, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, inc.ID, inc.RuleID, inc.Preset, inc.Kind, inc.Member, inc.Buyer, inc.Project, inc.Note,
		inc.Amount, inc.Unit, inc.Fee, usersPool, body, string(raw), by, now)
	if store.IsUniqueViolation(err) {
		return nil, fmt.Errorf("income %s was recorded meanwhile: %w", in.ID, errs.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("pool: insert income: %w", err)
	}
	out := &IncomeSplit{Income: inc, Postings: postings}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "pool.income",
		Object: "income:" + in.ID, Payload: out})
	return out, err
}

// split divides amount by the plan: the legs in order (the member's rest
// first when there is a fee) and the fee.
func (pl *plan) split(amount int64) ([]Leg, int64, error) {
	if pl.Rest == "" {
		legs, err := pl.Tree.Split(amount)
		return legs, 0, err
	}
	fee, err := money.MulDivHalfEven(amount, pl.FeeBP, Whole)
	if err != nil {
		return nil, 0, fmt.Errorf("pool: fee of %d: %w", amount, err)
	}
	legs, err := pl.Tree.Split(fee)
	if err != nil {
		return nil, 0, err
	}
	for i := range legs {
		legs[i].Part = joinPart("the fee", legs[i].Part)
	}
	return append([]Leg{{To: ToMember, Amount: amount - fee, Part: pl.Rest}}, legs...), fee, nil
}

// stored is an income row as read back.
type stored struct {
	IncomeSplit
	body string
}

func (o *stored) replay(id, body string) (*IncomeSplit, error) {
	if o.body != body {
		return nil, fmt.Errorf("income id %q was used for a different income: %w", id, errs.ErrConflict)
	}
	return &o.IncomeSplit, nil
}

const selectIncome = `SELECT client_id, member, amount, unit, kind, buyer, project, note, rule_id, preset, fee, recorded_by, at,
	body, postings FROM pool_incomes`

func scanIncome(row interface{ Scan(...any) error }) (*stored, error) {
	var o stored
	var postings string
	i := &o.Income
	if err := row.Scan(&i.ID, &i.Member, &i.Amount, &i.Unit, &i.Kind, &i.Buyer, &i.Project, &i.Note, &i.RuleID, &i.Preset,
		&i.Fee, &i.RecordedBy, &i.At, &o.body, &postings); err != nil {
		return nil, err
	}
	i.At = i.At.UTC()
	if err := json.Unmarshal([]byte(postings), &o.Postings); err != nil {
		return nil, fmt.Errorf("pool: stored postings of %s: %w", i.ID, err)
	}
	return &o, nil
}

func incomeByID(ctx context.Context, q queryer, coopID int64, id string) (*stored, error) {
	o, err := scanIncome(q.QueryRowContext(ctx, selectIncome+` WHERE coop_id = $1 AND client_id = $2`, coopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no income %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pool: load income: %w", err)
	}
	return o, nil
}

// IncomeByID returns one of c's incomes with its split, for a member;
// an id of another co-op is errs.ErrNotFound.
func (s *Service) IncomeByID(ctx context.Context, c *coop.Coop, a auth.Account, id string) (*IncomeSplit, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	o, err := incomeByID(ctx, s.DB.Read(), c.ID, id)
	if err != nil {
		return nil, err
	}
	return &o.IncomeSplit, nil
}

// Incomes lists c's incomes with their splits, newest first, at most
// limit (1 to 500), for a member.
func (s *Service) Incomes(ctx context.Context, c *coop.Coop, a auth.Account, limit int) ([]IncomeSplit, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := s.DB.Read().QueryContext(ctx, selectIncome+` WHERE coop_id = $1 ORDER BY id DESC LIMIT $2`, c.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("pool: list incomes: %w", err)
	}
	defer rows.Close()
	out := []IncomeSplit{}
	for rows.Next() {
		o, err := scanIncome(rows)
		if err != nil {
			return nil, fmt.Errorf("pool: scan income: %w", err)
		}
		out = append(out, o.IncomeSplit)
	}
	return out, rows.Err()
}
