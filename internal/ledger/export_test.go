// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

// AuditPayload is auditPayload, for the external tests.
var AuditPayload = auditPayload
