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
	"slices"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
	"opencoop/internal/store"
)

// The periodic jobs, each run once per co-op and month.
const (
	// JobMarketplace shares a month's users' pool among its traders.
	JobMarketplace = "marketplace"
	// JobLevy charges the month's solidarity levy.
	JobLevy = "levy"
)

// Statuses of a run.
const (
	StatusCreated = "created" // run now
	StatusDone    = "done"    // run before; this is that run
	StatusSkipped = "skipped" // nothing to run; Reason says why
)

// Period is one run of a job for a month (period key YYYY-MM, UTC).
type Period struct {
	Job      string           `json:"job"`
	Period   string           `json:"period"`
	RuleID   int64            `json:"rule_id,omitempty"`
	Totals   map[string]int64 `json:"totals"`
	Lines    []Line           `json:"lines"`
	Postings []Posting        `json:"postings"`
	RanBy    string           `json:"ran_by,omitempty"`
	At       *time.Time       `json:"at,omitempty"`
	Status   string           `json:"status"`
	Reason   string           `json:"reason,omitempty"`
}

// Line is one member's part of a run: a trader's traded value and share,
// or a project's area, year (1 the first), rate (minor units per m² a
// month, exact) and charge; Note says why nothing was charged.
type Line struct {
	Member string  `json:"member"`
	Unit   string  `json:"unit"`
	Traded int64   `json:"traded,omitempty"`
	AreaM2 Decimal `json:"area_m2,omitempty"`
	Year   int     `json:"year,omitempty"`
	Rate   string  `json:"rate,omitempty"`
	Amount int64   `json:"amount"`
	Note   string  `json:"note,omitempty"`
}

var periodRE = regexp.MustCompile(`^([0-9]{4})-(0[1-9]|1[0-2])$`)

// parsePeriod turns YYYY-MM into a month number (year × 12 + month − 1).
func parsePeriod(p string) (int, error) {
	m := periodRE.FindStringSubmatch(p)
	if m == nil {
		return 0, fmt.Errorf("pool: bad period %q", p)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	return y*12 + mo - 1, nil
}

func periodKey(m int) string { return fmt.Sprintf("%04d-%02d", m/12, m%12+1) }

func monthStart(m int) time.Time { return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC) }

func monthOf(t time.Time) int { t = t.UTC(); return t.Year()*12 + int(t.Month()) - 1 }

