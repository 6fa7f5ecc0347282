// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package pool splits a co-op's income by its pooling rule (RULES.md 3.2)
// and runs the periodic pools and levies. A rule is a preset — enspiral,
// marketplace, solidarity_levy — or a custom tree of shares in basis
// points, split by largest remainder at every node so that every split
// sums exactly to its input. Money moves only through the ledger, each
// income or monthly run as one atomic batch whose transfer ids derive from
// the income's id or the month, so a retry or a second run posts nothing
// twice.
package pool

import (
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

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }
