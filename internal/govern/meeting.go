// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"database/sql"

	"opencoop/internal/record"
	"opencoop/internal/store"
)

// Querier is what reading a proposal needs: a transaction or the read pool.
type Querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Meetings is what govern asks of general meetings about a resolution, a
// proposal with MeetingID set (RULES.md 2.5, 2.6). The meeting package
// implements it; app wires it in.
type Meetings interface {
	// MayCast returns nil if member may cast or change her ballot on
	// resolution p now (remote voting open, or present in session), and
	// an error that says why not otherwise.
	MayCast(ctx context.Context, tx *store.Tx, p *Proposal, member int64) error
	// Extend adds to rec what the meeting decided besides ballots: the
	// proxies (directed ones as ballots, discretionary ones as proposal
	// delegations of kind "proxy"), the show-of-hands totals and the
	// meeting's quorum. It is called when the resolution closes and again
	// whenever its record is exported, so it must read only what is fixed
	// once the meeting has closed.
	Extend(ctx context.Context, q Querier, p *Proposal, rec *record.Record) error
}
