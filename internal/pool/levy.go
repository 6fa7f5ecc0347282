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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/money"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// The solidarity levy (Mietshäuser Syndikat, RULES.md 3.2). Units, so that
// every figure is exact:
//
//   - an area is in m² with up to 2 decimals, held as hundredths of a m²;
//   - a base rent is a whole number of minor units per m² a month;
//   - a rate is in minor units per m² a month with up to 4 decimals, held
//     as ten-thousandths of a minor unit (rateScale). The rate of a
//     project's year k (k = 0 the year from its start month) is
//     start_rate + Σ_{j<k} base_rent(j) × step_bp / 10000, which is exact
//     in that unit;
//   - the month's charge is area × rate, rounded half to even to the minor
//     unit once (money.MulDivHalfEven); nothing is rounded before.
const (
	areaScale = 100    // hundredths of a m²
	rateScale = 10_000 // ten-thousandths of a minor unit
)

// Bounds on a levy's figures, so that no product overflows.
const (
	maxAreaM2   = 100_000_000   // 10⁸ m²
	maxBaseRent = 1_000_000_000 // minor units per m² a month
	maxRate     = 1_000_000_000 // minor units per m² a month
	maxProjects = 10_000
)

// KindLevy is the ledger kind of a levy charge.
const KindLevy = "solidarity_levy"

// Decimal is an exact decimal number, written in JSON as a number or a
// string and kept as its text: never a float.
type Decimal string

// UnmarshalJSON keeps a number's literal text, or a string's content.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*d = Decimal(strings.TrimSpace(s))
		return nil
	}
	*d = Decimal(b)
	return nil
}

var decimalRE = regexp.MustCompile(`^([0-9]{1,12})(?:\.([0-9]+))?$`)

// parseDecimal returns d × 10^places, refusing more decimals than places.
func parseDecimal(d Decimal, places int) (int64, bool) {
	m := decimalRE.FindStringSubmatch(string(d))
	if m == nil || len(m[2]) > places {
		return 0, false
	}
	frac := m[2] + strings.Repeat("0", places-len(m[2]))
	v, err := strconv.ParseInt(m[1]+frac, 10, 64)
	return v, err == nil
}

