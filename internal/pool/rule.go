// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// The presets (RULES.md 3.2).
const (
	Enspiral       = "enspiral"
	Marketplace    = "marketplace"
	SolidarityLevy = "solidarity_levy"
	Custom         = "custom"
)

// PresetNames lists the presets in the order forms offer them.
var PresetNames = []string{Enspiral, Marketplace, SolidarityLevy, Custom}

// Rule is a co-op's pooling rule as set, with every default filled in.
// It is in force from EffectiveAt until the next rule's.
type Rule struct {
	ID          int64     `json:"id"`
	Preset      string    `json:"preset"`
	Params      Params    `json:"params"`
	SetBy       string    `json:"set_by"`
	EffectiveAt time.Time `json:"effective_at"`
}

// Params are a preset's parameters: *EnspiralParams, *MarketplaceParams,
// *LevyParams or *CustomParams.
type Params interface {
	// check validates the parameters, reporting problems under params.*,
	// and returns the members they name, for the caller to look up.
	check(v *errs.ValidationError) []memberRef
	// plans returns how the preset splits incomes, kind by kind.
	plans() []plan
}

// memberRef is a member handle a rule names, with the field naming it.
type memberRef struct{ field, handle string }

// EnspiralParams are the Enspiral preset's: of a member's invoice
// CollectiveBP goes to the collective, FoundationBP of that to
// coop:foundation and the rest to coop:pool; of venture revenue VentureBP
// goes to coop:pool. The member keeps the rest.
type EnspiralParams struct {
	CollectiveBP int64 `json:"collective_bp"`
	FoundationBP int64 `json:"foundation_bp"`
	VentureBP    int64 `json:"venture_bp"`
}

// MarketplaceParams are the marketplace preset's: a sale's fee is the
// price × FeeBP / 10000 rounded half to even; CommonBP of the fee goes to
// coop:common, the rest to coop:users_pool.
type MarketplaceParams struct {
	FeeBP    int64 `json:"fee_bp"`
	CommonBP int64 `json:"common_bp"`
}

// CustomParams are a custom rule: Tree splits every income, except the
// kinds Kinds gives a tree of their own.
type CustomParams struct {
	Tree  *Node            `json:"tree"`
	Kinds map[string]*Node `json:"kinds,omitempty"`
}

// Income kinds the presets know.
const (
	KindInvoice = "invoice"
	KindVenture = "venture_revenue"
	KindSale    = "sale"
)

// plan splits the incomes of one kind: the whole amount by Tree, or, when
// Rest is set, a fee of amount × FeeBP / 10000 rounded half to even by
// Tree and the rest to the member (called Rest).
type plan struct {
	Kind  string // "" for every kind without a plan of its own
	What  string // what the income is, in words: "a member's invoice"
	FeeBP int64
	Rest  string
	Tree  Node
}

func defaults(preset string) (Params, error) {
	switch preset {
	case Enspiral:
		return &EnspiralParams{CollectiveBP: 2000, FoundationBP: 2500, VentureBP: 500}, nil
	case Marketplace:
		return &MarketplaceParams{FeeBP: 500, CommonBP: 5000}, nil
	case SolidarityLevy:
		return &LevyParams{StartRate: "10", StepBP: 50}, nil
	case Custom:
		return &CustomParams{}, nil
	}
	return nil, errs.Invalid("preset", "choose one of "+strings.Join(PresetNames, ", "))
}

// parseParams reads raw (null or absent: the defaults) as preset's
// parameters over its defaults, refusing unknown fields.
func parseParams(preset string, raw json.RawMessage) (Params, error) {
	p, err := defaults(preset)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return p, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(p); err != nil {
		var te *json.UnmarshalTypeError
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if errors.As(err, &te) {
			msg = fmt.Sprintf("%s must be %s, not %s", te.Field, te.Type, te.Value)
		}
		return nil, errs.Invalid("params", fmt.Sprintf("the %s parameters are not right: %s", preset, msg))
	}
	return p, nil
}

func checkBP(v *errs.ValidationError, field string, bp int64) {
	if bp < 0 || bp > Whole {
		v.Add(field, "give 0 to 10000 basis points (10000 is 100%)")
	}
}