// RunPeriod runs the month's jobs now for a treasurer: job names one
// (marketplace or levy), "" runs both. A month runs at most once per job;
// asking again returns the first run (status done). A job with nothing to
// do is skipped with the reason: a marketplace month runs once it has
// ended, a levy month from its first day, by the rule in force then.
func (s *Service) RunPeriod(ctx context.Context, c *coop.Coop, a auth.Account, period, job string) ([]Period, error) {
	m, err := s.Coops.RequireTreasurer(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	var v errs.ValidationError
	month, err := parsePeriod(period)
	if err != nil {
		v.Add("period", "give a month as YYYY-MM")
	} else if month > monthOf(s.now()) {
		v.Add("period", period+" has not begun")
	}
	jobs := []string{JobMarketplace, JobLevy}
	switch job {
	case "":
	case JobMarketplace, JobLevy:
		jobs = []string{job}
	default:
		v.Add("job", "marketplace or levy (or leave it out for both)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := []Period{}
	for _, j := range jobs {
		p, err := s.run(ctx, c, a.Actor(), m.Handle, j, month)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// run runs job for month once, by by. Two runs at once, here or on
// another instance, both end with the one row the unique key allows and
// the transfers whose ids the month fixes: the loser reports the
// winner's run.
func (s *Service) run(ctx context.Context, c *coop.Coop, actor, by, job string, month int) (*Period, error) {
	if p, err := periodRun(ctx, s.DB.Read(), c.ID, job, month); err == nil || !errors.Is(err, errs.ErrNotFound) {
		return p, err
	}
	var out *Period
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		switch job {
		case JobMarketplace:
			out, err = s.distribute(ctx, tx, c, month)
		default:
			out, err = s.levy(ctx, tx, c, month)
		}
		if err != nil || out.Status == StatusSkipped {
			return err
		}
		return s.save(ctx, tx, c, actor, by, out)
	})
	if err != nil {
		if p, lerr := periodRun(ctx, s.DB.Read(), c.ID, job, month); lerr == nil {
			return p, nil
		}
		return nil, err
	}
	return out, nil
}

// save posts a run's transfers as one batch and stores the run with its
// audit event.
func (s *Service) save(ctx context.Context, tx *store.Tx, c *coop.Coop, actor, by string, p *Period) error {
	now := s.now()
	p.Status, p.RanBy, p.At = StatusCreated, by, &now
	ref := "pool-period:" + p.Job + ":" + p.Period
	if len(p.Postings) > 0 {
		reqs := make([]ledger.Request, len(p.Postings))
		for i, x := range p.Postings {
			reqs[i] = ledger.Request{ID: x.ID, Debit: x.Debit, Credit: x.Credit, Amount: x.Amount, Unit: x.Unit, Kind: x.Kind, Ref: ref}
		}
		if _, _, err := s.Ledger.Apply(ctx, tx, c, actor, reqs); err != nil {
			return err
		}
	}
	detail, err := json.Marshal(periodDetail{Totals: p.Totals, Lines: p.Lines, Postings: p.Postings})
	if err != nil {
		return fmt.Errorf("pool: encode period: %w", err)
	}
	var rule sql.NullInt64
	if p.RuleID != 0 {
		rule = sql.NullInt64{Int64: p.RuleID, Valid: true}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pool_periods (coop_id, job, period, rule_id, detail, ran_by, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, p.Job, p.Period, rule, string(detail), by, now)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("%s %s ran meanwhile: %w", p.Job, p.Period, errs.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("pool: insert period: %w", err)
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "pool.period",
		Object: ref, Payload: map[string]any{"job": p.Job, "period": p.Period, "rule_id": p.RuleID, "totals": p.Totals,
			"transfers": len(p.Postings)}})
	return err
}

type periodDetail struct {
	Totals   map[string]int64 `json:"totals"`
	Lines    []Line           `json:"lines"`
	Postings []Posting        `json:"postings"`
}

func skipped(job string, month int, reason string) *Period {
	return &Period{Job: job, Period: periodKey(month), Totals: map[string]int64{}, Lines: []Line{}, Postings: []Posting{},
		Status: StatusSkipped, Reason: reason}
}

// distribute shares the users' pool a month's marketplace sales paid in
// among the month's traders in proportion to their traded value (what
// each sold plus what each bought, RULES.md 3.2), by largest remainder,
// ties to the earlier handle; per unit. Every sale of the month is in once
// the month has ended, so the run is fixed by the month alone.
func (s *Service) distribute(ctx context.Context, tx *store.Tx, c *coop.Coop, month int) (*Period, error) {
	from, to := monthStart(month), monthStart(month+1)
	if s.now().Before(to) {
		return skipped(JobMarketplace, month, fmt.Sprintf("%s ends on %s: its sales are shared out after that",
			periodKey(month), to.Format("2 Jan 2006"))), nil
	}
	pools := map[string]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT unit, CAST(SUM(users_pool) AS BIGINT) FROM pool_incomes
		WHERE coop_id = $1 AND preset = 'marketplace' AND at >= $2 AND at < $3 GROUP BY unit`, c.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("pool: users' pool of %s: %w", periodKey(month), err)
	}
	var units []string
	for rows.Next() {
		var u string
		var total int64
		if err := rows.Scan(&u, &total); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pool: scan users' pool: %w", err)
		}
		pools[u] = total
		units = append(units, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(units)
	if len(units) == 0 {
		return skipped(JobMarketplace, month, "no marketplace sales in "+periodKey(month)), nil
	}
	p := &Period{Job: JobMarketplace, Period: periodKey(month), Totals: map[string]int64{}, Lines: []Line{}, Postings: []Posting{}}
	for _, u := range units {
		lines, err := traders(ctx, tx, c.ID, u, from, to)
		if err != nil {
			return nil, err
		}
		weights := make([]int64, len(lines))
		for i, l := range lines {
			weights[i] = l.Traded
		}
		shares, err := money.Split(pools[u], weights)
		if err != nil {
			return nil, fmt.Errorf("pool: share the users' pool of %s: %w", periodKey(month), err)
		}
		for i := range lines {
			lines[i].Amount = shares[i]
			if shares[i] == 0 {
				continue
			}
			p.Postings = append(p.Postings, Posting{ID: fmt.Sprintf("mkt:%s:%s:%s", p.Period, u, lines[i].Member),
				Debit: "coop:users_pool", Credit: "member:" + lines[i].Member, Amount: shares[i], Unit: u,
				Kind: "users_pool_share", Part: "the users' pool of " + p.Period})
		}
		p.Totals[u] = pools[u]
		p.Lines = append(p.Lines, lines...)
	}
	return p, nil
}

// traders returns every member who sold or bought in unit between from and
// to with the value traded, by handle.
func traders(ctx context.Context, q queryer, coopID int64, unit string, from, to time.Time) ([]Line, error) {
	rows, err := q.QueryContext(ctx, `SELECT handle, CAST(SUM(amount) AS BIGINT) FROM (
			SELECT member AS handle, amount FROM pool_incomes
			WHERE coop_id = $1 AND preset = 'marketplace' AND unit = $2 AND at >= $3 AND at < $4
			UNION ALL
			SELECT buyer AS handle, amount FROM pool_incomes
			WHERE coop_id = $1 AND preset = 'marketplace' AND unit = $2 AND at >= $3 AND at < $4 AND buyer <> ''
		) AS t GROUP BY handle`, coopID, unit, from, to)
	if err != nil {
		return nil, fmt.Errorf("pool: traders: %w", err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		l := Line{Unit: unit}
		if err := rows.Scan(&l.Member, &l.Traded); err != nil {
			return nil, fmt.Errorf("pool: scan trader: %w", err)
		}
		out = append(out, l)
	}
	// Sorted here, byte by byte, not by the database's collation, which
	// may differ between engines: the order breaks ties.
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.Member, b.Member) })
	return out, rows.Err()
}

// levy charges the month's solidarity levy by the rule in force at its
// end (or now, in the month itself): each project not suspended then pays
// area × its year's rate from external to coop:pool.
func (s *Service) levy(ctx context.Context, tx *store.Tx, c *coop.Coop, month int) (*Period, error) {
	r, err := ruleAt(ctx, tx, c.ID, s.levyRuleTime(month))
	if err != nil {
		return nil, err
	}
	lp, ok := levyOf(r)
	if !ok {
		return skipped(JobLevy, month, "the rule in force in "+periodKey(month)+" charges no solidarity levy"), nil
	}
	decisions, err := suspensions(ctx, tx, c.ID)
	if err != nil {
		return nil, err
	}
	p := &Period{Job: JobLevy, Period: periodKey(month), RuleID: r.ID, Totals: map[string]int64{c.Currency: 0}, Lines: []Line{},
		Postings: []Posting{}}
	for i := range lp.Projects {
		pr := &lp.Projects[i]
		l := Line{Member: pr.Member, Unit: c.Currency, AreaM2: pr.AreaM2}
		k := pr.year(month)
		switch x := suspendedIn(decisions, pr.Member, p.Period); {
		case k < 0:
			l.Note = "the levy starts in " + pr.Start
		case x != nil:
			l.Year, l.Rate = k+1, formatRate(lp.rate(pr, k))
			l.Note = fmt.Sprintf("suspended from %s by proposal %d", x.From, x.Proposal)
		default:
			l.Year, l.Rate = k+1, formatRate(lp.rate(pr, k))
			if l.Amount, err = lp.charge(pr, k); err != nil {
				return nil, fmt.Errorf("pool: levy of %s: %w", pr.Member, err)
			}
		}
		p.Lines = append(p.Lines, l)
		if l.Amount > 0 {
			p.Totals[c.Currency] += l.Amount
			p.Postings = append(p.Postings, Posting{ID: fmt.Sprintf("levy:%s:%s", p.Period, pr.Member), Debit: "external",
				Credit: "coop:pool", Amount: l.Amount, Unit: c.Currency, Kind: KindLevy, Part: "the levy of " + pr.Member + " for " + p.Period})
		}
	}
	return p, nil
}

// levyRuleTime is when the rule that charges month's levy is in force:
// the month's last instant, or now within the month.
func (s *Service) levyRuleTime(month int) time.Time {
	end := monthStart(month + 1).Add(-time.Microsecond)
	if now := s.now(); now.Before(end) {
		return now
	}
	return end
}

// periodRun returns c's stored run of job for month, or errs.ErrNotFound.
func periodRun(ctx context.Context, q queryer, coopID int64, job string, month int) (*Period, error) {
	p, err := scanPeriod(q.QueryRowContext(ctx, selectPeriod+` WHERE coop_id = $1 AND job = $2 AND period = $3`,
		coopID, job, periodKey(month)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s has not run for %s: %w", job, periodKey(month), errs.ErrNotFound)
	}
	return p, err
}

const selectPeriod = `SELECT job, period, rule_id, detail, ran_by, at FROM pool_periods`

func scanPeriod(row interface{ Scan(...any) error }) (*Period, error) {
	p := Period{Status: StatusDone}
	var rule sql.NullInt64
	var detail string
	var at time.Time
	if err := row.Scan(&p.Job, &p.Period, &rule, &detail, &p.RanBy, &at); err != nil {
		return nil, err
	}
	at = at.UTC()
	p.RuleID, p.At = rule.Int64, &at
	var d periodDetail
	if err := json.Unmarshal([]byte(detail), &d); err != nil {
		return nil, fmt.Errorf("pool: stored period %s %s: %w", p.Job, p.Period, err)
	}
	p.Totals, p.Lines, p.Postings = d.Totals, d.Lines, d.Postings
	return &p, nil
}

// Periods lists c's runs, newest month first, for a member.
func (s *Service) Periods(ctx context.Context, c *coop.Coop, a auth.Account, limit int) ([]Period, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := s.DB.Read().QueryContext(ctx, selectPeriod+` WHERE coop_id = $1 ORDER BY period DESC, job LIMIT $2`, c.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("pool: list periods: %w", err)
	}
	defer rows.Close()
	out := []Period{}
	for rows.Next() {
		p, err := scanPeriod(rows)
		if err != nil {
			return nil, fmt.Errorf("pool: scan period: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// RunDue runs what the clock has made due, for the scheduler: last
// month's marketplace distribution where it had sales, and this and last
// month's levy where a levy rule was in force. Each run is its own
// transaction and runs once however often RunDue is called, here or on
// another instance. It returns how many runs it made.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	cur := monthOf(s.now())
	type due struct {
		coop  int64
		job   string
		month int
	}
	var list []due
	add := func(job string, month int, q string, args ...any) error {
		rows, err := s.DB.Read().QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("pool: due %s runs: %w", job, err)
		}
		defer rows.Close()
		for rows.Next() {
			d := due{job: job, month: month}
			if err := rows.Scan(&d.coop); err != nil {
				return err
			}
			list = append(list, d)
		}
		return rows.Err()
	}
	const notRun = `NOT EXISTS (SELECT 1 FROM pool_periods p WHERE p.coop_id = x.coop_id AND p.job = $1 AND p.period = $2)`
	if err := add(JobMarketplace, cur-1, `SELECT DISTINCT x.coop_id FROM pool_incomes x
		WHERE `+notRun+` AND x.preset = 'marketplace' AND x.at >= $3 AND x.at < $4`,
		JobMarketplace, periodKey(cur-1), monthStart(cur-1), monthStart(cur)); err != nil {
		return 0, err
	}
	for _, m := range []int{cur - 1, cur} {
		// The co-ops whose rule in force when the month is charged (see
		// levy) is a levy.
		if err := add(JobLevy, m, `SELECT x.coop_id FROM pool_rules x
			WHERE `+notRun+` AND x.preset = 'solidarity_levy' AND x.id = (SELECT y.id FROM pool_rules y
				WHERE y.coop_id = x.coop_id AND y.effective_at <= $3 ORDER BY y.effective_at DESC, y.id DESC LIMIT 1)`,
			JobLevy, periodKey(m), s.levyRuleTime(m)); err != nil {
			return 0, err
		}
	}
	n := 0
	var errList []error
	for _, d := range list {
		c, err := s.Coops.CoopByID(ctx, d.coop)
		if err != nil {
			errList = append(errList, err)
			continue
		}
		p, err := s.run(ctx, c, "system", "system", d.job, d.month)
		if err != nil {
			errList = append(errList, fmt.Errorf("%s %s of %s: %w", d.job, periodKey(d.month), c.Slug, err))
			continue
		}
		if p.Status == StatusCreated {
			n++
		}
	}
	return n, errors.Join(errList...)
}
