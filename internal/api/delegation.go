// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import "net/http"

// registerDelegation adds the delegation, topic, settings and record routes (RULES.md 2.4).
func (h *handler) registerDelegation(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}

// delegationPaths documents them.
func delegationPaths(add func(method, path string, o obj)) {
}
