// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import "net/http"

// registerLedger adds the ledger routes (RULES.md 3.1).
func (h *handler) registerLedger(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}

// ledgerPaths documents them.
func ledgerPaths(add func(method, path string, o obj)) {
}
