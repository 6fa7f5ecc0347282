// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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

// Bucket states (RULES.md 3.3): draft → idea (published) → open for
// funding → funded (reached its maximum, or accepted at its minimum or
// more) → completed; or cancelled, every contribution returned by a
// reversing transfer.
const (
	Draft     = "draft"
	Idea      = "idea"
	Open      = "open"
	Funded    = "funded"
	Completed = "completed"
	Cancelled = "cancelled"
)

// Outcomes of the close for a bucket it finds under-funded (still open).
const (
	OutcomeRefunded  = "refunded"
	OutcomeKept      = "kept"
	OutcomeReclaimed = "reclaimed"
)

// Item is one line of a bucket's budget: between Min and Max minor units.
type Item struct {
	Title string `json:"title"`
	Min   int64  `json:"min"`
	Max   int64  `json:"max"`
}

// Contributor is what one member has given a bucket, net of what was
// returned to her.
type Contributor struct {
	Handle string `json:"handle"`
	Amount int64  `json:"amount"`
}

// Bucket is a project members fund from their allowances. Its goals are
// the sums of its items' minimums and maximums; Raised is the balance of
// its ledger account (Account).
type Bucket struct {
	ID          int64    `json:"id"`
	RoundID     int64    `json:"round_id"`
	Coop        string   `json:"coop"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	AuthorID    int64    `json:"-"`
	Author      string   `json:"author"`
	CocreatorID []int64  `json:"-"`
	Cocreators  []string `json:"cocreators"`
	Items       []Item   `json:"items"`
	Min         int64    `json:"min"`
	Max         int64    `json:"max"`
	Unit        string   `json:"unit"`
	State       string   `json:"state"`
	Outcome     string   `json:"outcome,omitempty"`
	PaidTo      string   `json:"paid_to,omitempty"`
	Account     string   `json:"account"`
	Raised      int64    `json:"raised"`
	// Progress is Raised toward Min and toward Max.
	Progress     Progress      `json:"progress"`
	Contributors []Contributor `json:"contributors,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	PublishedAt  *time.Time    `json:"published_at,omitempty"`
	OpenedAt     *time.Time    `json:"opened_at,omitempty"`
	FundedAt     *time.Time    `json:"funded_at,omitempty"`
	CompletedAt  *time.Time    `json:"completed_at,omitempty"`
	CancelledAt  *time.Time    `json:"cancelled_at,omitempty"`
}

// Progress is how far a bucket's raised amount is toward its goals, in
// basis points (10000 is reached), rounded down.
type Progress struct {
	MinBP int64 `json:"min_bp"`
	MaxBP int64 `json:"max_bp"`
}

func progress(raised, goal int64) int64 {
	if goal <= 0 || raised >= goal {
		return 10000
	}
	return max(0, raised) * 10000 / goal // both ≤ money.MaxAmount: no overflow
}

// setRaised records what b holds, from the ledger.
func (b *Bucket) setRaised(raised int64) {
	b.Raised = raised
	b.Progress = Progress{MinBP: progress(raised, b.Min), MaxBP: progress(raised, b.Max)}
}

// Object names the bucket in audit events and ledger references.
func (b *Bucket) Object() string { return fmt.Sprintf("bucket:%d", b.ID) }

// creator reports whether m wrote b or is one of its co-creators.
func (b *Bucket) creator(m coop.Member) bool {
	return m.ID == b.AuthorID || slices.Contains(b.CocreatorID, m.ID)
}

// NewBucket is a bucket as a member proposes it; Publish makes it an idea
// at once instead of a draft.
type NewBucket struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Cocreators  []string `json:"cocreators"`
	Items       []Item   `json:"items"`
	Publish     bool     `json:"publish"`
}

// Limits of a bucket.
const (
	MaxItems       = 50
	MaxCocreators  = 20
	maxDescription = 20000
)

