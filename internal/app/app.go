// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package app builds one instance's domain services. The faces (api, web,
// cli) and the server all take the same [Services], so a new domain service
// is added in one place.
package app

import (
	"log/slog"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/budget"
	"opencoop/internal/coop"
	"opencoop/internal/govern"
	"opencoop/internal/ledger"
	"opencoop/internal/meeting"
	"opencoop/internal/pool"
	"opencoop/internal/shares"
	"opencoop/internal/store"
)

// Services are the domain services of one instance and the settings its
// faces share.
type Services struct {
	DB     *store.DB
	Auth   *auth.Service
	Coops  *coop.Service
	Govern *govern.Service
	// Meetings keeps general meetings; Govern asks it about resolutions.
	Meetings *meeting.Service
	// Ledger keeps the books (RULES.md 3.1); Pool, Budget and Shares move
	// money through it by a co-op's rules (RULES.md 3.2–3.4).
	Ledger *ledger.Service
	Pool   *pool.Service
	Budget *budget.Service
	Shares *shares.Service
	Logger *slog.Logger
	// BaseURL is the public address, e.g. http://127.0.0.1:8080, for
	// invitation links.
	BaseURL string
	// SecureCookies marks session cookies Secure (behind HTTPS).
	SecureCookies bool
}

// New builds the services on db. now is the clock (time.Now in
// production); ballotKey keys secret ballots' voter tags and must not be
// kept in the database.
func New(db *store.DB, now func() time.Time, ballotKey []byte, logger *slog.Logger, baseURL string) *Services {
	coops := &coop.Service{DB: db, Now: now}
	gov := &govern.Service{DB: db, Coops: coops, Now: now, BallotKey: ballotKey}
	meetings := &meeting.Service{DB: db, Coops: coops, Govern: gov, Now: now}
	gov.Meetings = meetings
	books := &ledger.Service{DB: db, Coops: coops, Now: now}
	budgets := &budget.Service{DB: db, Coops: coops, Ledger: books, Now: now}
	offers := &shares.Service{DB: db, Coops: coops, Ledger: books, Now: now}
	books.Owners = map[string]ledger.OwnerCheck{"bucket": budgets.OwnerExists, "offer": offers.OwnerExists}
	return &Services{
		DB:       db,
		Auth:     auth.NewService(db, now),
		Coops:    coops,
		Govern:   gov,
		Meetings: meetings,
		Ledger:   books,
		Pool:     &pool.Service{DB: db, Coops: coops, Ledger: books, Now: now},
		Budget:   budgets,
		Shares:   offers,
		Logger:   logger,
		BaseURL:  baseURL,
	}
}
