// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package coop keeps co-operatives, their stakeholder classes, their members
// and the invitations that bring members in (RULES.md 1).
package coop

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Coop is an open co-operative.
type Coop struct {
	ID         int64  `json:"-"`
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	Purpose    string `json:"purpose"`
	Preset     string `json:"preset"`
	Currency   string `json:"currency"`
	NoticeDays int    `json:"notice_days"`
	ProxyLimit int    `json:"proxy_limit"`
	// Delegation holds the liquid-delegation settings (RULES.md 2.4).
	Delegation DelegationRules `json:"delegation"`
	CreatedAt  time.Time       `json:"created_at"`
	Classes    []Class         `json:"classes"`
}

// DelegationRules are a co-op's liquid-delegation settings (RULES.md 2.4).
type DelegationRules struct {
	Enabled bool `json:"enabled"`
	// WithinClassOnly refuses delegating to a member of another class.
	WithinClassOnly bool `json:"within_class_only"`
	// Cap is how many members may delegate to one trustee; 0 is no cap.
	Cap int `json:"cap"`
}

// DefaultDelegation is what a new co-op starts with: on, across classes, no cap.
var DefaultDelegation = DelegationRules{Enabled: true}

// Class is a stakeholder class (RULES.md 1). Weight is its control weight in
// percent; the weights of voting classes sum to 100.
type Class struct {
	ID     int64  `json:"-"`
	Key    string `json:"key"`
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
	Votes  bool   `json:"votes"`
}

// ClassByKey returns the class with key k.
func (c *Coop) ClassByKey(k string) (Class, bool) {
	for _, cl := range c.Classes {
		if cl.Key == k {
			return cl, true
		}
	}
	return Class{}, false
}

// Chain is the co-op's audit chain.
func (c *Coop) Chain() int64 { return c.ID }

// Presets are the rules presets a co-op can be founded from, with their
// default classes. Founders may change names and weights.
var Presets = map[string][]Class{
	// Somerset Rules: workers, users and supporters/investors, weights set
	// by the founders.
	"somerset": {
		{Key: "workers", Name: "Workers", Weight: 40, Votes: true},
		{Key: "users", Name: "Users", Weight: 40, Votes: true},
		{Key: "supporters", Name: "Supporters and investors", Weight: 20, Votes: true},
	},
	// FairShares: founders, labour, users and investors.
	"fairshares": {
		{Key: "founders", Name: "Founders", Weight: 25, Votes: true},
		{Key: "labour", Name: "Labour", Weight: 25, Votes: true},
		{Key: "users", Name: "Users", Weight: 25, Votes: true},
		{Key: "investors", Name: "Investors", Weight: 25, Votes: true},
	},
	"worker": {
		{Key: "workers", Name: "Workers", Weight: 100, Votes: true},
		{Key: "supporters", Name: "Supporters", Weight: 0, Votes: false},
	},
	"consumer": {
		{Key: "consumers", Name: "Consumers", Weight: 100, Votes: true},
	},
	"open": {
		{Key: "members", Name: "Members", Weight: 100, Votes: true},
	},
}

// PresetNames lists the presets in the order forms offer them.
var PresetNames = []string{"somerset", "fairshares", "worker", "consumer", "open"}

// Service manages co-ops, members and invitations.
type Service struct {
	DB  *store.DB
	Now func() time.Time

	cache coopCache
}

// NewCoop is a founding request.
type NewCoop struct {
	Slug         string      `json:"slug"`
	Name         string      `json:"name"`
	Purpose      string      `json:"purpose"`
	Preset       string      `json:"preset"`
	Classes      []ClassSpec `json:"classes"`
	FounderClass string      `json:"founder_class"`
	Currency     string      `json:"currency"`
	NoticeDays   *int        `json:"notice_days"`
	ProxyLimit   *int        `json:"proxy_limit"`
	// Delegation defaults to DefaultDelegation.
	Delegation *DelegationRules `json:"delegation"`
}

// ClassSpec is a class as a founder gives it; Votes defaults to true.
type ClassSpec struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
	Votes  *bool  `json:"votes"`
}

