// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// Proposal states (RULES.md 2.1).
const (
	StateDraft     = "draft"
	StateOpen      = "open"
	StateClosed    = "closed"
	StateCancelled = "cancelled"
)

// Proposal is a question put to a co-op's members.
type Proposal struct {
	ID            int64           `json:"id"`
	CoopID        int64           `json:"-"`
	Coop          string          `json:"coop"`
	AuthorID      int64           `json:"-"`
	Author        string          `json:"author"`
	Title         string          `json:"title"`
	Body          string          `json:"body"`
	Method        vote.Method     `json:"method"`
	Options       []vote.Option   `json:"options"`
	Params        vote.Params     `json:"params"`
	Weighting     vote.Weighting  `json:"weighting"`
	EmptyClass    vote.EmptyClass `json:"empty_class"`
	ClassMajority bool            `json:"class_majority"`
	Quorum        vote.Quorum     `json:"quorum"`
	Pass          vote.PassRule   `json:"pass"`
	Secret        bool            `json:"secret"`
	// Topic is the short slug topic delegations follow (RULES.md 2.4).
	Topic string `json:"topic,omitempty"`
	// MeetingID binds a resolution to its general meeting (RULES.md 2.6).
	MeetingID int64      `json:"meeting_id,omitempty"`
	State     string     `json:"state"`
	ClosesAt  time.Time  `json:"closes_at"`
	CreatedAt time.Time  `json:"created_at"`
	OpenedAt  *time.Time `json:"opened_at,omitempty"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	// Classes are the class weights frozen at open.
	Classes []vote.Class `json:"classes,omitempty"`
	Result  *vote.Result `json:"-"`
}

// Object names the proposal in audit events.
func (p *Proposal) Object() string { return fmt.Sprintf("proposal:%d", p.ID) }

// NewProposal is a proposal as a member writes it.
type NewProposal struct {
	Title              string        `json:"title"`
	Body               string        `json:"body"`
	Method             vote.Method   `json:"method"`
	Options            []vote.Option `json:"options"`
	Weighting          string        `json:"weighting"`
	EmptyClass         string        `json:"empty_class"`
	ClassMajority      bool          `json:"class_majority"`
	QuorumPercent      int64         `json:"quorum_percent"`
	QuorumCount        int64         `json:"quorum_count"`
	ClassQuorumPercent int64         `json:"class_quorum_percent"`
	Pass               string        `json:"pass"`
	Secret             bool          `json:"secret"`
	Topic              string        `json:"topic"`
	// MeetingID is set by the meeting package for a resolution; members
	// cannot set it.
	MeetingID int64     `json:"-"`
	Draft     bool      `json:"draft"`
	ClosesAt  time.Time `json:"closes_at"`
	// Method parameters (RULES.md 2.2).
	MaxChoices    int              `json:"max_choices"`
	ScoreMin      int              `json:"score_min"`
	ScoreMax      int              `json:"score_max"`
	Points        int              `json:"points"`
	AllowedBlocks int              `json:"allowed_blocks"`
	Seats         int              `json:"seats"`
	Rules         string           `json:"rules"`
	DefaultOption string           `json:"default_option"`
	Majority      map[string]int64 `json:"majority"`
}

// Limits on a proposal's size.
const (
	MaxOptions = 100
	MaxBody    = 20000
	// MaxOpen is how far ahead a closing time may lie.
	MaxOpen = 366 * 24 * time.Hour
)

func (n *NewProposal) validate(now time.Time) (*Proposal, error) {
	var v errs.ValidationError
	p := &Proposal{Title: strings.TrimSpace(n.Title), Body: strings.TrimSpace(n.Body), Method: n.Method,
		Secret: n.Secret, ClassMajority: n.ClassMajority, Topic: strings.TrimSpace(n.Topic), MeetingID: n.MeetingID, ClosesAt: n.ClosesAt.UTC().Truncate(time.Microsecond)}
	if p.Title == "" || utf8.RuneCountInString(p.Title) > 200 {
		v.Add("title", "give a title of 1 to 200 characters")
	}
	if p.Topic != "" && !coop.ValidKey(p.Topic) {
		v.Add("topic", "use a lower-case letter, then letters, digits or '_' (up to 32)")
	}
	if utf8.RuneCountInString(p.Body) > MaxBody {
		v.Add("body", fmt.Sprintf("keep the text under %d characters", MaxBody))
	}
	if !p.Method.Valid() {
		names := make([]string, len(vote.Methods))
		for i, m := range vote.Methods {
			names[i] = string(m)
		}
		v.Add("method", "choose one of "+strings.Join(names, ", "))
	}
	if fixed := vote.FixedOptions(p.Method); fixed != nil {
		if len(n.Options) > 0 {
			v.Add("options", fmt.Sprintf("%s has its own options", p.Method))
		}
		p.Options = fixed
	} else if p.Method.Valid() {
		if len(n.Options) < 2 || len(n.Options) > MaxOptions {
			v.Add("options", fmt.Sprintf("give 2 to %d options", MaxOptions))
		}
		seen := map[string]bool{}
		for i, o := range n.Options {
			o.Key, o.Label = strings.TrimSpace(o.Key), strings.TrimSpace(o.Label)
			field := fmt.Sprintf("options[%d]", i)
			if !coop.ValidKey(o.Key) {
				v.Add(field+".key", "use a lower-case letter, then letters, digits or '_' (up to 32)")
			} else if seen[o.Key] {
				v.Add(field+".key", "two options have the key "+o.Key)
			}
			seen[o.Key] = true
			if o.Label == "" {
				o.Label = o.Key
			}
			if utf8.RuneCountInString(o.Label) > 200 {
				v.Add(field+".label", "at most 200 characters")
			}
			p.Options = append(p.Options, o)
		}
	}
	switch n.Weighting {
	case "", "equal":
		p.Weighting = vote.Equal
	case "classes":
		p.Weighting = vote.Classes
	default:
		v.Add("weighting", "use equal or classes")
	}
	switch n.EmptyClass {
	case "", "redistribute":
		p.EmptyClass = vote.Redistribute
	case "abstain":
		p.EmptyClass = vote.Abstain
	default:
		v.Add("empty_class", "use redistribute or abstain")
	}
	if n.QuorumPercent < 0 || n.QuorumPercent > 100 {
		v.Add("quorum_percent", "give 0 to 100")
	}
	if n.ClassQuorumPercent < 0 || n.ClassQuorumPercent > 100 {
		v.Add("class_quorum_percent", "give 0 to 100")
	}
	if n.QuorumCount < 0 || n.QuorumCount > 1<<40 {
		v.Add("quorum_count", "give a number of members")
	}
	p.Quorum = vote.Quorum{Percent: n.QuorumPercent, Count: n.QuorumCount, ClassPercent: n.ClassQuorumPercent}
	pass, err := ParsePass(n.Pass)
	if err != nil {
		v.Add("pass", err.Error())
	}
	p.Pass = pass
	if p.ClosesAt.IsZero() {
		v.Add("closes_at", "give a closing time")
	} else if !p.ClosesAt.After(now) {
		v.Add("closes_at", "must be in the future")
	} else if p.ClosesAt.Sub(now) > MaxOpen {
		v.Add("closes_at", "must be within a year")
	}
	p.Params = vote.Params{MaxChoices: n.MaxChoices, ScoreMin: n.ScoreMin, ScoreMax: n.ScoreMax, Points: n.Points,
		AllowedBlocks: n.AllowedBlocks, Seats: n.Seats, Rules: n.Rules, DefaultOption: n.DefaultOption, Majority: n.Majority}
	validateParams(&v, p)
	return p, v.Err()
}

// validateParams checks the method parameters and fills their defaults.
func validateParams(v *errs.ValidationError, p *Proposal) {
	pr := &p.Params
	keys := map[string]bool{}
	for _, o := range p.Options {
		keys[o.Key] = true
	}
	switch p.Method {
	case vote.Choice:
		if pr.MaxChoices == 0 {
			pr.MaxChoices = 1
		}
		if pr.MaxChoices < 1 || pr.MaxChoices > len(p.Options) {
			v.Add("max_choices", "give 1 up to the number of options")
		}
	case vote.Score, vote.STAR:
		if pr.ScoreMin == 0 && pr.ScoreMax == 0 {
			pr.ScoreMax = 5
		}
		if p.Method == vote.STAR && (pr.ScoreMin != 0 || pr.ScoreMax != 5) {
			v.Add("score_max", "STAR scores are 0 to 5")
		}
		if pr.ScoreMin < 0 || pr.ScoreMax <= pr.ScoreMin || pr.ScoreMax > 100 {
			v.Add("score_max", "scores run from score_min ≥ 0 to score_max ≤ 100, min < max")
		}
	case vote.Dot:
		if pr.Points < 1 || pr.Points > 1000 {
			v.Add("points", "give each member 1 to 1000 points")
		}
	case vote.Consent:
		if pr.AllowedBlocks < 0 || pr.AllowedBlocks > 1000 {
			v.Add("allowed_blocks", "give 0 to 1000")
		}
	case vote.STV:
		if pr.Seats == 0 {
			pr.Seats = 1
		}
		if pr.Seats < 1 || pr.Seats >= len(p.Options) {
			v.Add("seats", "give fewer seats than options")
		}
		if pr.Rules == "" {
			pr.Rules = "scottish"
		}
		if pr.Rules != "scottish" && pr.Rules != "meek" {
			v.Add("rules", "use scottish or meek")
		}
	case vote.Schulze:
		if pr.DefaultOption != "" && !keys[pr.DefaultOption] {
			v.Add("default_option", "name one of the options")
		}
		for k, n := range pr.Majority {
			if !keys[k] || n < 1 || n > 100 {
				v.Add("majority", "map option keys to ratios 1 to 100")
			}
		}
		if len(pr.Majority) > 0 && pr.DefaultOption == "" {
			v.Add("majority", "majority ratios need a default option")
		}
	}
	if p.Method != vote.Consent && pr.AllowedBlocks != 0 {
		v.Add("allowed_blocks", "only consent proposals take blocks")
	}
	if (p.Method != vote.YesNo && p.Method != vote.Consent) && p.ClassMajority {
		v.Add("class_majority", "only yesno and consent proposals take a class majority")
	}
}

// Service manages proposals and ballots.
type Service struct {
	DB    *store.DB
	Coops *coop.Service
	Now   func() time.Time
	// BallotKey keys the tags that let a secret voter replace her ballot.
	// It must not be stored in the database.
	BallotKey []byte
	// Meetings answers for resolutions; nil where no meetings are wired.
	Meetings Meetings
}

// Create puts a new proposal to c by a member. It opens at once, freezing
// the electorate, unless n.Draft.
func (s *Service) Create(ctx context.Context, c *coop.Coop, a auth.Account, n NewProposal) (*Proposal, error) {
	var p *Proposal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = s.CreateTx(ctx, tx, c, a, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CreateTx is Create inside tx, for the meeting package's resolutions.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, c *coop.Coop, a auth.Account, n NewProposal) (*Proposal, error) {
	now := s.now()
	p, err := n.validate(now)
	if err != nil {
		return nil, err
	}
	author, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return nil, err
	}
	p.CoopID, p.Coop, p.AuthorID, p.Author, p.CreatedAt, p.State = c.ID, c.Slug, author.ID, author.Handle, now, StateDraft
	opts, _ := json.Marshal(p.Options)
	quorum, _ := json.Marshal(p.Quorum)
	pass, _ := json.Marshal(p.Pass)
	params, _ := json.Marshal(p.Params)
	var topic, meeting sql.NullInt64
	if p.Topic != "" {
		id, err := EnsureTopic(ctx, tx, c.ID, p.Topic, now)
		if err != nil {
			return nil, err
		}
		topic = sql.NullInt64{Int64: id, Valid: true}
	}
	if p.MeetingID != 0 {
		meeting = sql.NullInt64{Int64: p.MeetingID, Valid: true}
	}
	const q = `INSERT INTO proposals (coop_id, author_id, title, body, method, options, params, weighting, empty_class,
			class_majority, quorum, pass_rule, secret, state, closes_at, created_at, topic_id, meeting_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`
	err = tx.QueryRowContext(ctx, q, c.ID, author.ID, p.Title, p.Body, string(p.Method), string(opts), string(params),
		string(p.Weighting), string(p.EmptyClass), p.ClassMajority, string(quorum), string(pass), p.Secret,
		p.State, p.ClosesAt, now, topic, meeting).Scan(&p.ID)
	if err != nil {
		return nil, fmt.Errorf("govern: create proposal: %w", err)
	}
	if _, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "proposal.created",
		Object: p.Object(), Payload: p}); err != nil {
		return nil, err
	}
	if n.Draft {
		return p, nil
	}
	if err := s.open(ctx, tx, c, p, a.Actor()); err != nil {
		return nil, err
	}
	return p, nil
}

// open freezes the electorate and the class weights and fixes the lot's
// seed (RULES.md 2.1).
func (s *Service) open(ctx context.Context, tx *store.Tx, c *coop.Coop, p *Proposal, actor string) error {
	now := s.now()
	if !p.ClosesAt.After(now) {
		return errs.Invalid("closes_at", "the closing time has passed; set a new one")
	}
	seed := make([]byte, 16)
	rand.Read(seed)
	p.Params.Seed = hex.EncodeToString(seed)
	p.Classes = nil
	for _, cl := range c.Classes {
		if cl.Votes {
			p.Classes = append(p.Classes, vote.Class{Key: cl.Key, Weight: cl.Weight})
		}
	}
	p.State, p.OpenedAt = StateOpen, &now
	params, _ := json.Marshal(p.Params)
	classes, _ := json.Marshal(p.Classes)
	res, err := tx.ExecContext(ctx, `UPDATE proposals SET state = 'open', opened_at = $2, params = $3, classes = $4
		WHERE id = $1 AND state = 'draft'`, p.ID, now, string(params), string(classes))
	if err != nil {
		return fmt.Errorf("govern: open proposal: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("proposal %d is not a draft: %w", p.ID, errs.ErrConflict)
	}
	const freeze = `INSERT INTO electorate (proposal_id, member_id, class_key, weight)
		SELECT $1, m.id, cl.key, m.weight FROM members m JOIN classes cl ON cl.id = m.class_id
		WHERE m.coop_id = $2 AND m.state = 'member' AND cl.votes`
	res, err = tx.ExecContext(ctx, freeze, p.ID, c.ID)
	if err != nil {
		return fmt.Errorf("govern: freeze electorate: %w", err)
	}
	size, _ := res.RowsAffected()
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "proposal.opened",
		Object: p.Object(), Payload: map[string]any{"electorate": size, "classes": p.Classes, "seed": p.Params.Seed}})
	return err
}

// Publish opens a draft; only its author may.
func (s *Service) Publish(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Proposal, error) {
	var p *Proposal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.load(ctx, tx, c, id); err != nil {
			return err
		}
		if p.State != StateDraft {
			return fmt.Errorf("the proposal is %s, not a draft: %w", p.State, errs.ErrConflict)
		}
		if err := s.requireAuthor(ctx, c, p, a, false); err != nil {
			return err
		}
		return s.open(ctx, tx, c, p, a.Actor())
	})
	return p, err
}

// Cancel withdraws a draft or open proposal; its author or a secretary may.
// Ballots already cast stay on record.
func (s *Service) Cancel(ctx context.Context, c *coop.Coop, a auth.Account, id int64) (*Proposal, error) {
	now := s.now()
	var p *Proposal
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.load(ctx, tx, c, id); err != nil {
			return err
		}
		if err := s.requireAuthor(ctx, c, p, a, true); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE proposals SET state = 'cancelled', closed_at = $2 WHERE id = $1 AND state IN ('draft', 'open')`, id, now)
		if err != nil {
			return fmt.Errorf("govern: cancel: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("the proposal is %s already: %w", p.State, errs.ErrConflict)
		}
		p.State, p.ClosedAt = StateCancelled, &now
		_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "proposal.cancelled", Object: p.Object()})
		return err
	})
	return p, err
}

