// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// The statements that write the books, shared by the engine (engine.go:
// Apply and Submit) and by commit (Resolve and Reverse, one entry each).
//
// Checking the no-overdraft rule on a batch's net effect is what an atomic
// batch means: nobody — no other transaction, no reader, no crash — ever
// sees the books between two transfers of one batch, so the invariant
// "no no-overdraft account is below zero counting pending debits" holds
// at every state that exists. A batch that pays a member and has her pay
// on in the same commit is therefore accepted, whatever order its
// transfers are listed in.

// lookupChunk bounds the values of one IN list.
const lookupChunk = 2000

// bulkParams bounds the parameters of one multi-row statement (100 journal
// rows): long enough to save round trips and statements, short enough
// that parsing it once per transaction stays cheap.
const bulkParams = 1600

// The multi-row statements below are the one place the ledger writes SQL
// per engine. SQLite finds a named or numbered parameter ("$7", "?7") by
// a linear search of the statement's parameter list — when preparing and
// again, for every parameter, when modernc binds it — so a statement of
// 8,000 "$n" parameters costs 8,000² steps; anonymous "?" parameters are
// bound by position at no such cost. PostgreSQL accepts only "$n". So
// these statements are built with param, which gives each engine its
// own, and every parameter is positional (none used twice). (STYLE.md
// asks for one query text for both engines; this is the measured
// exception.)
func param(tx *store.Tx, n int) string {
	if tx.Engine == store.Postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// stmts prepares each statement text once per transaction: a batch, or
// a group of requests committed together (group.go), runs the same few
// statements many times, and SQLite's parse is a good part of a small
// statement's cost. The preparation itself is the write pool's
// (store.Tx.PrepareCached), kept across transactions: a group of single
// transfers would otherwise parse its handful of texts again each time.
type stmts struct {
	tx *store.Tx
	m  map[string]*sql.Stmt
}

func newStmts(tx *store.Tx) *stmts { return &stmts{tx: tx, m: map[string]*sql.Stmt{}} }

func (sc *stmts) prep(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := sc.m[q]; ok {
		return st, nil
	}
	st, err := sc.tx.PrepareCached(ctx, q)
	if err != nil {
		return nil, err
	}
	sc.m[q] = st
	return st, nil
}

func (sc *stmts) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := sc.prep(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (sc *stmts) close() {
	for _, st := range sc.m {
		st.Close()
	}
}

// execRows runs a multi-row statement over n rows, as many at a time as
// bulkParams allows:
// text(k) is the statement for k rows, args(i) appends row i's
// parameters. Statements of the same size are prepared once. It returns
// the rows affected, per statement, to check.
func execRows(ctx context.Context, sc *stmts, n, params int, text func(k int) string, args func(dst []any, i int) []any,
	check func(start, k int, affected int64) error) error {
	per := bulkParams / params
	buf := make([]any, 0, per*params+2)
	var st *sql.Stmt
	lastK := 0
	for start := 0; start < n; start += per {
		k := min(per, n-start)
		if k != lastK {
			// Only the last statement of a long run differs in size:
			// its text is built, and looked up, once per size.
			var err error
			if st, err = sc.prep(ctx, text(k)); err != nil {
				return err
			}
			lastK = k
		}
		buf = buf[:0]
		for i := start; i < start+k; i++ {
			buf = args(buf, i)
		}
		res, err := st.ExecContext(ctx, buf...)
		if err != nil {
			return err
		}
		if check != nil {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if err := check(start, k, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// values returns k rows of params parameters each, numbered from first,
// as "($1, $2), ($3, $4)" (SQLite: "(?, ?), (?, ?)"), each parameter
// wrapped by wrap ("%s" for none).
func values(tx *store.Tx, k, params, first int, wrap string) string {
	var b strings.Builder
	n := first
	for i := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range params {
			if j > 0 {
				b.WriteString(", ")
			}
			if wrap == "%s" {
				b.WriteString(param(tx, n))
			} else {
				fmt.Fprintf(&b, wrap, param(tx, n))
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// entry is one journal row to write and what it does to its two accounts:
// posted moves from debit to credit, pending (negative to release) is
// added to both sides' pending sums.
type entry struct {
	t       *Transfer
	body    string
	posted  int64
	pending int64
}

type acctKey struct{ owner, unit string }

// sums are the four materialised totals of an account, or changes to them.
type sums struct{ dp, cp, dq, cq int64 }

// maxTotal bounds each of an account's four totals, so that no sum of
// amounts (each at most money.MaxAmount) can overflow int64 — SQLite would
// turn an overflowing integer into a float rather than fail.
const maxTotal = 1 << 62

const maxTotalSQL = "4611686018427387904"

// errRaced marks a unique violation on a transfer's id: a concurrent
// request with the same id committed first. Retrying the whole
// transaction turns it into a replay (or a plain conflict).
var errRaced = errors.New("ledger: raced with a request of the same id")

// commit writes es inside tx: opens the accounts they need, inserts the
// journal rows and applies their net effect to every account once,
// refusing the whole batch when a no-overdraft account would end below
// zero counting pending debits.
func (s *Service) commit(ctx context.Context, sc *stmts, c *coop.Coop, es []entry) error {
	keys := make([]acctKey, 0, 2*len(es))
	seen := make(map[acctKey]bool, 2*len(es))
	for _, e := range es {
		for _, k := range []acctKey{{e.t.Debit, e.t.Unit}, {e.t.Credit, e.t.Unit}} {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	ids, err := s.accounts(ctx, sc, c, keys)
	if err != nil {
		return err
	}
	delta := make(map[int64]*sums, len(ids))
	at := func(id int64) *sums {
		d := delta[id]
		if d == nil {
			d = &sums{}
			delta[id] = d
		}
		return d
	}
	for _, e := range es {
		d, cr := at(ids[acctKey{e.t.Debit, e.t.Unit}]), at(ids[acctKey{e.t.Credit, e.t.Unit}])
		d.dp += e.posted
		d.dq += e.pending
		cr.cp += e.posted
		cr.cq += e.pending
	}
	order := make([]int64, 0, len(delta))
	for id, d := range delta {
		if *d != (sums{}) {
			order = append(order, id)
		}
	}
	slices.Sort(order)
	if err := lockAccounts(ctx, sc, order); err != nil {
		return err
	}
	if err := s.insertTransfers(ctx, sc, c, es, ids); err != nil {
		return err
	}
	return s.applyDeltas(ctx, sc, order, delta, ids)
}

// lockAccounts takes the rows' locks in id order on PostgreSQL, before
// anything else of the batch is written, so two batches touching the
// same accounts queue rather than deadlock. FOR NO KEY UPDATE is the lock
// the UPDATE takes anyway; unlike FOR UPDATE it lets other transactions'
// journal rows reference the accounts meanwhile. SQLite has one writer
// at a time and no row locks.
func lockAccounts(ctx context.Context, sc *stmts, order []int64) error {
	tx := sc.tx
	if tx.Engine != store.Postgres {
		return nil
	}
	for start := 0; start < len(order); start += lookupChunk {
		part := order[start:min(start+lookupChunk, len(order))]
		args := []any{}
		q := `SELECT id FROM ledger_accounts WHERE id IN (` + placeholders(tx, &args, part) + `) ORDER BY id FOR NO KEY UPDATE`
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("ledger: lock accounts: %w", err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ledger: lock accounts: %w", err)
		}
	}
	return nil
}

// accounts returns the ids of c's accounts for keys, opening the missing
// ones. Every account but the outside world's refuses overdraft. A member
// account opens only for a member (in any state) of c, a bucket or offer
// account only for one its owning package knows.
func (s *Service) accounts(ctx context.Context, sc *stmts, c *coop.Coop, keys []acctKey) (map[acctKey]int64, error) {
	ids := make(map[acctKey]int64, len(keys))
	if err := s.findAccounts(ctx, sc, c, keys, ids); err != nil {
		return nil, err
	}
	var missing []acctKey
	for _, k := range keys {
		if _, ok := ids[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	bad, err := s.badOwners(ctx, sc, c, missing)
	if err != nil {
		return nil, err
	}
	for _, k := range missing {
		if err := bad[k.owner]; err != nil {
			return nil, err
		}
	}
	opened, _, err := s.openAccounts(ctx, sc, c, missing, nil)
	if err != nil {
		return nil, err
	}
	for k, id := range opened {
		ids[k] = id
	}
	return ids, nil
}

// openAccounts opens c's accounts for keys, each with the totals init
// gives it (nil: zero), and returns their ids and which of them this
// call opened. A concurrent transaction may have opened one meanwhile:
// its row is kept (PostgreSQL waits for it to commit first), and the
// caller moves its balances with an UPDATE instead.
func (s *Service) openAccounts(ctx context.Context, sc *stmts, c *coop.Coop, keys []acctKey, init func(acctKey) sums) (map[acctKey]int64, map[acctKey]bool, error) {
	tx := sc.tx
	// Open them in a fixed order, so two transactions opening the same
	// accounts on PostgreSQL wait for each other instead of deadlocking.
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b acctKey) int {
		return cmp.Or(strings.Compare(a.owner, b.owner), strings.Compare(a.unit, b.unit))
	})
	now := s.now()
	const cols = 10
	per := bulkParams / cols
	ids := make(map[acctKey]int64, len(keys))
	fresh := make(map[acctKey]bool, len(keys))
	args := make([]any, 0, per*cols)
	q := ""
	for start := 0; start < len(keys); start += per {
		part := keys[start:min(start+per, len(keys))]
		if start == 0 || len(part) < per {
			q = `INSERT INTO ledger_accounts (coop_id, owner, unit, no_overdraft, external, created_at,
				debits_posted, credits_posted, debits_pending, credits_pending) VALUES ` +
				values(tx, len(part), cols, 1, "%s") + ` ON CONFLICT (coop_id, owner, unit) DO NOTHING RETURNING id, owner, unit`
		}
		args = args[:0]
		for _, k := range part {
			external := k.owner == "external"
			var t sums
			if init != nil {
				t = init(k)
			}
			args = append(args, c.ID, k.owner, k.unit, !external, external, now, t.dp, t.cp, t.dq, t.cq)
		}
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("ledger: open accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			var k acctKey
			if err := rows.Scan(&id, &k.owner, &k.unit); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("ledger: open accounts: %w", err)
			}
			ids[k], fresh[k] = id, true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("ledger: open accounts: %w", err)
		}
	}
	if len(ids) < len(keys) {
		var rest []acctKey
		for _, k := range keys {
			if !fresh[k] {
				rest = append(rest, k)
			}
		}
		if err := s.findAccounts(ctx, sc, c, rest, ids); err != nil {
			return nil, nil, err
		}
		for _, k := range rest {
			if _, ok := ids[k]; !ok {
				return nil, nil, fmt.Errorf("ledger: account %s %s did not open", k.owner, k.unit)
			}
		}
	}
	return ids, fresh, nil
}

func (s *Service) findAccounts(ctx context.Context, sc *stmts, c *coop.Coop, keys []acctKey, ids map[acctKey]int64) error {
	tx := sc.tx
	owners := make([]string, 0, len(keys))
	dup := map[string]bool{}
	for _, k := range keys {
		if !dup[k.owner] {
			dup[k.owner] = true
			owners = append(owners, k.owner)
		}
	}
	want := make(map[acctKey]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	for start := 0; start < len(owners); start += lookupChunk {
		part := owners[start:min(start+lookupChunk, len(owners))]
		args := []any{c.ID}
		q := `SELECT id, owner, unit FROM ledger_accounts WHERE coop_id = ` + param(tx, 1) + ` AND owner IN (` + placeholders(tx, &args, part) + `)`
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("ledger: find accounts: %w", err)
		}
		for rows.Next() {
			var id int64
			var k acctKey
			if err := rows.Scan(&id, &k.owner, &k.unit); err != nil {
				rows.Close()
				return fmt.Errorf("ledger: find accounts: %w", err)
			}
			if want[k] {
				ids[k] = id
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ledger: find accounts: %w", err)
		}
	}
	return nil
}

// placeholders appends vals to args and returns their parameters,
// "$n, $n+1, …" ("?, ?, …" on SQLite: see param).
func placeholders[T any](tx *store.Tx, args *[]any, vals []T) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		*args = append(*args, v)
		b.WriteString(param(tx, len(*args)))
	}
	return b.String()
}

// badOwners says, for each owner among keys that no account may be
// opened for in c, why: a handle that is no member's, a bucket or offer
// that its package does not know.
func (s *Service) badOwners(ctx context.Context, sc *stmts, c *coop.Coop, keys []acctKey) (map[string]error, error) {
	tx := sc.tx
	bad := map[string]error{}
	var handles []string
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.owner] {
			continue
		}
		seen[k.owner] = true
		if h, ok := strings.CutPrefix(k.owner, "member:"); ok {
			handles = append(handles, h)
			continue
		}
		if err := s.ownerExists(ctx, tx, c, k.owner); err != nil {
			if _, ok := errors.AsType[*errs.ValidationError](err); !ok {
				return nil, err
			}
			bad[k.owner] = err
		}
	}
	found := make(map[string]bool, len(handles))
	for start := 0; start < len(handles); start += lookupChunk {
		part := handles[start:min(start+lookupChunk, len(handles))]
		args := []any{c.ID}
		q := `SELECT a.handle FROM members m JOIN accounts a ON a.id = m.account_id
			WHERE m.coop_id = ` + param(tx, 1) + ` AND a.handle IN (` + placeholders(tx, &args, part) + `)`
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("ledger: find members: %w", err)
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger: find members: %w", err)
			}
			found[h] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: find members: %w", err)
		}
	}
	for _, h := range handles {
		if !found[h] {
			bad["member:"+h] = errs.Invalid("account", fmt.Sprintf("%s is not a member of %s", h, c.Name))
		}
	}
	return bad, nil
}

func (s *Service) insertTransfers(ctx context.Context, sc *stmts, c *coop.Coop, es []entry, ids map[acctKey]int64) error {
	const cols = 16
	err := execRows(ctx, sc, len(es), cols, func(k int) string {
		return `INSERT INTO transfers (coop_id, id, action, debit_id, credit_id, amount, unit, kind, ref,
			pending_id, reverses, expires_at, batch, body, actor, at) VALUES ` + values(sc.tx, k, cols, 1, "%s")
	}, func(dst []any, i int) []any {
		e := es[i]
		t := e.t
		var pendingID, reverses sql.NullString
		if t.PendingID != "" {
			pendingID = sql.NullString{String: t.PendingID, Valid: true}
		}
		if t.Reverses != "" {
			reverses = sql.NullString{String: t.Reverses, Valid: true}
		}
		var exp sql.NullTime
		if t.ExpiresAt != nil {
			exp = sql.NullTime{Time: *t.ExpiresAt, Valid: true}
		}
		return append(dst, c.ID, t.ID, t.Action, ids[acctKey{t.Debit, t.Unit}], ids[acctKey{t.Credit, t.Unit}], t.Amount, t.Unit,
			t.Kind, t.Ref, pendingID, reverses, exp, t.Batch, e.body, t.Actor, t.At)
	}, nil)
	if store.IsUniqueViolation(err) {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "pending_id"):
			return fmt.Errorf("transfer %s was resolved already: %w: %w", es[0].t.PendingID, errs.ErrConflict, errRaced)
		case strings.Contains(msg, "reverses"):
			return fmt.Errorf("transfer %s was reversed already: %w: %w", es[0].t.Reverses, errs.ErrConflict, errRaced)
		}
		return fmt.Errorf("a transfer with this id was written meanwhile: %w: %w", errs.ErrConflict, errRaced)
	}
	if err != nil {
		return fmt.Errorf("ledger: write transfers: %w", err)
	}
	return nil
}

// applyDeltas adds delta to the accounts, each once, in id order. The
// no-overdraft rule sits in the UPDATE's WHERE clause, decided on the
// locked row, so two concurrent spenders cannot both pass; an account the
// UPDATE left alone is the one that would have been overdrawn.
func (s *Service) applyDeltas(ctx context.Context, sc *stmts, order []int64, delta map[int64]*sums, ids map[acctKey]int64) error {
	tx := sc.tx
	// The ids come twice: in d, and as a plain IN list, which makes
	// SQLite find each row by its key; given d alone, from a few hundred
	// rows on it scans the whole table and probes d instead.
	const cols = 6
	per := bulkParams / cols
	args := make([]any, 0, per*cols)
	for start := 0; start < len(order); start += per {
		part := order[start:min(start+per, len(order))]
		k := len(part)
		var in strings.Builder
		for i := range k {
			if i > 0 {
				in.WriteString(", ")
			}
			in.WriteString(param(tx, 5*k+i+1))
		}
		q := `WITH d (id, dp, cp, dq, cq) AS (VALUES ` + values(tx, k, 5, 1, "CAST(%s AS BIGINT)") + `)
			UPDATE ledger_accounts SET debits_posted = debits_posted + d.dp, credits_posted = credits_posted + d.cp,
				debits_pending = debits_pending + d.dq, credits_pending = credits_pending + d.cq
			FROM d WHERE ledger_accounts.id = d.id AND ledger_accounts.id IN (` + in.String() + `)
				AND (NOT no_overdraft OR credits_posted + d.cp - debits_posted - d.dp - debits_pending - d.dq >= 0)
				AND debits_posted + d.dp <= ` + maxTotalSQL + ` AND credits_posted + d.cp <= ` + maxTotalSQL + `
				AND debits_pending + d.dq <= ` + maxTotalSQL + ` AND credits_pending + d.cq <= ` + maxTotalSQL
		args = args[:0]
		for _, id := range part {
			d := delta[id]
			args = append(args, id, d.dp, d.cp, d.dq, d.cq)
		}
		for _, id := range part {
			args = append(args, id)
		}
		st, err := sc.prep(ctx, q)
		if err != nil {
			return fmt.Errorf("ledger: move balances: %w", err)
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("ledger: move balances: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(k) {
			names := make(map[int64]string, len(ids))
			for key, id := range ids {
				names[id] = key.owner + " (" + key.unit + ")"
			}
			return s.whoFailed(ctx, tx, part, delta, names)
		}
	}
	return nil
}

// whoFailed names the account a refused update would have overdrawn.
func (s *Service) whoFailed(ctx context.Context, tx *store.Tx, part []int64, delta map[int64]*sums, names map[int64]string) error {
	args := []any{}
	q := `SELECT id, no_overdraft, debits_posted, credits_posted, debits_pending, credits_pending FROM ledger_accounts
		WHERE id IN (` + placeholders(tx, &args, part) + `) ORDER BY id`
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("ledger: move balances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var noOverdraft bool
		var m sums
		if err := rows.Scan(&id, &noOverdraft, &m.dp, &m.cp, &m.dq, &m.cq); err != nil {
			return fmt.Errorf("ledger: move balances: %w", err)
		}
		d := delta[id]
		avail := m.cp + d.cp - m.dp - d.dp - m.dq - d.dq
		if noOverdraft && avail < 0 {
			return fmt.Errorf("%s has not enough available: %d short: %w", names[id], -avail, ErrInsufficient)
		}
		if m.dp+d.dp > maxTotal || m.cp+d.cp > maxTotal || m.dq+d.dq > maxTotal || m.cq+d.cq > maxTotal {
			return fmt.Errorf("%s would exceed the most an account can hold: %w", names[id], errs.ErrConflict)
		}
	}
	return fmt.Errorf("ledger: an account update was refused: %w", errs.ErrConflict)
}

// existing returns the stored transfers among ids, by id.
func (s *Service) existing(ctx context.Context, sc *stmts, coopID int64, ids []string) (map[string]stored, error) {
	tx := sc.tx
	out := map[string]stored{}
	for start := 0; start < len(ids); start += lookupChunk {
		part := ids[start:min(start+lookupChunk, len(ids))]
		args := []any{coopID}
		q := selectTransfer + ` WHERE t.coop_id = ` + param(tx, 1) + ` AND t.id IN (` + placeholders(tx, &args, part) + `)`
		rows, err := sc.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("ledger: look up transfers: %w", err)
		}
		for rows.Next() {
			t, err := scanTransfer(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger: look up transfers: %w", err)
			}
			out[t.ID] = t
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: look up transfers: %w", err)
		}
	}
	return out, nil
}