var (
	slugRE     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$`)
	keyRE      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	// Slugs that would shadow pages.
	reservedSlugs = map[string]bool{"new": true, "api": true, "join": true, "static": true, "admin": true}
)

// ValidKey reports whether k is a well-formed key for a class or option:
// a lower-case letter, then up to 31 lower-case letters, digits or '_'.
func ValidKey(k string) bool { return keyRE.MatchString(k) }

func (n *NewCoop) validate() ([]Class, error) {
	var v errs.ValidationError
	n.Slug = strings.ToLower(strings.TrimSpace(n.Slug))
	n.Name = strings.TrimSpace(n.Name)
	n.Purpose = strings.TrimSpace(n.Purpose)
	if !slugRE.MatchString(n.Slug) || reservedSlugs[n.Slug] {
		v.Add("slug", "use 1 to 40 lower-case letters, digits or inner '-' (not new, api, join, static or admin)")
	}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 100 {
		v.Add("name", "give a name of 1 to 100 characters")
	}
	if n.Purpose == "" {
		v.Add("purpose", "every co-op states its purpose (its common-good clause)")
	} else if utf8.RuneCountInString(n.Purpose) > 4000 {
		v.Add("purpose", "keep the purpose under 4000 characters")
	}
	if n.Currency == "" {
		n.Currency = "EUR"
	}
	if !currencyRE.MatchString(n.Currency) {
		v.Add("currency", "give an ISO 4217 code such as EUR")
	}
	validateSettings(&v, Settings{NoticeDays: n.NoticeDays, ProxyLimit: n.ProxyLimit, Delegation: n.Delegation})
	defaults, ok := Presets[n.Preset]
	if !ok {
		v.Add("preset", "choose one of "+strings.Join(PresetNames, ", "))
		return nil, v.Err()
	}
	classes := defaults
	if len(n.Classes) > 0 {
		classes = nil
		if len(n.Classes) > 20 {
			v.Add("classes", "at most 20 classes")
		}
		seen := map[string]bool{}
		for i, c := range n.Classes {
			field := fmt.Sprintf("classes[%d]", i)
			c.Key = strings.TrimSpace(c.Key)
			c.Name = strings.TrimSpace(c.Name)
			switch {
			case !ValidKey(c.Key):
				v.Add(field+".key", "use a lower-case letter, then letters, digits or '_' (up to 32)")
			case seen[c.Key]:
				v.Add(field+".key", "two classes have the key "+c.Key)
			}
			seen[c.Key] = true
			if c.Name == "" {
				c.Name = c.Key
			}
			if utf8.RuneCountInString(c.Name) > 100 {
				v.Add(field+".name", "at most 100 characters")
			}
			if c.Weight < 0 || c.Weight > 100 {
				v.Add(field+".weight", "a control weight is 0 to 100 percent")
			}
			votes := c.Votes == nil || *c.Votes
			classes = append(classes, Class{Key: c.Key, Name: c.Name, Weight: c.Weight, Votes: votes})
		}
	}
	var sum int64
	voting := 0
	for _, c := range classes {
		if c.Votes {
			sum += c.Weight
			voting++
		}
	}
	if voting == 0 {
		v.Add("classes", "at least one class must vote")
	} else if sum != 100 {
		v.Add("classes", fmt.Sprintf("the control weights of voting classes must sum to 100, not %d", sum))
	}
	if n.FounderClass == "" && len(classes) > 0 {
		n.FounderClass = classes[0].Key
	}
	found := false
	for _, c := range classes {
		found = found || c.Key == n.FounderClass
	}
	if !found {
		v.Add("founder_class", "name one of the co-op's classes")
	}
	return classes, v.Err()
}

// Found creates a co-op with its classes; the founder joins founder_class as
// its first member and secretary. It returns a *errs.ValidationError for bad
// fields and errs.ErrConflict when the slug is taken.
func (s *Service) Found(ctx context.Context, founder auth.Account, n NewCoop) (*Coop, error) {
	classes, err := n.validate()
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	c := &Coop{Slug: n.Slug, Name: n.Name, Purpose: n.Purpose, Preset: n.Preset, Currency: n.Currency,
		NoticeDays: 14, ProxyLimit: 1, Delegation: DefaultDelegation, CreatedAt: now}
	if n.Delegation != nil {
		c.Delegation = *n.Delegation
	}
	if n.NoticeDays != nil {
		c.NoticeDays = *n.NoticeDays
	}
	if n.ProxyLimit != nil {
		c.ProxyLimit = *n.ProxyLimit
	}
	err = s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `INSERT INTO coops (slug, name, purpose, preset, currency, notice_days, proxy_limit, created_by, created_at,
				delegation, delegation_within_class, delegation_cap)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`
		err := tx.QueryRowContext(ctx, q, c.Slug, c.Name, c.Purpose, c.Preset, c.Currency, c.NoticeDays,
			c.ProxyLimit, founder.ID, now, c.Delegation.Enabled, c.Delegation.WithinClassOnly, c.Delegation.Cap).Scan(&c.ID)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("the slug %q is taken: %w", c.Slug, errs.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("coop: found: %w", err)
		}
		var founderClass int64
		for i, cl := range classes {
			const qc = `INSERT INTO classes (coop_id, key, name, weight, votes, position) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
			if err := tx.QueryRowContext(ctx, qc, c.ID, cl.Key, cl.Name, cl.Weight, cl.Votes, i).Scan(&cl.ID); err != nil {
				return fmt.Errorf("coop: add class %s: %w", cl.Key, err)
			}
			if cl.Key == n.FounderClass {
				founderClass = cl.ID
			}
			c.Classes = append(c.Classes, cl)
		}
		if _, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: founder.Actor(),
			Action: "coop.founded", Object: "coop:" + c.Slug, Payload: c}); err != nil {
			return err
		}
		m := Member{CoopID: c.ID, AccountID: founder.ID, ClassID: founderClass, Class: n.FounderClass,
			Handle: founder.Handle, Name: founder.Name, State: StateMember, Weight: 1, Secretary: true, Treasurer: true, JoinedAt: now}
		return insertMember(ctx, tx, c, &m, founder.Actor(), "member.joined")
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// selectCoop reads a co-op and its classes in one query, a row per class
// in the founders' order.
const selectCoop = `SELECT c.id, c.slug, c.name, c.purpose, c.preset, c.currency, c.notice_days, c.proxy_limit, c.created_at,
	c.delegation, c.delegation_within_class, c.delegation_cap, cl.id, cl.key, cl.name, cl.weight, cl.votes
	FROM coops c LEFT JOIN classes cl ON cl.coop_id = c.id`