func (n *NewBucket) validate() (*Bucket, error) {
	var v errs.ValidationError
	b := &Bucket{Title: strings.TrimSpace(n.Title), Description: strings.TrimSpace(n.Description), State: Draft}
	if n.Publish {
		b.State = Idea
	}
	if !textLen(n.Title, 200) {
		v.Add("title", "give a title of 1 to 200 characters")
	}
	if len([]rune(b.Description)) > maxDescription {
		v.Add("description", fmt.Sprintf("at most %d characters", maxDescription))
	}
	if len(n.Items) == 0 || len(n.Items) > MaxItems {
		v.Add("items", fmt.Sprintf("give 1 to %d budget items", MaxItems))
	}
	for i, it := range n.Items {
		f := fmt.Sprintf("items[%d].", i)
		if !textLen(it.Title, 200) {
			v.Add(f+"title", "give a title of 1 to 200 characters")
		}
		if it.Min < 0 || it.Min > money.MaxAmount {
			v.Add(f+"min", "give the least it needs, in minor units (0 or more)")
		}
		if money.CheckAmount(it.Max) != nil || it.Max < it.Min {
			v.Add(f+"max", "give the most it may take, in minor units, at least its minimum and more than 0")
		}
		b.Items = append(b.Items, Item{Title: strings.TrimSpace(it.Title), Min: it.Min, Max: it.Max})
		b.Min += max(0, min(it.Min, money.MaxAmount))
		b.Max += max(0, min(it.Max, money.MaxAmount))
	}
	if b.Max > money.MaxAmount {
		v.Add("items", "the items add up to too much")
	}
	if len(n.Cocreators) > MaxCocreators {
		v.Add("cocreators", fmt.Sprintf("at most %d co-creators", MaxCocreators))
	}
	return b, v.Err()
}

