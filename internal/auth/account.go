// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package auth keeps accounts, their argon2id passwords, browser sessions
// and API bearer tokens.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Account is a person who can sign in.
type Account struct {
	ID        int64     `json:"id"`
	Handle    string    `json:"handle"`
	Name      string    `json:"name"`
	Email     string    `json:"-"`
	IsAdmin   bool      `json:"is_admin"`
	CreatedAt time.Time `json:"created_at"`
}

// Actor names the account in audit events.
func (a Account) Actor() string { return fmt.Sprintf("account:%d", a.ID) }

// Service manages accounts and their credentials.
type Service struct {
	DB  *store.DB
	Now func() time.Time
	// SessionTTL and TokenTTL bound browser sessions and API tokens.
	SessionTTL time.Duration
	TokenTTL   time.Duration
}

// NewService returns a Service with the default lifetimes: 30 days for a
// browser session, a year for an API token.
func NewService(db *store.DB, now func() time.Time) *Service {
	return &Service{DB: db, Now: now, SessionTTL: 30 * 24 * time.Hour, TokenTTL: 365 * 24 * time.Hour}
}

// NewAccount is a sign-up request.
type NewAccount struct {
	Handle   string `json:"handle"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

var handleRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,31}$`)

// ValidHandle reports whether h is a well-formed handle: 2 to 32 lower-case
// letters, digits, '-' or '_', starting with a letter or digit.
func ValidHandle(h string) bool { return handleRE.MatchString(h) }

func (n *NewAccount) validate() error {
	var v errs.ValidationError
	n.Handle = strings.ToLower(strings.TrimSpace(n.Handle))
	n.Name = strings.TrimSpace(n.Name)
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	if !ValidHandle(n.Handle) {
		v.Add("handle", "use 2 to 32 lower-case letters, digits, '-' or '_'")
	}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 100 {
		v.Add("name", "give a name of 1 to 100 characters")
	}
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		v.Add("email", "give a valid e-mail address")
	}
	if utf8.RuneCountInString(n.Password) < 8 || len(n.Password) > 1024 {
		v.Add("password", "use at least 8 characters (at most 1024 bytes)")
	}
	return v.Err()
}

// CreateAccount signs a person up. The first account of an instance is its
// admin. It returns a *errs.ValidationError for bad fields and
// errs.ErrConflict when the handle or e-mail is taken.
func (s *Service) CreateAccount(ctx context.Context, n NewAccount) (Account, error) {
	if err := n.validate(); err != nil {
		return Account{}, err
	}
	hash := HashPassword(n.Password)
	a := Account{Handle: n.Handle, Name: n.Name, Email: n.Email, CreatedAt: s.Now().UTC().Truncate(time.Microsecond)}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		const q = `INSERT INTO accounts (handle, name, email, password_hash, is_admin, created_at)
			VALUES ($1, $2, $3, $4, NOT EXISTS (SELECT 1 FROM accounts), $5)
			RETURNING id, is_admin`
		if err := tx.QueryRowContext(ctx, q, a.Handle, a.Name, a.Email, hash, a.CreatedAt).Scan(&a.ID, &a.IsAdmin); err != nil {
			if store.IsUniqueViolation(err) {
				if strings.Contains(err.Error(), "email") {
					return errs.Invalid("email", "an account with this e-mail exists already")
				}
				return fmt.Errorf("the handle %q is taken: %w", a.Handle, errs.ErrConflict)
			}
			return fmt.Errorf("auth: create account: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: a.CreatedAt, Actor: a.Actor(), Action: "account.created",
			Object: a.Actor(), Payload: map[string]any{"handle": a.Handle, "admin": a.IsAdmin}})
		return err
	})
	return a, err
}

const selectAccount = `SELECT id, handle, name, email, is_admin, created_at FROM accounts`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Handle, &a.Name, &a.Email, &a.IsAdmin, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// AccountByHandle returns the account with handle h, or errs.ErrNotFound.
func (s *Service) AccountByHandle(ctx context.Context, h string) (Account, error) {
	a, err := scanAccount(s.DB.Read().QueryRowContext(ctx, selectAccount+` WHERE handle = $1`, strings.ToLower(h)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("no account %q: %w", h, errs.ErrNotFound)
	}
	return a, err
}

// A dummy hash checked when a handle is unknown, so that the time a failed
// sign-in takes does not tell whether the account exists.
var dummyHash = HashPassword("opencoop-dummy-password")

// Kind says what a token is for.
type Kind string

// The token kinds.
const (
	Session Kind = "session" // a browser session cookie
	API     Kind = "api"     // a bearer token
)

// SignIn checks a handle and password and issues a new token of kind k. A
// wrong handle or password is errs.ErrUnauthenticated, the same for both.
func (s *Service) SignIn(ctx context.Context, handle, password string, k Kind) (string, Account, error) {
	var hash string
	a, err := s.AccountByHandle(ctx, handle)
	if err == nil {
		err = s.DB.Read().QueryRowContext(ctx, `SELECT password_hash FROM accounts WHERE id = $1`, a.ID).Scan(&hash)
	}
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", Account{}, err
	}
	if hash == "" {
		CheckPassword(dummyHash, password)
		return "", Account{}, fmt.Errorf("wrong handle or password: %w", errs.ErrUnauthenticated)
	}
	if ok, err := CheckPassword(hash, password); err != nil || !ok {
		return "", Account{}, fmt.Errorf("wrong handle or password: %w", errs.ErrUnauthenticated)
	}
	tok, err := s.Issue(ctx, a, k)
	return tok, a, err
}

// Issue creates a new token of kind k for a. Only the token's SHA-256 is
// stored: a copy of the database cannot be used to sign in.
func (s *Service) Issue(ctx context.Context, a Account, k Kind) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now().UTC().Truncate(time.Microsecond)
	ttl := s.SessionTTL
	if k == API {
		ttl = s.TokenTTL
	}
	err := s.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, kind, account_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, tokenHash(tok), string(k), a.ID, now, now.Add(ttl))
		if err != nil {
			return fmt.Errorf("auth: issue token: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: a.Actor(), Action: "account.signed_in",
			Object: a.Actor(), Payload: map[string]any{"kind": k}})
		return err
	})
	return tok, err
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the account a live token of kind k belongs to, or
// errs.ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, tok string, k Kind) (Account, error) {
	if tok == "" || len(tok) > 100 {
		return Account{}, errs.ErrUnauthenticated
	}
	const q = `SELECT a.id, a.handle, a.name, a.email, a.is_admin, a.created_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1 AND s.kind = $2 AND s.expires_at > $3`
	a, err := scanAccount(s.DB.QueryRowPrepared(ctx, q, tokenHash(tok), string(k), s.Now().UTC()))
	if errors.Is(err, sql.ErrNoRows) {
		return a, errs.ErrUnauthenticated
	}
	if err != nil {
		return a, fmt.Errorf("auth: authenticate: %w", err)
	}
	return a, nil
}

// SignOut ends the session or token tok. Ending an unknown token is no error.
func (s *Service) SignOut(ctx context.Context, tok string) error {
	return s.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(tok)); err != nil {
			return fmt.Errorf("auth: sign out: %w", err)
		}
		return nil
	})
}
