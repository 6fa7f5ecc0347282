// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import "net/http"

// registerShares adds the share-offer routes (RULES.md 3.4).
func (h *handler) registerShares(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}

// sharesPaths documents them.
func sharesPaths(add func(method, path string, o obj)) {
}
