// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"opencoop/internal/audit"
)

// auditListMax is the most transfers a batch's audit event lists one by
// one. A larger batch (a budget round's 100,000 allowances) is recorded
// by a summary and the SHA-256 of its transfers' canonical list instead:
// the journal holds every transfer already, in the same transaction, and
// writing each again into the audit row — as canonical JSON, decoded and
// encoded again — cost about as much as the journal itself. The digest
// ties the event to exactly those transfers: recompute it from the
// journal with [Digest] and compare (docs/ledger.md, "Transactions,
// audit, concurrency").
const auditListMax = 100

// auditPayload is the payload of a batch's ledger.transfers event.
func auditPayload(ts []Transfer) any {
	if len(ts) <= auditListMax {
		// {"transfers": ts} in canonical JSON, written here
		// (TestAuditPayloadIsCanonical).
		b := make([]byte, 0, 64+300*len(ts))
		b = append(b, `{"transfers":[`...)
		for i := range ts {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, &ts[i])
		}
		return audit.CanonicalJSON(append(b, "]}"...))
	}
	sums := map[string]int64{}
	for i := range ts {
		sums[ts[i].Unit] += ts[i].Amount
	}
	return map[string]any{"count": len(ts), "first": ts[0].ID, "last": ts[len(ts)-1].ID, "sums": sums,
		"sha256": Digest(ts)}
}

// Digest returns the hex SHA-256 of ts as the audit log would write them:
// the canonical JSON ([audit.Canonical]: keys sorted, no space) of the
// list, in the batch's order.
func Digest(ts []Transfer) string {
	h := sha256.New()
	b := make([]byte, 0, 512)
	b = append(b, '[')
	for i := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonical(b, &ts[i])
		if len(b) > 32<<10 {
			h.Write(b)
			b = b[:0]
		}
	}
	b = append(b, ']')
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// appendCanonical appends t's canonical JSON: its fields as encoding/json
// writes them, keys in byte order. A test holds it to audit.Canonical.
func appendCanonical(b []byte, t *Transfer) []byte {
	b = append(b, `{"action":`...)
	b = appendString(b, t.Action)
	b = append(b, `,"actor":`...)
	b = appendString(b, t.Actor)
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, t.Amount, 10)
	b = append(b, `,"at":`...)
	b = appendTime(b, t.At)
	if t.Batch != "" {
		b = append(b, `,"batch":`...)
		b = appendString(b, t.Batch)
	}
	b = append(b, `,"credit":`...)
	b = appendString(b, t.Credit)
	b = append(b, `,"debit":`...)
	b = appendString(b, t.Debit)
	if t.ExpiresAt != nil {
		b = append(b, `,"expires_at":`...)
		b = appendTime(b, *t.ExpiresAt)
	}
	b = append(b, `,"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"kind":`...)
	b = appendString(b, t.Kind)
	for _, f := range [...]struct{ key, v string }{{`,"pending_id":`, t.PendingID}, {`,"ref":`, t.Ref},
		{`,"reverses":`, t.Reverses}, {`,"state":`, t.State}} {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendString(b, f.v)
		}
	}
	b = append(b, `,"unit":`...)
	b = appendString(b, t.Unit)
	return append(b, '}')
}

// appendJSONString quotes s as json.Marshal does: plain ASCII as it is,
// the rest (quotes, backslashes, HTML's <, > and &, control and non-ASCII
// characters) through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	if plain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}

func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendString quotes s as audit.Canonical does: as json.Marshal, but
// for invalid UTF-8 (see below).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			if !utf8.ValidString(s) {
				// encoding/json writes an invalid byte as the escape
				// \ufffd, and audit.Canonical, encoding again, as the
				// character itself.
				var v string
				_ = json.Unmarshal(q, &v)
				q, _ = json.Marshal(v)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
