// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import "net/http"

// registerDelegation adds the "my delegations" pages (RULES.md 2.4).
func (h *handler) registerDelegation(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}