// requireAuthor allows the proposal's author, and secretaries when
// orSecretary.
func (s *Service) requireAuthor(ctx context.Context, c *coop.Coop, p *Proposal, a auth.Account, orSecretary bool) error {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return err
	}
	if m.ID == p.AuthorID || (orSecretary && m.Secretary) {
		return nil
	}
	if orSecretary {
		return fmt.Errorf("only the author or a secretary may do this: %w", errs.ErrForbidden)
	}
	return fmt.Errorf("only the author may do this: %w", errs.ErrForbidden)
}

const selectProposal = `SELECT p.id, p.coop_id, c.slug, p.author_id, a.handle, p.title, p.body, p.method, p.options, p.params,
		p.weighting, p.empty_class, p.class_majority, p.quorum, p.pass_rule, p.secret, p.state, p.closes_at,
		p.created_at, p.opened_at, p.closed_at, p.classes, p.result, COALESCE(t.key, ''), COALESCE(p.meeting_id, 0)
	FROM proposals p JOIN coops c ON c.id = p.coop_id JOIN members m ON m.id = p.author_id
	JOIN accounts a ON a.id = m.account_id LEFT JOIN topics t ON t.id = p.topic_id`

func scanProposal(row interface{ Scan(...any) error }) (*Proposal, error) {
	var p Proposal
	var opts, params, quorum, pass string
	var classes, result sql.NullString
	var opened, closed sql.NullTime
	err := row.Scan(&p.ID, &p.CoopID, &p.Coop, &p.AuthorID, &p.Author, &p.Title, &p.Body, &p.Method, &opts, &params,
		&p.Weighting, &p.EmptyClass, &p.ClassMajority, &quorum, &pass, &p.Secret, &p.State, &p.ClosesAt,
		&p.CreatedAt, &opened, &closed, &classes, &result, &p.Topic, &p.MeetingID)
	if err != nil {
		return nil, err
	}
	p.ClosesAt, p.CreatedAt = p.ClosesAt.UTC(), p.CreatedAt.UTC()
	if opened.Valid {
		t := opened.Time.UTC()
		p.OpenedAt = &t
	}
	if closed.Valid {
		t := closed.Time.UTC()
		p.ClosedAt = &t
	}
	err = errors.Join(json.Unmarshal([]byte(opts), &p.Options), json.Unmarshal([]byte(params), &p.Params),
		json.Unmarshal([]byte(quorum), &p.Quorum), json.Unmarshal([]byte(pass), &p.Pass))
	if classes.Valid {
		err = errors.Join(err, json.Unmarshal([]byte(classes.String), &p.Classes))
	}
	if result.Valid {
		p.Result = new(vote.Result)
		err = errors.Join(err, json.Unmarshal([]byte(result.String), p.Result))
	}
	return &p, err
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *Service) load(ctx context.Context, q queryer, c *coop.Coop, id int64) (*Proposal, error) {
	p, err := scanProposal(q.QueryRowContext(ctx, selectProposal+` WHERE p.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && c != nil && p.CoopID != c.ID) {
		return nil, fmt.Errorf("no proposal %d: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("govern: load proposal %d: %w", id, err)
	}
	return p, nil
}

// Proposal returns proposal id with its co-op, for a member of that co-op
// (errs.ErrForbidden otherwise); a signed-out visitor is never a member.
func (s *Service) Proposal(ctx context.Context, a *auth.Account, id int64) (*Proposal, *coop.Coop, error) {
	p, err := s.load(ctx, s.DB.Read(), nil, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Coops.CoopByID(ctx, p.CoopID)
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		return nil, nil, fmt.Errorf("sign in to see proposals: %w", errs.ErrUnauthenticated)
	}
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// List returns c's proposals, newest first, in the given state (all if
// empty).
func (s *Service) List(ctx context.Context, c *coop.Coop, state string, limit int) ([]*Proposal, error) {
	q := selectProposal + ` WHERE p.coop_id = $1`
	args := []any{c.ID}
	if state != "" {
		q += ` AND p.state = $2`
		args = append(args, state)
	}
	q += fmt.Sprintf(` ORDER BY p.id DESC LIMIT %d`, limit)
	rows, err := s.DB.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("govern: list proposals: %w", err)
	}
	defer rows.Close()
	var out []*Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("govern: scan proposal: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }
