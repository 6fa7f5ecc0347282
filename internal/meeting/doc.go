// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package meeting keeps general meetings, made hybrid (RULES.md 2.5, 2.6):
// a secretary calls a meeting with its agenda at least the co-op's notice
// period ahead; every resolution on the agenda is a govern proposal bound to
// the meeting, open for remote voting from the call until the session
// opens. Members may appoint a proxy, directed or discretionary, until
// then. In session only members recorded present vote in the app, and the
// secretary enters show-of-hands totals for the others, capped so that
// nobody is counted twice. Closing counts every resolution through its
// decision record, with the meeting's quorum, numbers the passed ones in
// the co-op's register (YYYY/N) and writes the minutes, which the next
// meeting approves.
//
// The package implements [govern.Meetings]: govern asks it who may vote on
// a resolution and has it add proxies, totals and the quorum to the
// resolution's decision record.
package meeting