// CoopBySlug returns the co-op with its classes, or errs.ErrNotFound.
func (s *Service) CoopBySlug(ctx context.Context, slug string) (*Coop, error) {
	slug = strings.ToLower(slug)
	c, gen := s.cache.get(slug)
	if c != nil {
		return c, nil
	}
	const q = selectCoop + ` WHERE c.slug = $1 ORDER BY cl.position`
	c, err := s.coopWhere(ctx, q, slug)
	if err == nil {
		s.cache.put(slug, c, gen)
	}
	return c, err
}

// CoopByID returns the co-op with its classes, or errs.ErrNotFound.
func (s *Service) CoopByID(ctx context.Context, id int64) (*Coop, error) {
	const q = selectCoop + ` WHERE c.id = $1 ORDER BY cl.position`
	return s.coopWhere(ctx, q, id)
}

func (s *Service) coopWhere(ctx context.Context, q string, arg any) (*Coop, error) {
	rows, err := s.DB.QueryPrepared(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("coop: load %v: %w", arg, err)
	}
	defer rows.Close()
	var c *Coop
	for rows.Next() {
		var row Coop
		var id, weight sql.NullInt64
		var key, name sql.NullString
		var votes sql.NullBool
		if err := rows.Scan(&row.ID, &row.Slug, &row.Name, &row.Purpose, &row.Preset, &row.Currency, &row.NoticeDays,
			&row.ProxyLimit, &row.CreatedAt, &row.Delegation.Enabled, &row.Delegation.WithinClassOnly, &row.Delegation.Cap,
			&id, &key, &name, &weight, &votes); err != nil {
			return nil, fmt.Errorf("coop: load %v: %w", arg, err)
		}
		if c == nil {
			c = &row
			c.CreatedAt = c.CreatedAt.UTC()
		}
		if id.Valid {
			c.Classes = append(c.Classes, Class{ID: id.Int64, Key: key.String, Name: name.String, Weight: weight.Int64,
				Votes: votes.Bool})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coop: load %v: %w", arg, err)
	}
	if c == nil {
		return nil, fmt.Errorf("no co-op %v: %w", arg, errs.ErrNotFound)
	}
	return c, nil
}

// Summary is a co-op as lists show it.
type Summary struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Purpose string `json:"purpose"`
	Members int64  `json:"members"`
	// Class is the caller's class, if she is a member.
	Class string `json:"class,omitempty"`
}

