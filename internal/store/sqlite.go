// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDSN builds the modernc DSN for path. The order of the pragmas
// matters: busy_timeout comes first so that switching journal_mode waits for
// a lock instead of failing; modernc leaves foreign keys off unless asked;
// _time_format=sqlite stores times in the form SQLite's date functions read.
func sqliteDSN(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL is durable across application crashes in WAL mode; only a power
	// loss can lose the last commits.
	q.Add("_pragma", "synchronous(NORMAL)")
	// A 64 MB page cache (negative: KiB) and temporary tables in memory,
	// so a large transaction — a round's 100,000 allowances — neither
	// spills its pages mid-transaction nor writes statement journals.
	q.Add("_pragma", "cache_size(-65536)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_time_format", "sqlite")
	// A WAL file left large by a big transaction is cut back to 64 MB
	// once it has been copied into the database.
	q.Add("_pragma", "journal_size_limit(67108864)")
	if write {
		// The writer never checkpoints: the checkpointer does, beside it
		// (checkpointEvery). A checkpoint copies the WAL into the database
		// and waits for the disk, and done by the writer at a commit it
		// held every writer waiting behind it.
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// Take the write lock at BEGIN: a deferred transaction that upgrades
		// later can fail with SQLITE_BUSY however long the timeout.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: no SQLite path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: create data folder: %w", err)
	}
	write, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// SQLite has one writer at a time; one connection makes writers queue in
	// Go rather than spin on the busy handler.
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: ping sqlite: %w", err)
	}
	read, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// Readers run beside the writer under WAL. Idle readers stay open (the
	// default keeps two): opening one runs the pragmas again and loses its
	// prepared statements.
	readers := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	stop, done := make(chan struct{}), make(chan struct{})
	go checkpointer(read, stop, done)
	var once sync.Once
	return &DB{write: write, read: read, engine: SQLite, closed: func() error {
		once.Do(func() { close(stop) })
		<-done
		return errors.Join(read.Close(), write.Close())
	}, readStmts: newStmtCache(read, false), writeStmts: newStmtCache(write, true)}, nil
}

// checkpointEvery is how often the checkpointer copies what the WAL holds
// into the database.
const checkpointEvery = 200 * time.Millisecond

// checkpointer runs a passive checkpoint every checkpointEvery on a reader
// until stop closes. Passive: it copies what no reader still needs and
// never waits for the writer or blocks it, so the writer's commits no
// longer pay for copying pages and the disk flushes (docs/BENCHMARKS.md).
// The WAL restarts from its beginning at the next write once wholly
// copied. A failed checkpoint is tried again at the next tick; the data
// is safe in the WAL meanwhile.
func checkpointer(read *sql.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			var busy, frames, copied int
			read.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		}
	}
}

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func init() {
	isUnique = append(isUnique, func(err error) bool {
		c := sqliteCode(err)
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	})
	isForeignKey = append(isForeignKey, func(err error) bool {
		return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	})
}