func (p *EnspiralParams) check(v *errs.ValidationError) []memberRef {
	checkBP(v, "params.collective_bp", p.CollectiveBP)
	checkBP(v, "params.foundation_bp", p.FoundationBP)
	checkBP(v, "params.venture_bp", p.VentureBP)
	return nil
}

func (p *EnspiralParams) plans() []plan {
	collective := Node{BP: p.CollectiveBP, Label: "the collective", Parts: nonzero(
		Node{BP: p.FoundationBP, Label: "the foundation", To: "coop:foundation"},
		Node{BP: Whole - p.FoundationBP, Label: "the pool", To: "coop:pool"})}
	return []plan{
		{Kind: KindInvoice, What: "a member's invoice", Tree: Node{Parts: nonzero(
			Node{BP: Whole - p.CollectiveBP, Label: "the member", To: ToMember}, collective)}},
		{Kind: KindVenture, What: "venture revenue", Tree: Node{Parts: nonzero(
			Node{BP: Whole - p.VentureBP, Label: "the member", To: ToMember},
			Node{BP: p.VentureBP, Label: "the pool", To: "coop:pool"})}},
	}
}

// nonzero leaves out the parts with no share, so that a preset set to 0%
// or 100% makes no empty leg and says nothing of a part that gets nothing.
func nonzero(parts ...Node) []Node {
	out := parts[:0]
	for _, p := range parts {
		if p.BP > 0 {
			out = append(out, p)
		}
	}
	return out
}

func (p *MarketplaceParams) check(v *errs.ValidationError) []memberRef {
	checkBP(v, "params.fee_bp", p.FeeBP)
	checkBP(v, "params.common_bp", p.CommonBP)
	return nil
}

func (p *MarketplaceParams) plans() []plan {
	return []plan{{Kind: KindSale, What: "a sale", FeeBP: p.FeeBP, Rest: "the seller", Tree: Node{Parts: nonzero(
		Node{BP: p.CommonBP, Label: "the common pool", To: "coop:common"},
		Node{BP: Whole - p.CommonBP, Label: "the users' pool", To: "coop:users_pool"})}}}
}

var kindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func (p *CustomParams) check(v *errs.ValidationError) []memberRef {
	if p.Tree == nil {
		v.Add("params.tree", "a custom rule needs a tree: {\"split\": [{\"bp\": 8000, \"to\": \"member\"}, {\"bp\": 2000, \"to\": \"coop:pool\"}]}")
	} else {
		p.Tree.Validate(v, "params.tree")
	}
	if len(p.Kinds) > 20 {
		v.Add("params.kinds", "at most 20 kinds have trees of their own")
	}
	for k, t := range p.Kinds {
		f := "params.kinds." + k
		switch {
		case !kindRE.MatchString(k):
			v.Add(f, "a kind is a lower-case word such as invoice or sale")
		case t == nil:
			v.Add(f, "give the kind a tree")
		default:
			t.Validate(v, f)
		}
	}
	var refs []memberRef
	for _, pl := range p.plans() {
		f := "params.tree"
		if pl.Kind != "" {
			f = "params.kinds." + pl.Kind
		}
		for _, to := range pl.Tree.leaves() {
			if h, ok := strings.CutPrefix(to, "member:"); ok {
				refs = append(refs, memberRef{f, h})
			}
		}
	}
	return refs
}

