// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package govern keeps proposals and their ballots (RULES.md 2.1-2.3, 2.5):
// a proposal fixes its method, options, weighting, quorum and pass rule and
// freezes its electorate when it opens; members vote and may change their
// ballot until it closes; closing counts with package vote and stores the
// full result. Secret ballots are stored apart from their voters.
package govern
