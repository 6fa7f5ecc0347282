// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package cli implements opencoop's subcommands: serve, tally, audit verify
// and version. Configuration is read here, once, from flags, and passed
// down as values.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/demo"
	"opencoop/internal/server"
	"opencoop/internal/store"
	"opencoop/internal/tally"
)

const usage = `opencoop — found and run an open co-operative

Usage:
  opencoop serve [--addr 127.0.0.1:8080] [--data ./opencoop-data] [--db postgres://…] [--demo]
  opencoop tally --method M [flags] FILE      recount a ballot file (opencoop tally --help)
  opencoop tally [--format record] RECORD     recount a decision record and check its result
  opencoop audit verify [--data DIR | --db URL]
  opencoop version
`

// Run runs the subcommand in args and returns the process's exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "tally":
		return tally.Run(ctx, args[1:], stdout, stderr)
	case "audit":
		if len(args) < 2 || args[1] != "verify" {
			fmt.Fprint(stderr, "usage: opencoop audit verify [--data DIR | --db URL]\n")
			return 2
		}
		return auditVerify(ctx, args[2:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "opencoop", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "opencoop: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// dbFlags are the flags that choose a database.
type dbFlags struct {
	data string
	url  string
}

func (d *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", "./opencoop-data", "data folder: the SQLite database and the secret-ballot key")
	fs.StringVar(&d.url, "db", "", "a postgres:// URL to use PostgreSQL instead of SQLite")
}

func (d *dbFlags) config(logger *slog.Logger) (store.Config, error) {
	if d.url != "" && !strings.HasPrefix(d.url, "postgres://") && !strings.HasPrefix(d.url, "postgresql://") {
		return store.Config{}, fmt.Errorf("--db takes a postgres:// URL")
	}
	return store.Config{URL: d.url, Path: filepath.Join(d.data, "opencoop.db"), Logger: logger}, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dbFlags
	d.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	withDemo := fs.Bool("demo", false, "create a demo co-op to look around in (once)")
	baseURL := fs.String("base-url", "", "public URL of this instance, for invitation links (default http://ADDR)")
	secure := fs.Bool("secure-cookies", false, "mark session cookies Secure (set when served over HTTPS)")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := d.config(logger)
	if err != nil {
		fmt.Fprintln(stderr, "opencoop:", err)
		return 2
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		logger.Error("opening the database", "err", err)
		return 1
	}
	defer db.Close()
	key, err := server.BallotKey(d.data)
	if err != nil {
		logger.Error("reading the ballot key", "err", err)
		return 1
	}
	if *baseURL == "" {
		*baseURL = "http://" + *addr
	}
	app := server.NewApp(db, time.Now, key, logger, strings.TrimSuffix(*baseURL, "/"))
	app.SecureCookies = *secure
	if *withDemo {
		created, err := demo.Seed(ctx, app.Services)
		if err != nil {
			logger.Error("creating the demo co-op", "err", err)
			return 1
		}
		if created {
			logger.Info("demo co-op created", "url", app.BaseURL+"/coops/"+demo.Slug,
				"sign_in", demo.Handles[0], "password", demo.Password)
		}
	}
	if err := app.Serve(ctx, *addr); err != nil {
		logger.Error("serving", "err", err)
		return 1
	}
	return 0
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dbFlags
	d.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := d.config(nil)
	if err != nil {
		fmt.Fprintln(stderr, "opencoop:", err)
		return 2
	}
	if cfg.URL == "" {
		if _, err := os.Stat(cfg.Path); err != nil {
			fmt.Fprintf(stderr, "opencoop: no database at %s\n", cfg.Path)
			return 2
		}
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "opencoop:", err)
		return 1
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, db)
	if err != nil {
		fmt.Fprintln(stderr, "opencoop:", err)
		return 1
	}
	if rep.Problem != nil {
		fmt.Fprintf(stdout, "ALTERED: %v\n", rep.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "ok: %d events in %d chains, every hash and link holds\n", rep.Events, rep.Chains)
	return 0
}
