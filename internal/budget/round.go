// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Policies for under-funded buckets at close (RULES.md 3.3).
const (
	Refund        = "refund"          // every contribution reversed back to its allowance
	Keep          = "keep"            // the bucket keeps what it raised
	ReclaimToPool = "reclaim_to_pool" // what it raised goes to coop:pool
)

// Policies for unspent allowances at close.
const (
	ReturnToPool = "return_to_pool" // to coop:pool
	RollOver     = "roll_over"      // to the member's allowance in the next round of the unit
)

// Allowance rules: how D is shared among the members.
const (
	Proportional = "proportional" // to her transfers to coop:pool in the period (Enspiral)
	Equal        = "equal"
	ByClass      = "by_class" // by class weights, equally inside each class
)

// Round states.
const (
	RoundOpen   = "open"
	RoundClosed = "closed"
)

// Expense is one core expense of a round, approved by a decision: a
// closed proposal that passed.
type Expense struct {
	Title      string `json:"title"`
	Amount     int64  `json:"amount"`
	ProposalID int64  `json:"proposal_id"`
}

// Round is a budget round. Money in: Contributions (C) of the period, less
// CoreExpenses (E), is the Discretionary budget D = C − E shared as
// allowances (0 when E > C, the Shortfall then taken from coop:reserves
// into coop:pool); RolledIn is what earlier roll_over rounds carried
// over. Amounts are minor units of Unit.
type Round struct {
	ID            int64      `json:"id"`
	CoopID        int64      `json:"-"`
	Coop          string     `json:"coop"`
	Title         string     `json:"title"`
	Unit          string     `json:"unit"`
	BucketsFrom   time.Time  `json:"buckets_from"`
	BucketsTo     time.Time  `json:"buckets_to"`
	FundingFrom   time.Time  `json:"funding_from"`
	FundingTo     time.Time  `json:"funding_to"`
	MemberCap     int64      `json:"member_cap"`
	Underfunded   string     `json:"underfunded"`
	Unspent       string     `json:"unspent"`
	Allowance     string     `json:"allowance"`
	PeriodFrom    *time.Time `json:"period_from,omitempty"`
	PeriodTo      *time.Time `json:"period_to,omitempty"`
	Contributions int64      `json:"contributions"`
	Expenses      []Expense  `json:"expenses"`
	CoreExpenses  int64      `json:"core_expenses"`
	Discretionary int64      `json:"discretionary"`
	Shortfall     int64      `json:"shortfall"`
	// Members is how many members got an allowance pot.
	Members    int    `json:"members"`
	RolledIn   int64  `json:"rolled_in"`
	RolledInto int64  `json:"rolled_into,omitempty"`
	State      string `json:"state"`
	CreatedBy  string `json:"created_by"`
	// CreationOpen and FundingOpen say whether the windows are open now.
	CreationOpen bool         `json:"creation_open"`
	FundingOpen  bool         `json:"funding_open"`
	CreatedAt    time.Time    `json:"created_at"`
	ClosedAt     *time.Time   `json:"closed_at,omitempty"`
	Close        *CloseTotals `json:"close,omitempty"`
}

// CloseTotals is what a round's close moved: contributions refunded to
// allowances, money kept by or reclaimed from under-funded buckets, and
// unspent allowances returned to coop:pool or left for the next round.
type CloseTotals struct {
	Refunded   int64 `json:"refunded"`
	Kept       int64 `json:"kept"`
	Reclaimed  int64 `json:"reclaimed"`
	Returned   int64 `json:"returned"`
	RolledOver int64 `json:"rolled_over"`
}

// Object names the round in audit events and ledger references.
func (r *Round) Object() string { return fmt.Sprintf("round:%d", r.ID) }

func (r *Round) setWindows(now time.Time) {
	r.CreationOpen = r.State == RoundOpen && !now.Before(r.BucketsFrom) && now.Before(r.BucketsTo)
	r.FundingOpen = r.State == RoundOpen && !now.Before(r.FundingFrom) && now.Before(r.FundingTo)
}

