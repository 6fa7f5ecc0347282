// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package store

var isUnique, isForeignKey []func(error) bool

// IsUniqueViolation reports whether err is a unique or primary-key violation
// on either engine.
func IsUniqueViolation(err error) bool {
	for _, f := range isUnique {
		if f(err) {
			return true
		}
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation on
// either engine.
func IsForeignKeyViolation(err error) bool {
	for _, f := range isForeignKey {
		if f(err) {
			return true
		}
	}
	return false
}

// ForShare returns the clause that read-locks the selected rows until the
// transaction ends: " FOR SHARE" on PostgreSQL, nothing on SQLite, whose one
// writer at a time already serialises write transactions.
func (tx *Tx) ForShare() string {
	if tx.Engine == Postgres {
		return " FOR SHARE"
	}
	return ""
}
