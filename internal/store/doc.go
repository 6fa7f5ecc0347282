// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package store opens the database (embedded SQLite by default, PostgreSQL by
// URL), applies the migrations and runs write transactions. It owns no domain
// tables' queries: each domain package keeps its own SQL next to its rules,
// written once for both engines ($n placeholders numbered by first
// appearance, INSERT … RETURNING, ON CONFLICT … DO UPDATE).
package store