// NewRound is a round as a treasurer or secretary sets it up. Unit
// defaults to the co-op's currency, the policies to refund and
// return_to_pool, the rule to equal. Contributions (C) defaults to
// coop:pool's available balance; the period is needed for proportional.
type NewRound struct {
	Title         string     `json:"title"`
	Unit          string     `json:"unit"`
	BucketsFrom   time.Time  `json:"buckets_from"`
	BucketsTo     time.Time  `json:"buckets_to"`
	FundingFrom   time.Time  `json:"funding_from"`
	FundingTo     time.Time  `json:"funding_to"`
	MemberCap     int64      `json:"member_cap"`
	Underfunded   string     `json:"underfunded"`
	Unspent       string     `json:"unspent"`
	Allowance     string     `json:"allowance"`
	PeriodFrom    *time.Time `json:"period_from"`
	PeriodTo      *time.Time `json:"period_to"`
	Contributions *int64     `json:"contributions"`
	Expenses      []Expense  `json:"expenses"`
}

// MaxExpenses is the most core expenses a round lists.
const MaxExpenses = 100

func (n *NewRound) validate(c *coop.Coop, now time.Time) (*Round, error) {
	var v errs.ValidationError
	r := &Round{CoopID: c.ID, Coop: c.Slug, Title: strings.TrimSpace(n.Title), Unit: n.Unit, MemberCap: n.MemberCap,
		Underfunded: n.Underfunded, Unspent: n.Unspent, Allowance: n.Allowance, State: RoundOpen, CreatedAt: now}
	if !textLen(n.Title, 200) {
		v.Add("title", "give a title of 1 to 200 characters")
	}
	if r.Unit == "" {
		r.Unit = c.Currency
	}
	if !money.ValidUnit(r.Unit) {
		v.Add("unit", "give a unit code such as EUR or HOURS")
	}
	times := []struct {
		field string
		t     time.Time
		into  *time.Time
	}{{"buckets_from", n.BucketsFrom, &r.BucketsFrom}, {"buckets_to", n.BucketsTo, &r.BucketsTo},
		{"funding_from", n.FundingFrom, &r.FundingFrom}, {"funding_to", n.FundingTo, &r.FundingTo}}
	for _, w := range times {
		if w.t.IsZero() {
			v.Add(w.field, "give a date and time")
		}
		*w.into = w.t.UTC().Truncate(time.Microsecond)
	}
	if !r.BucketsFrom.IsZero() && !r.BucketsTo.IsZero() && !r.BucketsFrom.Before(r.BucketsTo) {
		v.Add("buckets_to", "bucket creation must end after it starts")
	}
	if !r.FundingFrom.IsZero() && !r.FundingTo.IsZero() && !r.FundingFrom.Before(r.FundingTo) {
		v.Add("funding_to", "funding must end after it starts")
	}
	if !r.FundingTo.IsZero() && !r.FundingTo.After(now) {
		v.Add("funding_to", "funding must end in the future")
	}
	if !r.BucketsFrom.IsZero() && !r.FundingTo.IsZero() && !r.BucketsFrom.Before(r.FundingTo) {
		v.Add("buckets_from", "bucket creation must start before funding ends")
	}
	if r.MemberCap < 0 || r.MemberCap > money.MaxAmount {
		v.Add("member_cap", "give the most one member may give one bucket, in minor units (0: no cap)")
	}
	if r.Underfunded == "" {
		r.Underfunded = Refund
	}
	if r.Underfunded != Refund && r.Underfunded != Keep && r.Underfunded != ReclaimToPool {
		v.Add("underfunded", "refund, keep or reclaim_to_pool")
	}
	if r.Unspent == "" {
		r.Unspent = ReturnToPool
	}
	if r.Unspent != ReturnToPool && r.Unspent != RollOver {
		v.Add("unspent", "return_to_pool or roll_over")
	}
	if r.Allowance == "" {
		r.Allowance = Equal
	}
	if r.Allowance != Proportional && r.Allowance != Equal && r.Allowance != ByClass {
		v.Add("allowance", "proportional, equal or by_class")
	}
	switch {
	case (n.PeriodFrom == nil) != (n.PeriodTo == nil):
		v.Add("period_to", "give the period's start and end, or neither")
	case n.PeriodFrom != nil:
		from, to := n.PeriodFrom.UTC().Truncate(time.Microsecond), n.PeriodTo.UTC().Truncate(time.Microsecond)
		r.PeriodFrom, r.PeriodTo = &from, &to
		if !from.Before(to) {
			v.Add("period_to", "the period must end after it starts")
		} else if to.After(now) {
			v.Add("period_to", "the period must have ended: allowances are computed now")
		}
	case r.Allowance == Proportional:
		v.Add("period_from", "proportional allowances need the period whose contributions count")
	}
	if n.Contributions != nil && (*n.Contributions < 0 || *n.Contributions > money.MaxAmount) {
		v.Add("contributions", "give the period's contributions in minor units, 0 or more")
	}
	if len(n.Expenses) > MaxExpenses {
		v.Add("expenses", fmt.Sprintf("at most %d core expenses", MaxExpenses))
	}
	for i, e := range n.Expenses {
		f := fmt.Sprintf("expenses[%d].", i)
		if !textLen(e.Title, 200) {
			v.Add(f+"title", "give a title of 1 to 200 characters")
		}
		if money.CheckAmount(e.Amount) != nil {
			v.Add(f+"amount", "give a positive amount in minor units")
		}
		if e.ProposalID <= 0 {
			v.Add(f+"proposal_id", "name the proposal that approved it")
		}
		r.Expenses = append(r.Expenses, Expense{Title: strings.TrimSpace(e.Title), Amount: e.Amount, ProposalID: e.ProposalID})
		r.CoreExpenses += e.Amount
	}
	if r.CoreExpenses > money.MaxAmount {
		v.Add("expenses", "the core expenses add up to too much")
	}
	if r.Expenses == nil {
		r.Expenses = []Expense{}
	}
	return r, v.Err()
}