func (p *CustomParams) plans() []plan {
	kinds := make([]string, 0, len(p.Kinds))
	for k, t := range p.Kinds {
		if t != nil {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	var out []plan
	for _, k := range kinds {
		out = append(out, plan{Kind: k, What: "income of kind " + k, Tree: *p.Kinds[k]})
	}
	if p.Tree != nil {
		what := "every income"
		if len(out) > 0 {
			what = "every other income"
		}
		out = append(out, plan{What: what, Tree: *p.Tree})
	}
	return out
}

// planFor returns the plan that splits income of kind, or a validation
// error naming the kinds the rule splits.
func planFor(p Params, kind string) (plan, error) {
	var kinds []string
	for _, pl := range p.plans() {
		if pl.Kind == kind || pl.Kind == "" {
			return pl, nil
		}
		kinds = append(kinds, pl.Kind)
	}
	if len(kinds) == 0 {
		return plan{}, errs.Invalid("kind", "the solidarity levy is charged each month; this rule splits no income")
	}
	return plan{}, errs.Invalid("kind", "this rule splits incomes of kind "+strings.Join(kinds, " or "))
}

// SetRule is a request to set a co-op's pooling rule.
type SetRule struct {
	Preset string          `json:"preset"`
	Params json.RawMessage `json:"params,omitempty"`
}

// SetRule puts in force the co-op's pooling rule from now on, with its
// audit event; secretaries and treasurers may. Earlier incomes keep the splits
// they were made with. It returns a *errs.ValidationError naming each bad
// parameter (params.*).
func (s *Service) SetRule(ctx context.Context, c *coop.Coop, a auth.Account, in SetRule) (*Rule, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	if !m.Secretary && !m.Treasurer {
		return nil, fmt.Errorf("only a secretary or treasurer of %s sets its pooling rule: %w", c.Name, errs.ErrForbidden)
	}
	p, err := parseParams(in.Preset, in.Params)
	if err != nil {
		return nil, err
	}
	var v errs.ValidationError
	for _, ref := range p.check(&v) {
		if err := s.requireMember(ctx, c, ref.handle); err != nil {
			if !errors.Is(err, errs.ErrNotFound) {
				return nil, err
			}
			v.Add(ref.field, fmt.Sprintf("%s is not a member of %s", ref.handle, c.Name))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	raw, err := audit.Canonical(p)
	if err != nil {
		return nil, fmt.Errorf("pool: encode params: %w", err)
	}
	r := &Rule{Preset: in.Preset, Params: p, SetBy: m.Handle, EffectiveAt: s.now()}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO pool_rules (coop_id, preset, params, set_by, effective_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.ID, r.Preset, string(raw), r.SetBy, r.EffectiveAt).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("pool: insert rule: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: r.EffectiveAt, Actor: a.Actor(), Action: "pool.rule",
			Object: "pooling:" + c.Slug, Payload: map[string]any{"id": r.ID, "preset": r.Preset, "params": p}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// requireMember returns errs.ErrNotFound unless handle is a member of c
// (in good standing or suspended).
func (s *Service) requireMember(ctx context.Context, c *coop.Coop, handle string) error {
	m, err := s.Coops.MemberByHandle(ctx, c, handle)
	if err != nil {
		return err
	}
	if m.State != coop.StateMember && m.State != coop.StateSuspended {
		return fmt.Errorf("%s is not a member of %s: %w", handle, c.Name, errs.ErrNotFound)
	}
	return nil
}

const selectRule = `SELECT id, preset, params, set_by, effective_at FROM pool_rules`

type queryer interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func scanRule(row interface{ Scan(...any) error }) (*Rule, error) {
	var r Rule
	var params string
	if err := row.Scan(&r.ID, &r.Preset, &params, &r.SetBy, &r.EffectiveAt); err != nil {
		return nil, err
	}
	r.EffectiveAt = r.EffectiveAt.UTC()
	p, err := parseParams(r.Preset, json.RawMessage(params))
	if err != nil {
		return nil, fmt.Errorf("pool: stored rule %d: %w", r.ID, err)
	}
	p.check(&errs.ValidationError{}) // fills the parsed values of a levy
	r.Params = p
	return &r, nil
}

// ruleAt returns the rule of c in force at t, or nil if none was set by then.
func ruleAt(ctx context.Context, q queryer, coopID int64, t time.Time) (*Rule, error) {
	r, err := scanRule(q.QueryRowContext(ctx, selectRule+` WHERE coop_id = $1 AND effective_at <= $2
		ORDER BY effective_at DESC, id DESC LIMIT 1`, coopID, t))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pool: load rule: %w", err)
	}
	return r, nil
}

// Rules lists c's rules, newest first; the first is in force.
func (s *Service) Rules(ctx context.Context, c *coop.Coop) ([]Rule, error) {
	rows, err := s.DB.Read().QueryContext(ctx, selectRule+` WHERE coop_id = $1 ORDER BY effective_at DESC, id DESC LIMIT 100`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("pool: list rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("pool: scan rule: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}
