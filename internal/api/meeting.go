// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import "net/http"

// registerMeetings adds the general-meeting routes (RULES.md 2.6).
func (h *handler) registerMeetings(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
}

// meetingPaths documents the general-meeting routes.
func meetingPaths(add func(method, path string, o obj)) {
}