// formatScaled writes v / 10^places with as few decimals as it needs, at
// least min.
func formatScaled(v int64, places, min int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if len(s) <= places {
		s = strings.Repeat("0", places-len(s)+1) + s
	}
	whole, frac := s[:len(s)-places], s[len(s)-places:]
	for len(frac) > min && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if neg {
		whole = "-" + whole
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// LevyParams are the solidarity levy preset's: each project pays its area
// × the rate every month to coop:pool. The rate starts at StartRate minor
// units per m² a month (default 10: 0.10 of a two-decimal currency) and
// rises each year of the project by StepBP basis points (default 50:
// 0.5%) of the previous year's base rent per m².
type LevyParams struct {
	StartRate Decimal   `json:"start_rate"`
	StepBP    int64     `json:"step_bp"`
	Projects  []Project `json:"projects"`

	start int64 // StartRate in rateScale
}

// Project is one member project under the levy. BaseRents, if given, are
// the base rents of its years in order (the last one stays for later
// years); otherwise BaseRent is every year's. Start (YYYY-MM) is its first
// levy month, which its years count from.
type Project struct {
	Member    string  `json:"member"`
	Name      string  `json:"name,omitempty"`
	AreaM2    Decimal `json:"area_m2"`
	BaseRent  int64   `json:"base_rent"`
	BaseRents []int64 `json:"base_rents,omitempty"`
	Start     string  `json:"start"`

	area  int64 // AreaM2 in areaScale
	start int   // Start as a month number
}

func (p *LevyParams) check(v *errs.ValidationError) []memberRef {
	r, ok := parseDecimal(p.StartRate, 4)
	if !ok || r > maxRate*rateScale {
		v.Add("params.start_rate", "give the starting rate in minor units per m² a month, up to 4 decimals (10 is 0.10 EUR)")
	}
	p.start = r
	p.StartRate = Decimal(formatScaled(r, 4, 0))
	checkBP(v, "params.step_bp", p.StepBP)
	if len(p.Projects) == 0 || len(p.Projects) > maxProjects {
		v.Add("params.projects", fmt.Sprintf("name 1 to %d projects, each a member: {\"member\", \"area_m2\", \"base_rent\", \"start\"}", maxProjects))
	}
	var refs []memberRef
	seen := map[string]bool{}
	for i := range p.Projects {
		pr := &p.Projects[i]
		f := fmt.Sprintf("params.projects[%d]", i)
		switch {
		case !auth.ValidHandle(pr.Member):
			v.Add(f+".member", "name the project's member handle")
		case seen[pr.Member]:
			v.Add(f+".member", pr.Member+" is named twice")
		default:
			refs = append(refs, memberRef{f + ".member", pr.Member})
		}
		seen[pr.Member] = true
		if utf8.RuneCountInString(pr.Name) > 100 {
			v.Add(f+".name", "at most 100 characters")
		}
		a, ok := parseDecimal(pr.AreaM2, 2)
		if !ok || a <= 0 || a > maxAreaM2*areaScale {
			v.Add(f+".area_m2", "give the area in m², more than 0, up to 2 decimals")
		}
		pr.area, pr.AreaM2 = a, Decimal(formatScaled(a, 2, 0))
		if pr.BaseRent < 0 || pr.BaseRent > maxBaseRent {
			v.Add(f+".base_rent", "give the base rent in whole minor units per m² a month (650 is 6.50 EUR)")
		}
		if len(pr.BaseRents) > 100 {
			v.Add(f+".base_rents", "at most 100 years")
		}
		for j, b := range pr.BaseRents {
			if b < 0 || b > maxBaseRent {
				v.Add(fmt.Sprintf("%s.base_rents[%d]", f, j), "give the base rent in whole minor units per m² a month")
			}
		}
		m, err := parsePeriod(pr.Start)
		if err != nil {
			v.Add(f+".start", "give the first levy month as YYYY-MM")
		}
		pr.start = m
	}
	return refs
}

func (p *LevyParams) plans() []plan { return nil }

// baseRent is the project's base rent in its year k.
func (pr *Project) baseRent(k int) int64 {
	switch {
	case len(pr.BaseRents) == 0:
		return pr.BaseRent
	case k < len(pr.BaseRents):
		return pr.BaseRents[k]
	}
	return pr.BaseRents[len(pr.BaseRents)-1]
}

// rate returns the project's rate in its year k, in rateScale.
func (p *LevyParams) rate(pr *Project, k int) int64 {
	r := p.start
	for j := range k {
		r += pr.baseRent(j) * p.StepBP // base × step/10000 minor units = base × step in rateScale
	}
	return r
}

// charge is the month's levy of a project in its year k: area × rate,
// rounded half to even to the minor unit.
func (p *LevyParams) charge(pr *Project, k int) (int64, error) {
	return money.MulDivHalfEven(pr.area, p.rate(pr, k), areaScale*rateScale)
}

// year returns the project's year (0 the first) in month m, or -1 before
// its start.
func (pr *Project) year(m int) int {
	if m < pr.start {
		return -1
	}
	return (m - pr.start) / 12
}

// formatRate writes a rate in rateScale as minor units.
func formatRate(r int64) string { return formatScaled(r, 4, 0) }

// Suspension is a recorded decision that suspends (or resumes) a project's
// levy from a month on, until the next decision on the project.
type Suspension struct {
	ID       int64     `json:"id"`
	Project  string    `json:"project"`
	Action   string    `json:"action"`
	From     string    `json:"from"`
	Proposal int64     `json:"proposal"`
	Note     string    `json:"note,omitempty"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
}

// NewSuspension records a decision on a project's levy: Resume false
// suspends it from the month From (YYYY-MM) on, true resumes it.
type NewSuspension struct {
	Project  string `json:"project"`
	From     string `json:"from"`
	Proposal int64  `json:"proposal"`
	Resume   bool   `json:"resume,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Suspend records a decision that suspends or resumes a project's levy,
// with its audit event; secretaries and treasurers may. The decision must
// be a proposal of the co-op that closed and passed (another co-op's is
// errs.ErrNotFound), and the project one of the levy rule in force. Months
// already charged stay charged: a correction is a reversal in the ledger.
func (s *Service) Suspend(ctx context.Context, c *coop.Coop, a auth.Account, in NewSuspension) (*Suspension, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	if !m.Secretary && !m.Treasurer {
		return nil, fmt.Errorf("only a secretary or treasurer of %s records a levy decision: %w", c.Name, errs.ErrForbidden)
	}
	var v errs.ValidationError
	if _, err := parsePeriod(in.From); err != nil {
		v.Add("from", "give the first month it applies to as YYYY-MM")
	}
	if in.Proposal <= 0 {
		v.Add("proposal", "link the proposal that decided it")
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 500 {
		v.Add("note", "at most 500 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	out := &Suspension{Project: in.Project, Action: "suspend", From: in.From, Proposal: in.Proposal, Note: in.Note, By: m.Handle, At: now}
	if in.Resume {
		out.Action = "resume"
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := ruleAt(ctx, tx, c.ID, now)
		if err != nil {
			return err
		}
		levy, ok := levyOf(r)
		if !ok {
			return fmt.Errorf("%s charges no solidarity levy: %w", c.Name, errs.ErrConflict)
		}
		if levy.project(in.Project) == nil {
			return errs.Invalid("project", fmt.Sprintf("%q is not a project of the levy", in.Project))
		}
		if err := decided(ctx, tx, c, in.Proposal); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO pool_suspensions (coop_id, project, action, from_period, proposal_id, note, recorded_by, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, c.ID, out.Project, out.Action, out.From, out.Proposal, out.Note,
			out.By, out.At).Scan(&out.ID)
		if err != nil {
			return fmt.Errorf("pool: insert suspension: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "pool.levy_" + out.Action,
			Object: "member:" + out.Project, Payload: out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// decided checks that proposal id is c's and closed as passed (or, for a
// choice, decided).
func decided(ctx context.Context, q queryer, c *coop.Coop, id int64) error {
	var state string
	var result *string
	err := q.QueryRowContext(ctx, `SELECT state, result FROM proposals WHERE id = $1 AND coop_id = $2`, id, c.ID).Scan(&state, &result)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no proposal %d in %s: %w", id, c.Name, errs.ErrNotFound)
		}
		return fmt.Errorf("pool: load proposal: %w", err)
	}
	var res vote.Result
	if state != "closed" || result == nil || json.Unmarshal([]byte(*result), &res) != nil ||
		(res.Outcome != vote.Passed && res.Outcome != vote.Decided) {
		return errs.Invalid("proposal", fmt.Sprintf("proposal %d has not passed: only a passed decision suspends or resumes a levy", id))
	}
	return nil
}

// Suspensions lists c's levy decisions, oldest first.
func (s *Service) Suspensions(ctx context.Context, c *coop.Coop) ([]Suspension, error) {
	return suspensions(ctx, s.DB.Read(), c.ID)
}

func suspensions(ctx context.Context, q queryer, coopID int64) ([]Suspension, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, project, action, from_period, proposal_id, note, recorded_by, at
		FROM pool_suspensions WHERE coop_id = $1 ORDER BY id`, coopID)
	if err != nil {
		return nil, fmt.Errorf("pool: list suspensions: %w", err)
	}
	defer rows.Close()
	out := []Suspension{}
	for rows.Next() {
		var x Suspension
		if err := rows.Scan(&x.ID, &x.Project, &x.Action, &x.From, &x.Proposal, &x.Note, &x.By, &x.At); err != nil {
			return nil, fmt.Errorf("pool: scan suspension: %w", err)
		}
		x.At = x.At.UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}

// suspendedIn returns the decision that suspends project in month m (a
// period key), or nil: the latest decision on the project from a month not
// after m decides, later records first among decisions of the same month.
func suspendedIn(list []Suspension, project, m string) *Suspension {
	var last *Suspension
	for i := range list {
		x := &list[i]
		if x.Project != project || x.From > m {
			continue
		}
		if last == nil || x.From > last.From || (x.From == last.From && x.ID > last.ID) {
			last = x
		}
	}
	if last != nil && last.Action == "suspend" {
		return last
	}
	return nil
}

func levyOf(r *Rule) (*LevyParams, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.Params.(*LevyParams)
	return p, ok
}

func (p *LevyParams) project(member string) *Project {
	for i := range p.Projects {
		if p.Projects[i].Member == member {
			return &p.Projects[i]
		}
	}
	return nil
}
