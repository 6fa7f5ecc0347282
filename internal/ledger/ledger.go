// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package ledger is a co-op's double-entry books (RULES.md 3.1): accounts
// per owner and unit, and an append-only journal of transfers — posted at
// once, or pending and later posted, voided or expired, each once — with
// client ids that make every request safe to repeat. Balances are
// materialised beside the journal in the same transaction, and Check
// replays the journal to prove them.
//
// The domain services that move money by a co-op's rules (pooling, budget
// rounds, share offers) call [Service.Apply] inside their own transaction;
// members and treasurers go through [Service.Submit], which checks who may
// move what.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/money"
	"opencoop/internal/store"
)

// Actions of the journal.
const (
	ActTransfer = "transfer" // posted at once
	ActPending  = "pending"  // reserves the amount
	ActPost     = "post"     // settles a pending transfer (up to its amount)
	ActVoid     = "void"     // releases a pending transfer
	ActExpire   = "expire"   // releases a pending transfer whose time ran out
	ActReverse  = "reverse"  // undoes a posted transfer
)

// Account is one account of a co-op's books. Balance = credits posted −
// debits posted; Available = Balance − pending debits (RULES.md 3.1).
type Account struct {
	ID             int64  `json:"id"`
	Owner          string `json:"owner"`
	Unit           string `json:"unit"`
	NoOverdraft    bool   `json:"no_overdraft"`
	External       bool   `json:"external"`
	Balance        int64  `json:"balance"`
	Available      int64  `json:"available"`
	DebitsPending  int64  `json:"debits_pending"`
	CreditsPending int64  `json:"credits_pending"`
}

