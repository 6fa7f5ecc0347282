// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package shares runs community share offers (RULES.md 3.4): applications, allotment, issue and withdrawal.
package shares

import (
	"context"
	"log/slog"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Service is the shares service; it moves money only through the ledger.
type Service struct {
	DB     *store.DB
	Coops  *coop.Service
	Ledger *ledger.Service
	Now    func() time.Time
}

// RunScheduler runs the package's periodic work every interval until ctx ends.
func (s *Service) RunScheduler(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	<-ctx.Done()
}

// OwnerExists tells the ledger whether offer:<id> exists in co-op coopID.
func (s *Service) OwnerExists(ctx context.Context, tx *store.Tx, coopID int64, owner string) error {
	return errs.Invalid("account", "there are no share offers yet")
}