// checkDecision makes sure proposal id of c is closed and passed, which is
// what approves a core expense. It reads the proposal in tx, as the
// decision stands now.
func checkDecision(ctx context.Context, tx *store.Tx, c *coop.Coop, field string, id int64) error {
	var state string
	var result sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT state, result FROM proposals WHERE id = $1 AND coop_id = $2`, id, c.ID).Scan(&state, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Invalid(field, fmt.Sprintf("%s has no proposal %d", c.Name, id))
	}
	if err != nil {
		return fmt.Errorf("budget: load proposal %d: %w", id, err)
	}
	var res vote.Result
	if result.Valid {
		if err := json.Unmarshal([]byte(result.String), &res); err != nil {
			return fmt.Errorf("budget: read result of proposal %d: %w", id, err)
		}
	}
	if state != "closed" || res.Outcome != vote.Passed {
		return errs.Invalid(field, fmt.Sprintf("proposal %d has not passed: a core expense needs a decision that closed and passed", id))
	}
	return nil
}

// allowanceRow is one member's allowance as computed at creation.
type allowanceRow struct {
	member   coop.Member
	basis    int64
	granted  int64
	rolledIn int64
	pot      int64
}

// rollover is an unspent allowance of an earlier roll_over round.
type rollover struct {
	pot, round, member int64
	amount             int64
}

// CreateRound sets up a round for a treasurer or secretary, in one
// transaction with its audit event: it records the round and its core
// expenses (each approved by a closed, passed proposal), takes any
// shortfall from coop:reserves, opens an allowance pot per member, posts
// every allowance from coop:pool and every rolled-over allowance as one
// atomic set of transfers whose ids derive from the round id, and marks
// the earlier roll_over rounds as carried. It returns a
// *errs.ValidationError for bad fields and ledger.ErrInsufficient when
// coop:pool or coop:reserves cannot pay.
func (s *Service) CreateRound(ctx context.Context, c *coop.Coop, a auth.Account, n NewRound) (*Round, error) {
	m, err := s.requireManager(ctx, c, a)
	if err != nil {
		return nil, err
	}
	now := s.now()
	r, err := n.validate(c, now)
	if err != nil {
		return nil, err
	}
	r.CreatedBy = m.Handle
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		for i, e := range r.Expenses {
			if err := checkDecision(ctx, tx, c, fmt.Sprintf("expenses[%d].proposal_id", i), e.ProposalID); err != nil {
				return err
			}
		}
		if n.Contributions != nil {
			r.Contributions = *n.Contributions
		} else if r.Contributions, err = available(ctx, tx, c.ID, "coop:pool", r.Unit); err != nil {
			return err
		}
		members, err := activeMembers(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		r.Discretionary = max(0, r.Contributions-r.CoreExpenses)
		r.Shortfall = max(0, r.CoreExpenses-r.Contributions)
		r.Members = len(members)
		if err := s.insertRound(ctx, tx, r, m.ID); err != nil {
			return err
		}
		rows, err := s.allowances(ctx, tx, c, r, members)
		if err != nil {
			return err
		}
		rolls, err := claimRollovers(ctx, tx, c, r)
		if err != nil {
			return err
		}
		byMember := make(map[int64]*allowanceRow, len(rows))
		for i := range rows {
			byMember[rows[i].member.ID] = &rows[i]
		}
		for _, ro := range rolls {
			if row := byMember[ro.member]; row != nil {
				row.rolledIn += ro.amount
				r.RolledIn += ro.amount
			}
		}
		if err := insertPots(ctx, tx, r, rows); err != nil {
			return err
		}
		reqs := make([]ledger.Request, 0, len(rows)+len(rolls)+1)
		if r.Shortfall > 0 {
			reqs = append(reqs, ledger.Request{ID: r.Object() + ":shortfall", Debit: "coop:reserves", Credit: "coop:pool",
				Amount: r.Shortfall, Unit: r.Unit, Kind: "budget_shortfall", Ref: r.Object()})
		}
		for _, row := range rows {
			if row.granted > 0 {
				reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("%s:allowance:%d", r.Object(), row.member.ID), Debit: "coop:pool",
					Credit: potOwner(row.pot), Amount: row.granted, Unit: r.Unit, Kind: "allowance", Ref: r.Object()})
			}
		}
		for _, ro := range rolls {
			if row := byMember[ro.member]; row != nil {
				reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("%s:rollover:%d", r.Object(), ro.pot), Debit: potOwner(ro.pot),
					Credit: potOwner(row.pot), Amount: ro.amount, Unit: r.Unit, Kind: "allowance_rollover", Ref: r.Object()})
			} else {
				// She is no longer a member: her unspent allowance goes
				// back to the pool, as return_to_pool would have done.
				reqs = append(reqs, ledger.Request{ID: fmt.Sprintf("round:%d:return:%d", ro.round, ro.member), Debit: potOwner(ro.pot),
					Credit: "coop:pool", Amount: ro.amount, Unit: r.Unit, Kind: "allowance_return", Ref: fmt.Sprintf("round:%d", ro.round)})
			}
		}
		known := make(map[int64]bool, len(rows))
		for _, row := range rows {
			known[row.pot] = true
		}
		if err := s.apply(withNewPots(ctx, c.ID, known), tx, c, a.Actor(), reqs); err != nil {
			if errors.Is(err, ledger.ErrInsufficient) {
				return fmt.Errorf("the books cannot pay this round (%s): %w", strings.TrimSuffix(err.Error(), ": "+ledger.ErrInsufficient.Error()), ledger.ErrInsufficient)
			}
			return err
		}
		if r.RolledIn > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE budget_rounds SET rolled_in = $2 WHERE id = $1`, r.ID, r.RolledIn); err != nil {
				return fmt.Errorf("budget: record roll-over: %w", err)
			}
		}
		r.setWindows(now)
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "budget.round_created",
			Object: r.Object(), Payload: map[string]any{"round": r, "allowances": len(rows), "rolled_over_from": rolledFrom(rolls)}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// activeMembers lists c's members in good standing by id — the stated,
