// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// TestMigrationsMatch keeps the two engines' migrations in step: the same
// numbered files creating the same tables and columns.
func TestMigrationsMatch(t *testing.T) {
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(lite), len(pg))
	}
	words := regexp.MustCompile(`(?m)^\s*(CREATE TABLE \w+|CREATE INDEX \w+|\w+)\s`)
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, lite[i].Name, pg[i].Name)
		}
		a, b := words.FindAllString(lite[i].SQL, -1), words.FindAllString(pg[i].SQL, -1)
		if len(a) != len(b) {
			t.Errorf("%s: sqlite declares %d names, postgres %d", lite[i].Name, len(a), len(b))
			continue
		}
		for j := range a {
			if a[j] != b[j] {
				t.Errorf("%s: sqlite %q, postgres %q", lite[i].Name, a[j], b[j])
			}
		}
	}
}

func TestOpenMigratesOnce(t *testing.T) {
	cfg := storetest.Config(t)
	ctx := context.Background()
	for range 2 {
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		ms, _ := store.Migrations(db.Engine())
		if n != len(ms) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
		}
		db.Close()
	}
}

func TestInTxRollsBackAndMapsErrors(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_heads (chain, seq, hash) VALUES (1, 1, 'x')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	var n int
	db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_heads`).Scan(&n)
	if n != 0 {
		t.Errorf("rolled-back insert left %d rows", n)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		for range 2 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_heads (chain, seq, hash) VALUES (1, 1, 'x')`); err != nil {
				return err
			}
		}
		return nil
	})
	if !store.IsUniqueViolation(err) {
		t.Errorf("duplicate key: IsUniqueViolation(%v) = false", err)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, kind, account_id, created_at, expires_at) VALUES ('t', 'api', 999, $1, $1)`, "2026-01-01 00:00:00")
		return err
	})
	if !store.IsForeignKeyViolation(err) {
		t.Errorf("missing account: IsForeignKeyViolation(%v) = false", err)
	}
}

// TestCheckpointer: the writer never checkpoints, so a committed row
// reaches the database file, as a reader that ignores the WAL sees it,
// only through the checkpointer beside it.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "opencoop.db")
	db, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_heads (chain, seq, hash) VALUES (7, 1, 'x')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	file, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	file.SetMaxIdleConns(0) // a fresh connection each time: an immutable one caches pages
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := file.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_heads WHERE chain = 7`).Scan(&n)
		if err == nil && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the row never reached the database file (%d rows, %v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