// Transfer is one journal entry.
type Transfer struct {
	ID        string     `json:"id"`
	Action    string     `json:"action"`
	Debit     string     `json:"debit"`
	Credit    string     `json:"credit"`
	Amount    int64      `json:"amount"`
	Unit      string     `json:"unit"`
	Kind      string     `json:"kind"`
	Ref       string     `json:"ref,omitempty"`
	PendingID string     `json:"pending_id,omitempty"`
	Reverses  string     `json:"reverses,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Batch     string     `json:"batch,omitempty"`
	Actor     string     `json:"actor"`
	At        time.Time  `json:"at"`
	// State of a pending transfer: pending, posted, voided or expired
	// (empty for the others).
	State string `json:"state,omitempty"`
}

// Request asks for one transfer. ID is the client's idempotency key: a
// replay with the same content returns the original, other content under
// the same ID is refused. Timeout (seconds, pending only) makes the
// reservation expire.
type Request struct {
	ID      string `json:"id"`
	Debit   string `json:"debit"`
	Credit  string `json:"credit"`
	Amount  int64  `json:"amount"`
	Unit    string `json:"unit"`
	Kind    string `json:"kind"`
	Ref     string `json:"ref,omitempty"`
	Pending bool   `json:"pending,omitempty"`
	Timeout int64  `json:"timeout,omitempty"`
}

// checkID says what is wrong with a client id, or "". The suffixes
// :post, :void and :expire are kept for the entries that resolve a
// pending transfer ("<id>:post"), so that no client can take the id of a
// resolution that has not happened yet and so block it.
func checkID(id string) string {
	if !validID(id) {
		return "give a client id of 1 to 100 letters, digits or . _ : -"
	}
	for _, a := range []string{ActPost, ActVoid, ActExpire} {
		if strings.HasSuffix(id, ":"+a) {
			return "ids ending in :post, :void or :expire name the resolutions of pending transfers; choose another"
		}
	}
	return ""
}

// ValidOwner reports whether o names an account owner: member:<handle>,
// coop:pool|foundation|reserves|users_pool|common, bucket:<id>,
// offer:<id> or external (the outside world).
func ValidOwner(o string) bool { return validOwner(o) }

func (r *Request) validate(coopUnit string) error {
	var v errs.ValidationError
	if err := checkID(r.ID); err != "" {
		v.Add("id", err)
	}
	if !ValidOwner(r.Debit) {
		v.Add("debit", "name an account: member:<handle>, coop:pool, coop:foundation, coop:reserves, bucket:<id>, offer:<id> or external")
	}
	if !ValidOwner(r.Credit) {
		v.Add("credit", "name an account: member:<handle>, coop:pool, coop:foundation, coop:reserves, bucket:<id>, offer:<id> or external")
	}
	if r.Debit == r.Credit && r.Debit != "" {
		v.Add("credit", "debit and credit must be different accounts")
	}
	if err := money.CheckAmount(r.Amount); err != nil {
		v.Add("amount", fmt.Sprintf("give a whole number of minor units from 1 to %d", int64(money.MaxAmount)))
	}
	if r.Unit == "" {
		r.Unit = coopUnit
	}
	if !money.ValidUnit(r.Unit) {
		v.Add("unit", "give a unit code such as EUR or HOURS")
	}
	if !validKind(r.Kind) {
		v.Add("kind", "give a kind: a lower-case word such as payment, income or refund")
	}
	if len(r.Ref) > 200 {
		v.Add("ref", "at most 200 characters")
	}
	if r.Timeout < 0 || r.Timeout > 366*24*3600 || (r.Timeout != 0 && !r.Pending) {
		v.Add("timeout", "a pending transfer may expire after 1 second to a year")
	}
	return v.Err()
}

// Service keeps the books of every co-op.
type Service struct {
	DB    *store.DB
	Coops *coop.Service
	Now   func() time.Time
	// Owners says, per owner prefix ("bucket", "offer"), whether such an
	// owner exists in a co-op; the ledger opens no account for one that
	// does not. app wires in the packages that own them.
	Owners map[string]OwnerCheck

	group group // Submit's group commit (group.go)
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Submit applies reqs for a signed-in caller as one atomic batch, with
// the audit event: a member may debit only her own account, a treasurer
// also the co-op's accounts and the outside world; bucket and offer
// accounts move only by their rules. created is false when every request
// was a replay (nothing new written). Concurrent calls share a commit
// (group.go); who the caller is in the co-op is read in that same
// transaction.
func (s *Service) Submit(ctx context.Context, c *coop.Coop, a auth.Account, reqs []Request) (out []Transfer, created bool, err error) {
	if len(reqs) == 0 || len(reqs) > MaxBatch {
		return nil, false, errs.Invalid("transfers", fmt.Sprintf("give 1 to %d transfers", MaxBatch))
	}
	out, created, err = s.applyGrouped(ctx, c, a, reqs)
	if errors.Is(err, errRaced) {
		// A concurrent transaction wrote one of the group's ids first
		// (PostgreSQL): run again alone, to answer as for a replay.
		err = s.inTx(ctx, func(tx *store.Tx) error {
			sc := newStmts(tx)
			defer sc.close()
			j := &job{c: c, accountID: a.ID, reqs: reqs}
			if err := s.applyJobs(ctx, sc, []*job{j}); err != nil {
				return err
			}
			out, created = j.out, j.created
			return j.err
		})
	}
	return out, created, err
}

// inTx runs fn in a write transaction, once more if it lost a race to a
// concurrent request with the same id (PostgreSQL): the second run finds
// the winner's transfer and answers as for a replay.
func (s *Service) inTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	err := s.DB.InTx(ctx, fn)
	if errors.Is(err, errRaced) {
		err = s.DB.InTx(ctx, fn)
	}
	return err
}

// MaxBatch is the most transfers one batch may hold.
const MaxBatch = 10000

func prefix(err error, i, n int) error {
	var v *errs.ValidationError
	if n == 1 || !errors.As(err, &v) {
		return err
	}
	out := &errs.ValidationError{}
	for f, msg := range v.Fields {
		out.Add(fmt.Sprintf("transfers[%d].%s", i, f), msg)
	}
	return out
}

// Apply writes reqs inside tx as one batch, for the services that move
// money by a co-op's rules; it checks the requests but not who asks. A
// batch whose every request was already applied with the same content is
// a replay: its transfers come back and created is false. A batch that
// mixes new requests with earlier ones is refused (errs.ErrConflict), and
// so is one that would take a no-overdraft account below zero by its net
// effect (ErrInsufficient; see write.go for why the net effect is the
// right measure of an atomic batch). Apply writes one audit event for the
// batch.
func (s *Service) Apply(ctx context.Context, tx *store.Tx, c *coop.Coop, actor string, reqs []Request) ([]Transfer, bool, error) {
	sc := newStmts(tx)
	defer sc.close()
	j := &job{c: c, actor: actor, reqs: reqs}
	if err := s.applyJobs(ctx, sc, []*job{j}); err != nil {
		return nil, false, err
	}
	return j.out, j.created, j.err
}

// body is the canonical content a replay must repeat: r as
// encoding/json writes it (the journal's body column holds it), written
// out by hand since a budget round makes 100,000 of them at once. A test
// holds it to json.Marshal.
func (r *Request) body() string {
	b := make([]byte, 0, 96+len(r.ID)+len(r.Debit)+len(r.Credit)+len(r.Ref))
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"debit":`...)
	b = appendJSONString(b, r.Debit)
	b = append(b, `,"credit":`...)
	b = appendJSONString(b, r.Credit)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, r.Amount, 10)
	b = append(b, `,"unit":`...)
	b = appendJSONString(b, r.Unit)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, r.Kind)
	if r.Ref != "" {
		b = append(b, `,"ref":`...)
		b = appendJSONString(b, r.Ref)
	}
	if r.Pending {
		b = append(b, `,"pending":true`...)
	}
	if r.Timeout != 0 {
		b = append(b, `,"timeout":`...)
		b = strconv.AppendInt(b, r.Timeout, 10)
	}
	b = append(b, '}')
	return string(b)
}