// stable order in which the largest remainder's ties are broken
// (RULES.md) — inside tx, so the allowances go to the members as they are
// when the round begins. Only the fields a split needs are read: a round
// of 100,000 members spends a good part of its time here otherwise.
func activeMembers(ctx context.Context, tx *store.Tx, coopID int64) ([]coop.Member, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.id, a.handle, m.class_id FROM members m JOIN accounts a ON a.id = m.account_id
		WHERE m.coop_id = $1 AND m.state = 'member' ORDER BY m.id`, coopID)
	if err != nil {
		return nil, fmt.Errorf("budget: list members: %w", err)
	}
	defer rows.Close()
	var out []coop.Member
	for rows.Next() {
		m := coop.Member{CoopID: coopID, State: coop.StateMember}
		if err := rows.Scan(&m.ID, &m.Handle, &m.ClassID); err != nil {
			return nil, fmt.Errorf("budget: scan member: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func rolledFrom(rolls []rollover) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, ro := range rolls {
		if !seen[ro.round] {
			seen[ro.round] = true
			out = append(out, ro.round)
		}
	}
	return out
}

func (s *Service) insertRound(ctx context.Context, tx *store.Tx, r *Round, by int64) error {
	const q = `INSERT INTO budget_rounds (coop_id, title, unit, buckets_from, buckets_to, funding_from, funding_to, member_cap,
			underfunded, unspent, allowance_rule, period_from, period_to, contributions, core_expenses, discretionary, shortfall,
			members, state, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`
	err := tx.QueryRowContext(ctx, q, r.CoopID, r.Title, r.Unit, r.BucketsFrom, r.BucketsTo, r.FundingFrom, r.FundingTo, r.MemberCap,
		r.Underfunded, r.Unspent, r.Allowance, r.PeriodFrom, r.PeriodTo, r.Contributions, r.CoreExpenses, r.Discretionary, r.Shortfall,
		r.Members, r.State, by, r.CreatedAt).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("budget: create round: %w", err)
	}
	for i, e := range r.Expenses {
		if _, err := tx.ExecContext(ctx, `INSERT INTO budget_expenses (round_id, position, title, amount, proposal_id) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, i, e.Title, e.Amount, e.ProposalID); err != nil {
			return fmt.Errorf("budget: add core expense: %w", err)
		}
	}
	return nil
}

