// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import "net/http"

// registerBudget adds the pages for the budget-round routes (RULES.md 3.3).
func (h *handler) registerBudget(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}
