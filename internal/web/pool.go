// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import "net/http"

// registerPool adds the pages for the pooling and income routes (RULES.md 3.2).
func (h *handler) registerPool(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}
