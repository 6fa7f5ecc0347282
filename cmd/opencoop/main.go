// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Command opencoop founds and runs open co-operatives: one binary with an
// embedded database. Run "opencoop help" for its subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"opencoop/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