// resolveCocreators finds the members named, who must be active, other
// than the author and each named once.
func (s *Service) resolveCocreators(ctx context.Context, c *coop.Coop, author coop.Member, handles []string) ([]coop.Member, error) {
	var out []coop.Member
	seen := map[string]bool{}
	for i, h := range handles {
		h = strings.ToLower(strings.TrimSpace(h))
		f := fmt.Sprintf("cocreators[%d]", i)
		if h == author.Handle || seen[h] {
			return nil, errs.Invalid(f, "name each co-creator once, and not yourself")
		}
		seen[h] = true
		m, err := s.Coops.MemberByHandle(ctx, c, h)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && !m.Active()) {
			return nil, errs.Invalid(f, fmt.Sprintf("%s is not a member of %s", h, c.Name))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// CreateBucket adds a bucket to round roundID for a member, in the
// round's bucket-creation window (errs.ErrConflict outside it).
func (s *Service) CreateBucket(ctx context.Context, c *coop.Coop, a auth.Account, roundID int64, n NewBucket) (*Bucket, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	b, err := n.validate()
	if err != nil {
		return nil, err
	}
	co, err := s.resolveCocreators(ctx, c, m, n.Cocreators)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.loadRound(ctx, tx, c, roundID, tx.ForShare())
		if err != nil {
			return err
		}
		if !r.CreationOpen {
			return fmt.Errorf("buckets may be created in %s from %s to %s only: %w", r.Title,
				r.BucketsFrom.Format(time.RFC3339), r.BucketsTo.Format(time.RFC3339), errs.ErrConflict)
		}
		b.RoundID, b.Coop, b.Unit, b.AuthorID, b.Author, b.CreatedAt = r.ID, c.Slug, r.Unit, m.ID, m.Handle, now
		if b.State == Idea {
			b.PublishedAt = &now
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO budget_pots (coop_id, round_id, kind) VALUES ($1, $2, 'bucket') RETURNING id`,
			c.ID, r.ID).Scan(&b.ID)
		if err != nil {
			return fmt.Errorf("budget: open bucket pot: %w", err)
		}
		b.Account = potOwner(b.ID)
		_, err = tx.ExecContext(ctx, `INSERT INTO buckets (id, coop_id, round_id, author_id, title, description, state, min_goal, max_goal,
				created_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			b.ID, c.ID, r.ID, m.ID, b.Title, b.Description, b.State, b.Min, b.Max, now, b.PublishedAt)
		if err != nil {
			return fmt.Errorf("budget: create bucket: %w", err)
		}
		for i, it := range b.Items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bucket_items (bucket_id, position, title, min_amount, max_amount)
				VALUES ($1, $2, $3, $4, $5)`, b.ID, i, it.Title, it.Min, it.Max); err != nil {
				return fmt.Errorf("budget: add bucket item: %w", err)
			}
		}
		b.Cocreators = []string{}
		for _, cm := range co {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bucket_cocreators (bucket_id, member_id) VALUES ($1, $2)`, b.ID, cm.ID); err != nil {
				return fmt.Errorf("budget: add co-creator: %w", err)
			}
			b.Cocreators = append(b.Cocreators, cm.Handle)
			b.CocreatorID = append(b.CocreatorID, cm.ID)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "budget.bucket_created",
			Object: b.Object(), Payload: b})
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

const selectBucket = `SELECT b.id, b.round_id, c.slug, b.title, b.description, b.author_id, a.handle, b.min_goal, b.max_goal, r.unit,
		b.state, b.outcome, b.paid_to, b.created_at, b.published_at, b.opened_at, b.funded_at, b.completed_at, b.cancelled_at
	FROM buckets b JOIN coops c ON c.id = b.coop_id JOIN budget_rounds r ON r.id = b.round_id
	JOIN members m ON m.id = b.author_id JOIN accounts a ON a.id = m.account_id`

func scanBucket(row scanner) (*Bucket, error) {
	var b Bucket
	var pub, opened, funded, completed, cancelled sql.NullTime
	err := row.Scan(&b.ID, &b.RoundID, &b.Coop, &b.Title, &b.Description, &b.AuthorID, &b.Author, &b.Min, &b.Max, &b.Unit,
		&b.State, &b.Outcome, &b.PaidTo, &b.CreatedAt, &pub, &opened, &funded, &completed, &cancelled)
	if err != nil {
		return nil, err
	}
	b.CreatedAt = b.CreatedAt.UTC()
	b.PublishedAt, b.OpenedAt, b.FundedAt, b.CompletedAt, b.CancelledAt = utcp(pub), utcp(opened), utcp(funded), utcp(completed), utcp(cancelled)
	b.Account = potOwner(b.ID)
	b.Items, b.Cocreators = []Item{}, []string{}
	return &b, nil
}

// loadBucket returns bucket id of c with its items and co-creators; lock
// is a locking clause inside a transaction, or "".
func (s *Service) loadBucket(ctx context.Context, q queryer, c *coop.Coop, id int64, lock string) (*Bucket, error) {
	of := ""
	if lock != "" {
		of = " OF b"
	}
	b, err := scanBucket(q.QueryRowContext(ctx, selectBucket+` WHERE b.id = $1 AND b.coop_id = $2`+lock+of, id, c.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s has no bucket %d: %w", c.Name, id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("budget: load bucket %d: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT title, min_amount, max_amount FROM bucket_items WHERE bucket_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("budget: load bucket items: %w", err)
	}
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.Title, &it.Min, &it.Max); err != nil {
			rows.Close()
			return nil, fmt.Errorf("budget: scan bucket item: %w", err)
		}
		b.Items = append(b.Items, it)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT bc.member_id, a.handle FROM bucket_cocreators bc JOIN members m ON m.id = bc.member_id
		JOIN accounts a ON a.id = m.account_id WHERE bc.bucket_id = $1 ORDER BY a.handle`, id)
	if err != nil {
		return nil, fmt.Errorf("budget: load co-creators: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid int64
		var h string
		if err := rows.Scan(&mid, &h); err != nil {
			return nil, fmt.Errorf("budget: scan co-creator: %w", err)
		}
		b.CocreatorID = append(b.CocreatorID, mid)
		b.Cocreators = append(b.Cocreators, h)
	}
	return b, rows.Err()
}

// Bucket returns bucket id of c to a member, with what it raised (its
// ledger balance) and who gave. A draft is shown to its creators and to
// treasurers and secretaries only.
func (s *Service) Bucket(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Bucket, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	b, err := s.loadBucket(ctx, s.DB.Read(), c, id, "")
	if err != nil {
		return nil, err
	}
	if b.State == Draft && !b.creator(m) && !m.Treasurer && !m.Secretary {
		return nil, fmt.Errorf("%s has no bucket %d: %w", c.Name, id, errs.ErrNotFound)
	}
	raised, err := s.balance(ctx, c, b.Account, b.Unit)
	if err != nil {
		return nil, err
	}
	b.setRaised(raised)
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT a.handle, SUM(bc.amount) FROM budget_contributions bc
		JOIN members m ON m.id = bc.member_id JOIN accounts a ON a.id = m.account_id
		WHERE bc.bucket_id = $1 AND bc.reversed_by IS NULL GROUP BY a.handle ORDER BY SUM(bc.amount) DESC, a.handle`, id)
	if err != nil {
		return nil, fmt.Errorf("budget: who gave: %w", err)
	}
	defer rows.Close()
	b.Contributors = []Contributor{}
	for rows.Next() {
		var g Contributor
		if err := rows.Scan(&g.Handle, &g.Amount); err != nil {
			return nil, fmt.Errorf("budget: scan contributor: %w", err)
		}
		b.Contributors = append(b.Contributors, g)
	}
	return b, rows.Err()
}

