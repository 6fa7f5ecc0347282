// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package storetest opens a fresh, migrated store for one test: SQLite in the
// test's temporary folder, or, when OPENCOOP_TEST_POSTGRES holds a URL, a new
// PostgreSQL schema that is dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"opencoop/internal/store"
)

// EnvPostgres names the variable that switches tests to PostgreSQL.
const EnvPostgres = "OPENCOOP_TEST_POSTGRES"

// Config returns the store configuration of a fresh database for t, creating
// the PostgreSQL schema when needed.
func Config(t testing.TB) store.Config {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		return store.Config{Path: filepath.Join(t.TempDir(), "opencoop.db")}
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return store.Config{URL: u.String()}
}

// Open returns a fresh migrated store, closed when t ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), Config(t))
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