// ListCoops returns every co-op with its number of members, and the class
// of account (0: none) in each.
func (s *Service) ListCoops(ctx context.Context, account int64, limit int) ([]Summary, error) {
	const q = `SELECT c.slug, c.name, c.purpose,
			(SELECT COUNT(*) FROM members m WHERE m.coop_id = c.id AND m.state = 'member'),
			COALESCE((SELECT cl.key FROM members m JOIN classes cl ON cl.id = m.class_id
				WHERE m.coop_id = c.id AND m.account_id = $1 AND m.state IN ('member', 'suspended')), '')
		FROM coops c ORDER BY c.name LIMIT $2`
	rows, err := s.DB.Read().QueryContext(ctx, q, account, limit)
	if err != nil {
		return nil, fmt.Errorf("coop: list: %w", err)
	}
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var c Summary
		if err := rows.Scan(&c.Slug, &c.Name, &c.Purpose, &c.Members, &c.Class); err != nil {
			return nil, fmt.Errorf("coop: scan: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Settings are the rules a co-op's secretaries may change after founding;
// nil fields stay as they are.
type Settings struct {
	NoticeDays *int             `json:"notice_days"`
	ProxyLimit *int             `json:"proxy_limit"`
	Delegation *DelegationRules `json:"delegation"`
}

func validateSettings(v *errs.ValidationError, s Settings) {
	if s.NoticeDays != nil && (*s.NoticeDays < 0 || *s.NoticeDays > 365) {
		v.Add("notice_days", "give 0 to 365 days")
	}
	if s.ProxyLimit != nil && (*s.ProxyLimit < 0 || *s.ProxyLimit > 1000) {
		v.Add("proxy_limit", "give 0 to 1000")
	}
	if s.Delegation != nil && (s.Delegation.Cap < 0 || s.Delegation.Cap > 1_000_000) {
		v.Add("delegation.cap", "give 0 (no cap) to 1000000")
	}
}

// UpdateSettings changes c's settings; only a secretary may. Delegations
// already made stay; the new rules apply to new ones and, for
// within_class_only, to every count from now on.
func (s *Service) UpdateSettings(ctx context.Context, c *Coop, a auth.Account, in Settings) (*Coop, error) {
	if _, err := s.RequireSecretary(ctx, c, a.ID); err != nil {
		return nil, err
	}
	var v errs.ValidationError
	validateSettings(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := *c
	if in.NoticeDays != nil {
		out.NoticeDays = *in.NoticeDays
	}
	if in.ProxyLimit != nil {
		out.ProxyLimit = *in.ProxyLimit
	}
	if in.Delegation != nil {
		out.Delegation = *in.Delegation
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `UPDATE coops SET notice_days = $2, proxy_limit = $3, delegation = $4, delegation_within_class = $5,
			delegation_cap = $6 WHERE id = $1`
		if _, err := tx.ExecContext(ctx, q, c.ID, out.NoticeDays, out.ProxyLimit, out.Delegation.Enabled,
			out.Delegation.WithinClassOnly, out.Delegation.Cap); err != nil {
			return fmt.Errorf("coop: update settings: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: a.Actor(), Action: "coop.settings",
			Object: "coop:" + c.Slug, Payload: in})
		return err
	})
	s.cache.forget() // whether or not it committed: the next read decides
	if err != nil {
		return nil, err
	}
	return &out, nil
}