// allowances shares r's discretionary budget among members (sorted by id)
// by r's rule, largest remainder at each level.
func (s *Service) allowances(ctx context.Context, tx *store.Tx, c *coop.Coop, r *Round, members []coop.Member) ([]allowanceRow, error) {
	rows := make([]allowanceRow, len(members))
	for i, m := range members {
		rows[i] = allowanceRow{member: m, basis: 1}
	}
	if len(members) == 0 || r.Discretionary == 0 {
		if r.Allowance != Equal {
			for i := range rows {
				rows[i].basis = 0
			}
		}
		return rows, nil
	}
	switch r.Allowance {
	case Equal:
		weights := make([]int64, len(rows))
		for i := range weights {
			weights[i] = 1
		}
		shares, err := money.Split(r.Discretionary, weights)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			rows[i].granted = shares[i]
		}
	case Proportional:
		given, err := contributionsInPeriod(ctx, tx, c.ID, r.Unit, *r.PeriodFrom, *r.PeriodTo)
		if err != nil {
			return nil, err
		}
		weights := make([]int64, len(rows))
		var any bool
		for i := range rows {
			w := max(0, given[rows[i].member.Handle])
			rows[i].basis, weights[i] = w, w
			any = any || w > 0
		}
		if !any {
			return nil, errs.Invalid("allowance", "no member contributed to coop:pool in the period, by transfer or income: choose equal or by_class, or another period")
		}
		shares, err := money.Split(r.Discretionary, weights)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			rows[i].granted = shares[i]
		}
	case ByClass:
		// The classes with members and a weight share D by weight; each
		// class's share is split equally among its members.
		byClass := map[int64][]int{}
		for i, row := range rows {
			byClass[row.member.ClassID] = append(byClass[row.member.ClassID], i)
		}
		var classes []coop.Class
		var weights []int64
		for _, cl := range c.Classes {
			if cl.Weight > 0 && len(byClass[cl.ID]) > 0 {
				classes = append(classes, cl)
				weights = append(weights, cl.Weight)
			}
		}
		for i := range rows {
			rows[i].basis = 0
		}
		if len(classes) == 0 {
			return nil, errs.Invalid("allowance", "no class with a weight has members: choose equal or proportional")
		}
		classShares, err := money.Split(r.Discretionary, weights)
		if err != nil {
			return nil, err
		}
		for k, cl := range classes {
			idx := byClass[cl.ID]
			ones := make([]int64, len(idx))
			for j := range ones {
				ones[j] = 1
			}
			shares, err := money.Split(classShares[k], ones)
			if err != nil {
				return nil, err
			}
			for j, i := range idx {
				rows[i].granted, rows[i].basis = shares[j], cl.Weight
			}
		}
	}
	return rows, nil
}

// contributionsInPeriod returns, by member handle, her contribution to
// coop:pool in unit within [from, to), the weight of a proportional
// allowance (RULES.md 3.3, Enspiral's rule, C being the pool of 3.2). A
// member contributes to the pool in two ways: she transfers to it herself,
// or the pooling rule (3.2) sends it part of an income recorded for her —
// the common case, 20% of her invoice to the collective under the enspiral
// preset. Both count, less the reversals in the period of either; an
// income's part is found by the ref "income:<id>" that pool gives each of
// its postings and that a reversal keeps.
func contributionsInPeriod(ctx context.Context, tx *store.Tx, coopID int64, unit string, from, to time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	var pool int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM ledger_accounts WHERE coop_id = $1 AND owner = 'coop:pool' AND unit = $2`,
		coopID, unit).Scan(&pool)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("budget: find coop:pool: %w", err)
	}
	// Into the pool: a transfer or a posted pending one; out of it: a
	// reversal, the only way a contribution is taken back. The other side
	// names whose it is: a member, or the outside world paying an income
	// recorded for one ('income:' is seven characters, so substr(ref, 8)
	// is the income's id).
	rows, err := tx.QueryContext(ctx, `SELECT owner, SUM(amount) FROM (
			SELECT CASE WHEN a.owner LIKE 'member:%' THEN a.owner
					WHEN a.owner = 'external' AND i.member <> '' THEN 'member:' || i.member END AS owner,
				CASE WHEN t.credit_id = $1 THEN t.amount ELSE -t.amount END AS amount
			FROM transfers t JOIN ledger_accounts a ON a.id = CASE WHEN t.credit_id = $1 THEN t.debit_id ELSE t.credit_id END
			LEFT JOIN pool_incomes i ON t.ref LIKE 'income:%' AND i.coop_id = t.coop_id AND i.client_id = substr(t.ref, 8)
			WHERE ((t.credit_id = $1 AND t.action IN ('transfer', 'post')) OR (t.debit_id = $1 AND t.action = 'reverse'))
				AND t.at >= $2 AND t.at < $3
		) c WHERE owner IS NOT NULL GROUP BY owner`, pool, from, to)
	if err != nil {
		return nil, fmt.Errorf("budget: contributions in the period: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var sum int64
		if err := rows.Scan(&owner, &sum); err != nil {
			return nil, fmt.Errorf("budget: scan contribution: %w", err)
		}
		out[strings.TrimPrefix(owner, "member:")] = sum
	}
	return out, rows.Err()
}

// claimRollovers marks every closed roll_over round of r's co-op and unit
// not yet carried as carried into r, and returns the unspent allowances
// they left, largest pots first by id.
func claimRollovers(ctx context.Context, tx *store.Tx, c *coop.Coop, r *Round) ([]rollover, error) {
	_, err := tx.ExecContext(ctx, `UPDATE budget_rounds SET rolled_into = $1 WHERE coop_id = $2 AND unit = $3 AND state = 'closed'
		AND unspent = 'roll_over' AND rolled_into IS NULL AND id <> $1`, r.ID, c.ID, r.Unit)
	if err != nil {
		return nil, fmt.Errorf("budget: claim roll-overs: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT p.id, p.round_id, p.member_id, a.credits_posted - a.debits_posted - a.debits_pending
		FROM budget_rounds r JOIN budget_pots p ON p.round_id = r.id
		JOIN ledger_accounts a ON a.coop_id = p.coop_id AND a.owner = 'bucket:' || p.id AND a.unit = r.unit
		WHERE r.rolled_into = $1 AND p.kind = 'allowance' ORDER BY p.id`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("budget: unspent allowances to roll over: %w", err)
	}
	defer rows.Close()
	var out []rollover
	for rows.Next() {
		var ro rollover
		if err := rows.Scan(&ro.pot, &ro.round, &ro.member, &ro.amount); err != nil {
			return nil, fmt.Errorf("budget: scan roll-over: %w", err)
		}
		if ro.amount > 0 {
			out = append(out, ro)
		}
	}
	return out, rows.Err()
}

// potRows is how many pots one INSERT writes on SQLite, which looks each
// "$n" parameter up by a linear search of the statement's parameters, when
// preparing and again when binding: its statements stay near a hundred
// parameters and are prepared once, as the ledger's are.
const potRows = 20

// insertPots opens an allowance pot per row and sets row.pot.
func insertPots(ctx context.Context, tx *store.Tx, r *Round, rows []allowanceRow) error {
	if tx.Engine == store.Postgres {
		// One statement of four arrays: PostgreSQL pays a round trip per
		// statement, and a 100,000-member round would need a hundred
		// long multi-row ones.
		members, bases, granted, rolled := make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
		for i, row := range rows {
			members[i], bases[i], granted[i], rolled[i] = row.member.ID, row.basis, row.granted, row.rolledIn
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO budget_pots (coop_id, round_id, kind, member_id, basis, granted, rolled_in)
			SELECT $1, $2, 'allowance', m, b, g, r FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS t (m, b, g, r)`,
			r.CoopID, r.ID, members, bases, granted, rolled)
		if err != nil {
			return fmt.Errorf("budget: open allowance pots: %w", err)
		}
	} else if err := insertPotsSQLite(ctx, tx, r, rows); err != nil {
		return err
	}
	got, err := tx.QueryContext(ctx, `SELECT id, member_id FROM budget_pots WHERE round_id = $1 AND kind = 'allowance'`, r.ID)
	if err != nil {
		return fmt.Errorf("budget: read allowance pots: %w", err)
	}
	defer got.Close()
	pots := make(map[int64]int64, len(rows))
	for got.Next() {
		var pot, member int64
		if err := got.Scan(&pot, &member); err != nil {
			return fmt.Errorf("budget: scan allowance pot: %w", err)
		}
		pots[member] = pot
	}
	if err := got.Err(); err != nil {
		return err
	}
	for i := range rows {
		rows[i].pot = pots[rows[i].member.ID]
	}
	return nil
}

func insertPotsSQLite(ctx context.Context, tx *store.Tx, r *Round, rows []allowanceRow) error {
	const cols = 4
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, 2+cols*potRows)
	for start := 0; start < len(rows); start += potRows {
		part := rows[start:min(start+potRows, len(rows))]
		st := stmts[len(part)]
		if st == nil {
			var b strings.Builder
			b.WriteString(`INSERT INTO budget_pots (coop_id, round_id, kind, member_id, basis, granted, rolled_in) VALUES `)
			for i := range part {
				if i > 0 {
					b.WriteString(", ")
				}
				k := 2 + cols*i
				fmt.Fprintf(&b, "($1, $2, 'allowance', $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4)
			}
			var err error
			if st, err = tx.PrepareContext(ctx, b.String()); err != nil {
				return fmt.Errorf("budget: open allowance pots: %w", err)
			}
			stmts[len(part)] = st
		}
		args = append(args[:0], r.CoopID, r.ID)
		for _, row := range part {
			args = append(args, row.member.ID, row.basis, row.granted, row.rolledIn)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("budget: open allowance pots: %w", err)
		}
	}
	return nil
}

const selectRound = `SELECT r.id, r.coop_id, c.slug, r.title, r.unit, r.buckets_from, r.buckets_to, r.funding_from, r.funding_to,
		r.member_cap, r.underfunded, r.unspent, r.allowance_rule, r.period_from, r.period_to, r.contributions, r.core_expenses,
		r.discretionary, r.shortfall, r.members, r.rolled_in, COALESCE(r.rolled_into, 0), r.state, a.handle, r.created_at,
		r.closed_at, r.refunded, r.kept, r.reclaimed, r.returned, r.rolled_over
	FROM budget_rounds r JOIN coops c ON c.id = r.coop_id JOIN members m ON m.id = r.created_by JOIN accounts a ON a.id = m.account_id`

func scanRound(row scanner) (*Round, error) {
	var r Round
	var pf, pt, closed sql.NullTime
	var t CloseTotals
	err := row.Scan(&r.ID, &r.CoopID, &r.Coop, &r.Title, &r.Unit, &r.BucketsFrom, &r.BucketsTo, &r.FundingFrom, &r.FundingTo,
		&r.MemberCap, &r.Underfunded, &r.Unspent, &r.Allowance, &pf, &pt, &r.Contributions, &r.CoreExpenses,
		&r.Discretionary, &r.Shortfall, &r.Members, &r.RolledIn, &r.RolledInto, &r.State, &r.CreatedBy, &r.CreatedAt,
		&closed, &t.Refunded, &t.Kept, &t.Reclaimed, &t.Returned, &t.RolledOver)
	if err != nil {
		return nil, err
	}
	r.BucketsFrom, r.BucketsTo = r.BucketsFrom.UTC(), r.BucketsTo.UTC()
	r.FundingFrom, r.FundingTo, r.CreatedAt = r.FundingFrom.UTC(), r.FundingTo.UTC(), r.CreatedAt.UTC()
	r.PeriodFrom, r.PeriodTo, r.ClosedAt = utcp(pf), utcp(pt), utcp(closed)
	if r.State == RoundClosed {
		r.Close = &t
	}
	r.Expenses = []Expense{}
	return &r, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// loadRound returns round id of c with its expenses; lock is appended to
// the query (a locking clause inside a transaction, or "").
func (s *Service) loadRound(ctx context.Context, q queryer, c *coop.Coop, id int64, lock string) (*Round, error) {
	r, err := scanRound(q.QueryRowContext(ctx, selectRound+` WHERE r.id = $1 AND r.coop_id = $2`+lock+ofRounds(lock), id, c.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s has no budget round %d: %w", c.Name, id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("budget: load round %d: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT title, amount, proposal_id FROM budget_expenses WHERE round_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("budget: load core expenses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Expense
		if err := rows.Scan(&e.Title, &e.Amount, &e.ProposalID); err != nil {
			return nil, fmt.Errorf("budget: scan core expense: %w", err)
		}
		r.Expenses = append(r.Expenses, e)
	}
	r.setWindows(s.now())
	return r, rows.Err()
}

// ofRounds narrows a PostgreSQL row lock to the round's own row: the
// query joins the co-op and its creator, which must stay unlocked.
func ofRounds(lock string) string {
	if lock == "" {
		return ""
	}
	return " OF r"
}

// Round returns round id of c to a member.
func (s *Service) Round(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Round, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	return s.loadRound(ctx, s.DB.Read(), c, id, "")
}

// Rounds lists c's rounds, newest first, to a member.
func (s *Service) Rounds(ctx context.Context, c *coop.Coop, a auth.Account) ([]*Round, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, selectRound+` WHERE r.coop_id = $1 ORDER BY r.id DESC LIMIT 500`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("budget: list rounds: %w", err)
	}
	defer rows.Close()
	out := []*Round{}
	now := s.now()
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, fmt.Errorf("budget: scan round: %w", err)
		}
		r.setWindows(now)
		out = append(out, r)
	}
	return out, rows.Err()
}
