// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package cli

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"opencoop/internal/demo"
	"opencoop/internal/server"
	"opencoop/internal/store"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	if code, _, errs := run(); code != 2 || !strings.Contains(errs, "opencoop serve") {
		t.Errorf("no arguments: exit %d, %q", code, errs)
	}
	if code, _, errs := run("frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, %q", code, errs)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "opencoop ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, _ := run("serve", "--db", "mysql://x"); code != 2 {
		t.Errorf("serve with a non-postgres --db: exit %d, want 2", code)
	}
	if code, out, _ := run("help"); !strings.Contains(out, "opencoop tally [--format record] RECORD") {
		t.Errorf("help: exit %d, usage lacks the record recount: %q", code, out)
	}
}

// TestTallyRecord runs "opencoop tally" on a hand-written decision record
// (testdata/record; counted by hand in internal/record's tests): a
// winner, and a note that the record carries no result to compare.
func TestTallyRecord(t *testing.T) {
	code, out, errs := run("tally", "--format", "record", "../../testdata/record/schulze-default.json")
	if code != 0 || !strings.Contains(out, `"winners": [
    "a"
  ]`) || !strings.Contains(errs, "no result to compare") {
		t.Errorf("tally record: exit %d, stdout %q, stderr %q; want 0, winner a, no result to compare", code, out, errs)
	}
}

// TestAuditVerify seeds the demo co-op into a data folder, verifies it,
// alters one event's row as someone with the database file might, and
// expects verify to fail naming that event.
func TestAuditVerify(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "opencoop.db")})
	if err != nil {
		t.Fatal(err)
	}
	app := server.NewApp(db, time.Now, make([]byte, 32), slog.New(slog.DiscardHandler), "http://x")
	if _, err := demo.Seed(ctx, app.Services); err != nil {
		t.Fatalf("demo.Seed: %v", err)
	}
	db.Close()

	code, out, errs := run("audit", "verify", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("verify untouched: exit %d, %q %q", code, out, errs)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "opencoop.db"))
	if err != nil {
		t.Fatal(err)
	}
	var chain, seq int64
	raw.QueryRow(`SELECT chain, seq FROM audit_events WHERE action = 'proposal.closed' ORDER BY seq LIMIT 1`).Scan(&chain, &seq)
	if _, err := raw.Exec(`UPDATE audit_events SET payload = REPLACE(payload, 'rejected', 'passed') WHERE chain = $1 AND seq = $2`, chain, seq); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, out, _ = run("audit", "verify", "--data", dir)
	want := "event " + strconv.FormatInt(seq, 10) + ":"
	if code != 1 || !strings.Contains(out, "ALTERED") || !strings.Contains(out, want) {
		t.Errorf("verify after tampering: exit %d, %q; want exit 1 naming %q", code, out, want)
	}
	if code, _, errs := run("audit", "verify", "--data", t.TempDir()); code != 2 || !strings.Contains(errs, "no database") {
		t.Errorf("verify with no database: exit %d, %q", code, errs)
	}
}
