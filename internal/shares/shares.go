// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package shares runs community share offers (RULES.md 3.4): applications, allotment, issue and withdrawal.
//
// An offer sells whole shares of one stakeholder class at par. An
// application reserves shares × par from the applicant's ledger account to
// the offer's escrow account offer:<id> (a pending transfer); at the close
// the offer either fails (total applied below its minimum: every
// reservation voided) or allots (every application in full, or, above the
// maximum, scaled back by the offer's rule in whole shares, see [Allot]):
// each allotment is posted, the rest released, the shares are entered in
// the share register, applicants become members of the class, and the
// escrow moves to the co-op's capital, coop:reserves. After the lock-in a
// holder may ask for shares back; the notice runs, and the board
// (secretaries) approves — paid from coop:reserves, shares cancelled — or
// rejects, and may suspend withdrawals altogether by a recorded decision.
//
// Every change is one transaction with its audit event; money moves only
// through the ledger, inside that transaction. See docs/share-offers.md.
package shares

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// OwnerExists tells the ledger whether offer:<id> exists in co-op coopID:
// nil if it does, a *errs.ValidationError saying why not otherwise.
func (s *Service) OwnerExists(ctx context.Context, tx *store.Tx, coopID int64, owner string) error {
	id, ok := ledger.OwnerID(owner, "offer")
	if !ok {
		return errs.Invalid("account", fmt.Sprintf("%s is not a share offer's account", owner))
	}
	var q queryer = s.DB.Read()
	if tx != nil {
		q = tx
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM share_offers WHERE id = $1 AND coop_id = $2`, id, coopID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Invalid("account", fmt.Sprintf("there is no share offer %d in this co-op", id))
	}
	if err != nil {
		return fmt.Errorf("shares: find offer %d: %w", id, err)
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Owner is the ledger account of offer id's escrow.
func Owner(offerID int64) string { return fmt.Sprintf("offer:%d", offerID) }

// Capital is the ledger account that receives the money of issued shares
// and pays withdrawn ones.
const Capital = "coop:reserves"

// Ledger transfer kinds.
const (
	KindApplication = "share_application" // applicant → escrow, pending
	KindCapital     = "share_capital"     // escrow → capital at the close
	KindWithdrawal  = "share_withdrawal"  // capital → holder
)

func applicationTransfer(offerID, appID int64) string {
	return fmt.Sprintf("offer-%d-application-%d", offerID, appID)
}

func capitalTransfer(offerID int64) string { return fmt.Sprintf("offer-%d-capital", offerID) }

func withdrawalTransfer(id int64) string { return fmt.Sprintf("share-withdrawal-%d", id) }

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
