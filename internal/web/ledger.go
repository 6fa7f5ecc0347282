// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import "net/http"

// registerLedger adds the pages for the ledger routes (RULES.md 3.1).
func (h *handler) registerLedger(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}
