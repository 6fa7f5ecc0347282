// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// TestPrepared runs the prepared helpers as the plain calls would: inside
// and outside a write transaction, again after the statement is cached,
// with a rollback, with a bad text, from many goroutines and after Close.
func TestPrepared(t *testing.T) {
	ctx := t.Context()
	db := storetest.Open(t)
	const (
		insert = `INSERT INTO prep_t (id, name) VALUES ($1, $2)`
		read   = `SELECT name FROM prep_t WHERE id = $1`
		count  = `SELECT COUNT(*) FROM prep_t`
		all    = `SELECT id FROM prep_t ORDER BY id`
	)
	err := db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE prep_t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The first transaction runs the texts unprepared (SQLite prepares
	// them after it); the next ones use the cached statements.
	for i := int64(1); i <= 3; i++ {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecPrepared(ctx, insert, i, "n"); err != nil {
				return err
			}
			var name string
			if err := tx.QueryRowPrepared(ctx, read, i).Scan(&name); err != nil {
				return err
			}
			st, err := tx.PrepareCached(ctx, count)
			if err != nil {
				return err
			}
			defer st.Close()
			var n int64
			if err := st.QueryRowContext(ctx).Scan(&n); err != nil || n != i {
				t.Errorf("PrepareCached(count) in tx %d = %d, %v, want %d", i, n, err, i)
			}
			if name != "n" {
				t.Errorf("tx.QueryRowPrepared(%d) = %q, want %q", i, name, "n")
			}
			return nil
		})
		if err != nil {
			t.Fatalf("InTx %d: %v", i, err)
		}
	}
	rollback := errors.New("roll back")
	err = db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecPrepared(ctx, insert, 4, "gone"); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("InTx = %v, want %v", err, rollback)
	}
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecPrepared(ctx, insert, 1, "twice")
		return err
	})
	if !store.IsUniqueViolation(err) {
		t.Errorf("ExecPrepared of a taken id = %v, want a unique violation", err)
	}
	var n int
	if err := db.QueryRowPrepared(ctx, count).Scan(&n); err != nil || n != 3 {
		t.Errorf("QueryRowPrepared(count) = %d, %v, want 3, nil", n, err)
	}
	if err := db.QueryRowPrepared(ctx, read, 99).Scan(new(string)); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("QueryRowPrepared(missing) = %v, want %v", err, sql.ErrNoRows)
	}
	for range 2 {
		if err := db.QueryRowPrepared(ctx, `SELECT nothing FROM nowhere`).Scan(new(int)); err == nil {
			t.Error("QueryRowPrepared(bad text) = nil error")
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecPrepared(ctx, `UPDATE nowhere SET x = 1`)
			return err
		})
		if err == nil {
			t.Error("ExecPrepared(bad text) = nil error")
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				rows, err := db.QueryPrepared(ctx, all)
				if err != nil {
					t.Errorf("goroutine %d: QueryPrepared: %v", g, err)
					return
				}
				var ids []int64
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					ids = append(ids, id)
				}
				rows.Close()
				if len(ids) != 3 || rows.Err() != nil {
					t.Errorf("goroutine %d: QueryPrepared(all) = %v, %v, want 3 ids", g, ids, rows.Err())
					return
				}
			}
		})
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.QueryRowPrepared(context.Background(), count).Scan(&n); err == nil {
		t.Error("QueryRowPrepared after Close = nil error")
	}
}