// Buckets lists the buckets of round roundID, oldest first, with what
// each raised; drafts only to their creators, treasurers and secretaries.
func (s *Service) Buckets(ctx context.Context, c *coop.Coop, a auth.Account, roundID int64) ([]*Bucket, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	if _, err := s.loadRound(ctx, s.DB.Read(), c, roundID, ""); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().QueryContext(ctx, selectBucket+` WHERE b.round_id = $1 AND b.coop_id = $2 ORDER BY b.id`, roundID, c.ID)
	if err != nil {
		return nil, fmt.Errorf("budget: list buckets: %w", err)
	}
	var list []*Bucket
	for rows.Next() {
		b, err := scanBucket(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("budget: scan bucket: %w", err)
		}
		list = append(list, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cos, err := s.cocreators(ctx, roundID)
	if err != nil {
		return nil, err
	}
	out := []*Bucket{}
	for _, b := range list {
		for _, co := range cos[b.ID] {
			b.CocreatorID = append(b.CocreatorID, co.id)
			b.Cocreators = append(b.Cocreators, co.handle)
		}
		if b.State == Draft && !b.creator(m) && !m.Treasurer && !m.Secretary {
			continue
		}
		raised, err := s.balance(ctx, c, b.Account, b.Unit)
		if err != nil {
			return nil, err
		}
		b.setRaised(raised)
		out = append(out, b)
	}
	return out, nil
}

type cocreator struct {
	id     int64
	handle string
}

// cocreators returns the co-creators of every bucket of round roundID.
func (s *Service) cocreators(ctx context.Context, roundID int64) (map[int64][]cocreator, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT bc.bucket_id, bc.member_id, a.handle FROM bucket_cocreators bc
		JOIN buckets b ON b.id = bc.bucket_id JOIN members m ON m.id = bc.member_id JOIN accounts a ON a.id = m.account_id
		WHERE b.round_id = $1 ORDER BY a.handle`, roundID)
	if err != nil {
		return nil, fmt.Errorf("budget: list co-creators: %w", err)
	}
	defer rows.Close()
	out := map[int64][]cocreator{}
	for rows.Next() {
		var b int64
		var co cocreator
		if err := rows.Scan(&b, &co.id, &co.handle); err != nil {
			return nil, fmt.Errorf("budget: scan co-creator: %w", err)
		}
		out[b] = append(out[b], co)
	}
	return out, rows.Err()
}

// Bucket actions, the routes that move a bucket through its states.
const (
	ActPublish  = "publish"
	ActOpen     = "open"
	ActAccept   = "accept"
	ActComplete = "complete"
	ActCancel   = "cancel"
)

// Change moves bucket id of c by action for a member, in one transaction
// with its audit event:
//   - publish (its creators): draft → idea;
//   - open (its creators, treasurers, secretaries): idea → open for
//     funding, before the funding window ends;
//   - accept (the same): open → funded, once it raised its minimum;
//   - cancel (the same): any state before funded's completion, while the
//     round is open; every contribution is returned by a reversing
//     transfer;
//   - complete (treasurers): funded (or kept open at close) → completed,
//     paying what it holds to payTo: "external" (spent outside the
//     co-op, the default) or a member's handle.
//
// A move from the wrong state, or after the round closed, is
// errs.ErrConflict.
func (s *Service) Change(ctx context.Context, c *coop.Coop, a auth.Account, id int64, action, payTo string) (*Bucket, error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	switch action {
	case ActPublish, ActOpen, ActAccept, ActComplete, ActCancel:
	default:
		return nil, errs.Invalid("action", "publish, open, accept, complete or cancel")
	}
	if action != ActComplete && payTo != "" {
		return nil, errs.Invalid("pay_to", "only complete pays out")
	}
	var to string
	if action == ActComplete {
		if to, err = s.payee(ctx, c, payTo); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		r, b, err := s.lockBucket(ctx, tx, c, id)
		if err != nil {
			return err
		}
		manager := m.Treasurer || m.Secretary
		if b.State == Draft && !b.creator(m) && !manager {
			return fmt.Errorf("%s has no bucket %d: %w", c.Name, id, errs.ErrNotFound)
		}
		from := b.State
		payload := map[string]any{"from": from}
		var set string
		switch action {
		case ActPublish:
			if !b.creator(m) {
				return fmt.Errorf("only the bucket's creators may publish it: %w", errs.ErrForbidden)
			}
			if err := want(r, b, Draft); err != nil {
				return err
			}
			b.State, set = Idea, "published_at"
		case ActOpen:
			if !b.creator(m) && !manager {
				return fmt.Errorf("only the bucket's creators, treasurers and secretaries may open it: %w", errs.ErrForbidden)
			}
			if err := want(r, b, Idea); err != nil {
				return err
			}
			if !now.Before(r.FundingTo) {
				return fmt.Errorf("funding in %s ended at %s: %w", r.Title, r.FundingTo.Format(time.RFC3339), errs.ErrConflict)
			}
			b.State, set = Open, "opened_at"
		case ActAccept:
			if !b.creator(m) && !manager {
				return fmt.Errorf("only the bucket's creators, treasurers and secretaries may accept its funding: %w", errs.ErrForbidden)
			}
			if err := want(r, b, Open); err != nil {
				return err
			}
			raised, err := raisedTx(ctx, tx, b.ID)
			if err != nil {
				return err
			}
			if raised < b.Min {
				return fmt.Errorf("the bucket raised %d of its minimum of %d minor units of %s: %w", raised, b.Min, b.Unit, errs.ErrConflict)
			}
			b.State, set = Funded, "funded_at"
			payload["raised"] = raised
		case ActCancel:
			if !b.creator(m) && !manager {
				return fmt.Errorf("only the bucket's creators, treasurers and secretaries may cancel it: %w", errs.ErrForbidden)
			}
			if err := want(r, b, Draft, Idea, Open, Funded); err != nil {
				return err
			}
			returned, err := s.reverseContributions(ctx, tx, c, a.Actor(), b.ID, 0, "cancelled")
			if err != nil {
				return err
			}
			b.State, set = Cancelled, "cancelled_at"
			payload["returned"] = returned
		case ActComplete:
			if !m.Treasurer {
				return fmt.Errorf("only a treasurer completes a bucket, paying out what it holds: %w", errs.ErrForbidden)
			}
			if b.State != Funded && !(b.State == Open && b.Outcome == OutcomeKept) {
				return fmt.Errorf("the bucket is %s: only a funded bucket is completed: %w", b.State, errs.ErrConflict)
			}
			held, err := available(ctx, tx, c.ID, b.Account, b.Unit)
			if err != nil {
				return err
			}
			if held > 0 {
				err := s.apply(ctx, tx, c, a.Actor(), []ledger.Request{{ID: b.Object() + ":spend", Debit: b.Account, Credit: to,
					Amount: held, Unit: b.Unit, Kind: "bucket_spend", Ref: b.Object()}})
				if err != nil {
					return err
				}
			}
			b.State, b.PaidTo, set = Completed, to, "completed_at"
			payload["paid"], payload["paid_to"] = held, to
		}
		_, err = tx.ExecContext(ctx, `UPDATE buckets SET state = $2, paid_to = $3, `+set+` = $4 WHERE id = $1`, b.ID, b.State, b.PaidTo, now)
		if err != nil {
			return fmt.Errorf("budget: update bucket: %w", err)
		}
		payload["to"] = b.State
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "budget.bucket_" + action,
			Object: b.Object(), Payload: payload})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Bucket(ctx, c, a, id)
}

// want checks that b's round is open and b is in one of states.
func want(r *Round, b *Bucket, states ...string) error {
	if r.State != RoundOpen {
		return fmt.Errorf("the round %s is closed: %w", r.Title, errs.ErrConflict)
	}
	if !slices.Contains(states, b.State) {
		return fmt.Errorf("the bucket is %s, not %s: %w", b.State, strings.Join(states, " or "), errs.ErrConflict)
	}
	return nil
}

// payee resolves a completion's payTo to a ledger owner.
func (s *Service) payee(ctx context.Context, c *coop.Coop, payTo string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(payTo)), "member:")
	if h == "" || h == "external" {
		return "external", nil
	}
	m, err := s.Coops.MemberByHandle(ctx, c, h)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !m.Active()) {
		return "", errs.Invalid("pay_to", "external, or the handle of a member")
	}
	if err != nil {
		return "", err
	}
	return "member:" + m.Handle, nil
}

// lockBucket loads bucket id and its round inside tx, the round's row
// shared and the bucket's exclusive on PostgreSQL, in that order (the
// order every budget transaction takes them in).
func (s *Service) lockBucket(ctx context.Context, tx *store.Tx, c *coop.Coop, id int64) (*Round, *Bucket, error) {
	var roundID int64
	err := tx.QueryRowContext(ctx, `SELECT round_id FROM buckets WHERE id = $1 AND coop_id = $2`, id, c.ID).Scan(&roundID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("%s has no bucket %d: %w", c.Name, id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("budget: find bucket %d: %w", id, err)
	}
	r, err := s.loadRound(ctx, tx, c, roundID, tx.ForShare())
	if err != nil {
		return nil, nil, err
	}
	b, err := s.loadBucket(ctx, tx, c, id, forUpdate(tx))
	return r, b, err
}

// raisedTx sums bucket id's contributions not returned, inside tx; it
// equals the bucket's ledger balance until the bucket pays out or the
// close reclaims it.
func raisedTx(ctx context.Context, tx *store.Tx, id int64) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM budget_contributions WHERE bucket_id = $1 AND reversed_by IS NULL`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("budget: sum contributions: %w", err)
	}
	return n, nil
}
