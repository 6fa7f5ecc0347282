// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Engine names a database engine.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Errors a domain package maps to its own.
var (
	// ErrNotFound wraps sql.ErrNoRows.
	ErrNotFound = fmt.Errorf("store: not found: %w", sql.ErrNoRows)
	// ErrSchemaNewer means the database was migrated by a newer opencoop.
	ErrSchemaNewer = errors.New("store: database schema is newer than this program")
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL; empty means SQLite at Path.
	URL string
	// Path is the SQLite file.
	Path string
	// Logger receives migration messages; nil discards them.
	Logger *slog.Logger
}

// DB is an open database: a write pool, a read pool (the same pool on
// PostgreSQL) and the engine's dialect.
type DB struct {
	write  *sql.DB
	read   *sql.DB
	engine Engine
	closed func() error
	// readStmts and writeStmts cache prepared statements per pool; nil
	// where the driver caches them itself (PostgreSQL).
	readStmts, writeStmts *stmtCache
}

// Open opens the database, checks it answers and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var db *DB
	var err error
	if cfg.URL != "" {
		db, err = openPostgres(ctx, cfg.URL)
	} else {
		db, err = openSQLite(ctx, cfg.Path)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx, logger); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Engine reports which engine db runs on.
func (db *DB) Engine() Engine { return db.engine }

// Close closes the cached prepared statements and both pools.
func (db *DB) Close() error {
	var errs []error
	for _, c := range []*stmtCache{db.readStmts, db.writeStmts} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(append(errs, db.closed())...)
}

// Read returns the read pool, for queries outside a write transaction.
func (db *DB) Read() *sql.DB { return db.read }

// Tx is a write transaction. Domain packages take it as an explicit argument
// so that a change and its audit event share one commit.
type Tx struct {
	*sql.Tx
	Engine Engine
	stmts  *stmtCache // the write pool's; nil: none
}

// InTx runs fn in a write transaction and commits if fn returns nil. The
// transaction is not cancelled with ctx: a client that hangs up mid-request
// must not turn a change into a rollback after the answer was decided.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	ctx = context.WithoutCancel(ctx)
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, Engine: db.engine, stmts: db.writeStmts}
	if db.writeStmts != nil {
		// Once the write connection is free again.
		defer db.writeStmts.prepareLater(ctx)
	}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in a read-only transaction on the read pool, so a long
// report sees one consistent snapshot.
func (db *DB) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.engine == Postgres})
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

//go:embed migrations
var migrations embed.FS

// Migration is one numbered migration file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the migrations of engine e in order.
func Migrations(e Engine) ([]Migration, error) {
	dir := "migrations/" + string(e)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var ms []Migration
	for _, ent := range entries {
		name := ent.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s: name must start with its number", name)
		}
		b, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrate applies every migration newer than the database's version, each in
// its own transaction together with its schema_migrations row.
func (db *DB) migrate(ctx context.Context, logger *slog.Logger) error {
	ms, err := Migrations(db.engine)
	if err != nil {
		return err
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`
	if _, err := db.write.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var current int
	err = db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
	if err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if len(ms) > 0 && current > ms[len(ms)-1].Version {
		return fmt.Errorf("%w: database at %d, program knows %d", ErrSchemaNewer, current, ms[len(ms)-1].Version)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		err := db.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
				m.Version, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if err != nil {
			return err
		}
		logger.Info("migrated database", "engine", db.engine, "migration", m.Name)
	}
	return nil
}
