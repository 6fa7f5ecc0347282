// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package vote counts ballots by every method of RULES.md 2.2, with the class
// weighting of RULES.md 2.3 and the quorum and pass rules of RULES.md 2.5.
//
// It is pure: no I/O, no clock, no randomness but the published seed of
// [Lot]. Counts are exact (integers per class, big.Rat once per class and
// option) until a rule's own rounding.
package vote
