// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"path/filepath"
	"testing"
)

// TestStmtCacheKeeps checks that SQLite's pools keep a text prepared once,
// the write pool's from after the transaction that first ran it, and that
// Close closes them all.
func TestStmtCacheKeeps(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "opencoop.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func(c *stmtCache) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.m)
	}
	const q = `SELECT COUNT(*) FROM schema_migrations WHERE version > $1`
	for range 3 {
		if err := db.QueryRowPrepared(ctx, q, 0).Scan(new(int)); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(tx *Tx) error { return tx.QueryRowPrepared(ctx, q, 0).Scan(new(int)) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if r, w := size(db.readStmts), size(db.writeStmts); r != 1 || w != 1 {
		t.Errorf("after 3 runs: %d read and %d write statements, want 1 and 1", r, w)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if r, w := size(db.readStmts), size(db.writeStmts); r != 0 || w != 0 {
		t.Errorf("after Close: %d read and %d write statements, want 0 and 0", r, w)
	}
}
