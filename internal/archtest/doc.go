// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package archtest holds tests of the whole tree's shape: the import rules
// of DESIGN.md and one package comment per package. It has no code.
package archtest
