// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxPrepared bounds each pool's cache of prepared statements. Callers pass
// constant texts, so the cache holds a few dozen; the bound only keeps a
// caller that builds texts (an IN list of n placeholders) from growing it
// forever: past it, texts are prepared per call as database/sql does.
const maxPrepared = 512

// stmtCache keeps one prepared statement per SQL text for one pool. On
// SQLite preparing (parsing and planning) costs more than running a short
// query, and the driver keeps no cache of its own. A [sql.Stmt] on a pool
// prepares itself once on each connection it meets and is safe for
// concurrent use. PostgreSQL needs none: pgx's stdlib driver already
// caches prepared statements per connection by text, so there the cache
// is off (nil) and the helpers run the plain pool methods.
//
// Preparing on a pool takes one of its connections. SQLite's write pool
// has one, which a transaction asking for a statement holds: preparing
// then would wait for itself. So the write pool's cache (later) notes a
// new text and prepares it only after the transaction ends (prepareLater);
// until then the text runs unprepared, as before.
type stmtCache struct {
	pool    *sql.DB
	later   bool
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

func newStmtCache(pool *sql.DB, later bool) *stmtCache {
	return &stmtCache{pool: pool, later: later, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// errCacheFull and errCacheClosed make stmt fall back to the plain pool
// methods.
var (
	errCacheFull   = errors.New("store: statement cache full")
	errCacheClosed = errors.New("store: statement cache closed")
	errNotYet      = errors.New("store: statement prepared after the transaction")
)

// stmt returns q prepared on the pool, preparing it on first use.
func (c *stmtCache) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[q]
	full, closed := len(c.m) >= maxPrepared, c.closed
	c.mu.Unlock()
	switch {
	case ok:
		return st, nil
	case closed:
		return nil, errCacheClosed
	case full:
		return nil, errCacheFull
	case c.later:
		c.mu.Lock()
		if len(c.pending) < maxPrepared {
			c.pending[q] = true
		}
		c.mu.Unlock()
		return nil, errNotYet
	}
	return c.prepare(ctx, q)
}

// prepareLater prepares the texts noted while a transaction held the
// write connection. It runs after the transaction ends; a failure only
// leaves the text unprepared.
func (c *stmtCache) prepareLater(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		c.prepare(ctx, q)
	}
}

func (c *stmtCache) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	// Prepare outside the lock: it may wait for a connection. A racing
	// caller may prepare the same text; the first stored wins.
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.m) >= maxPrepared {
		st.Close()
		return nil, errCacheFull
	}
	if old, ok := c.m[q]; ok {
		st.Close()
		return old, nil
	}
	c.m[q] = st
	return st, nil
}

// close closes every statement; later calls fall back to the pool, which
// is closed too and answers with its own error.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// QueryRowPrepared is [sql.DB.QueryRowContext] on the read pool with q
// prepared once per pool and kept until [DB.Close]. q must be a constant
// text (placeholders, never values). Preparing errors are reported by
// [sql.Row.Scan], as for the unprepared call.
func (db *DB) QueryRowPrepared(ctx context.Context, q string, args ...any) *sql.Row {
	if db.readStmts != nil {
		if st, err := db.readStmts.stmt(ctx, q); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	// Unprepared, the query reports whatever made preparing fail.
	return db.read.QueryRowContext(ctx, q, args...)
}

// QueryPrepared is [sql.DB.QueryContext] on the read pool with q prepared
// once per pool; q must be a constant text.
func (db *DB) QueryPrepared(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if db.readStmts != nil {
		if st, err := db.readStmts.stmt(ctx, q); err == nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return db.read.QueryContext(ctx, q, args...)
}

// prepared returns q prepared on the write pool and bound to tx, or nil
// when the statement cache is off or cannot take q.
func (tx *Tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	st, err := tx.stmts.stmt(ctx, q)
	if err != nil {
		return nil
	}
	// The transaction's own connection reuses the pool statement's
	// preparation on it; the bound copy closes with the transaction.
	return tx.StmtContext(ctx, st)
}

// PrepareCached is [sql.Tx.PrepareContext] for a text run in many
// transactions: the statement is prepared once per write pool and bound to
// tx; closing it (or the transaction ending) leaves the pool's preparation
// for the next transaction. Texts built per call (an IN list of n
// placeholders) may use it too: past the cache's bound they are prepared
// per call. As with PrepareContext, run one statement at a time per text:
// two statements of one text in one transaction share a driver statement.
func (tx *Tx) PrepareCached(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := tx.prepared(ctx, q); st != nil {
		return st, nil
	}
	return tx.PrepareContext(ctx, q)
}

// QueryRowPrepared is [sql.Tx.QueryRowContext] with q prepared once per
// write pool and kept until [DB.Close]; q must be a constant text. Tx has
// no QueryPrepared: the statements of one transaction share one driver
// statement per text, so a second run of a text while rows of the first
// are open would reset them.
func (tx *Tx) QueryRowPrepared(ctx context.Context, q string, args ...any) *sql.Row {
	if st := tx.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

// ExecPrepared is [sql.Tx.ExecContext] with q prepared once per write pool;
// q must be a constant text.
func (tx *Tx) ExecPrepared(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := tx.prepared(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}
