// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import "net/http"

// registerPool adds the pooling and income routes (RULES.md 3.2).
func (h *handler) registerPool(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}

// poolPaths documents them.
func poolPaths(add func(method, path string, o obj)) {
}