// OwnerID returns the id of an owner "<kind>:<id>" ("bucket:12" for kind
// "bucket"), or false if owner is not one of kind with a positive id.
func OwnerID(owner, kind string) (int64, bool) {
	num, ok := strings.CutPrefix(owner, kind+":")
	id, err := strconv.ParseInt(num, 10, 64)
	return id, ok && err == nil && id > 0
}

// OwnerCheck returns nil if owner (e.g. "bucket:12") exists in co-op
// coopID, and an error that says why not otherwise.
type OwnerCheck func(ctx context.Context, tx *store.Tx, coopID int64, owner string) error

func (s *Service) ownerExists(ctx context.Context, tx *store.Tx, c *coop.Coop, owner string) error {
	p, _, ok := strings.Cut(owner, ":")
	if !ok || p == "member" || p == "coop" {
		return nil
	}
	check, ok := s.Owners[p]
	if !ok {
		return errs.Invalid("account", fmt.Sprintf("there are no %s accounts yet", p))
	}
	return check(ctx, tx, c.ID, owner)
}

// ErrInsufficient is an overdraft refused; it is a conflict with the
// books as they stand.
var ErrInsufficient = fmt.Errorf("insufficient funds: %w", errs.ErrConflict)

type stored struct {
	Transfer
	body string
}

const selectTransfer = `SELECT t.id, t.action, d.owner, cr.owner, t.amount, t.unit, t.kind, t.ref, COALESCE(t.pending_id, ''),
		COALESCE(t.reverses, ''), t.expires_at, t.batch, t.actor, t.at, t.body,
		COALESCE((SELECT r.action FROM transfers r WHERE r.coop_id = t.coop_id AND r.pending_id = t.id), '')
	FROM transfers t JOIN ledger_accounts d ON d.id = t.debit_id JOIN ledger_accounts cr ON cr.id = t.credit_id`

func scanTransfer(row interface{ Scan(...any) error }) (stored, error) {
	var t stored
	var exp sql.NullTime
	var resolved string
	err := row.Scan(&t.ID, &t.Action, &t.Debit, &t.Credit, &t.Amount, &t.Unit, &t.Kind, &t.Ref, &t.PendingID,
		&t.Reverses, &exp, &t.Batch, &t.Actor, &t.At, &t.body, &resolved)
	t.At = t.At.UTC()
	if exp.Valid {
		e := exp.Time.UTC()
		t.ExpiresAt = &e
	}
	if t.Action == ActPending {
		t.State = map[string]string{"": "pending", ActPost: "posted", ActVoid: "voided", ActExpire: "expired"}[resolved]
	}
	return t, err
}

func (s *Service) byID(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, coopID int64, id string) (stored, error) {
	t, err := scanTransfer(q.QueryRowContext(ctx, selectTransfer+` WHERE t.coop_id = $1 AND t.id = $2`, coopID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("no transfer %q: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("ledger: load transfer: %w", err)
	}
	return t, nil
}
