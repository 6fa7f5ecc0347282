// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package audit keeps the append-only, hash-chained log of every change
// (DESIGN.md "Trust"). Each co-op has its own chain; chain 0 holds the
// instance's events (accounts). An event's hash covers its fields and the
// previous event's hash, so changing, removing or reordering any row breaks
// every hash after it, which [Verify] reports.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"opencoop/internal/store"
)

// Event is one entry of the log.
type Event struct {
	Chain    int64           `json:"chain"`
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Object   string          `json:"object"`
	Payload  json.RawMessage `json:"payload"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Entry is what a domain package records: who did what to which object.
type Entry struct {
	Chain   int64
	At      time.Time
	Actor   string // "account:<id>" or "system"
	Action  string // "proposal.closed"
	Object  string // "proposal:<id>"
	Payload any    // marshalled to canonical JSON; never a secret
}

// Record appends e to its chain inside tx, the transaction of the change it
// describes, and returns the stored event.
func Record(ctx context.Context, tx *store.Tx, e Entry) (Event, error) {
	evs, err := RecordAll(ctx, tx, []Entry{e})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// insertRows is how many events one INSERT of RecordAll writes: nine
// parameters each, and SQLite looks each "$n" up by a linear search, so
// a statement stays near a hundred and fifty.
const insertRows = 16

// RecordAll appends es, in order, to their chains inside tx, as many
// calls of Record would, in three statements per chain and sixteen
// events: the ledger's group commit writes one event per request it
// answers, and the chain's head row is then moved once for all of them.
func RecordAll(ctx context.Context, tx *store.Tx, es []Entry) ([]Event, error) {
	evs := make([]Event, len(es))
	byChain := map[int64][]int{}
	var chains []int64
	for i, e := range es {
		payload, err := Canonical(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("audit: %s payload: %w", e.Action, err)
		}
		evs[i] = Event{Chain: e.Chain, At: e.At.UTC().Truncate(time.Microsecond), Actor: e.Actor,
			Action: e.Action, Object: e.Object, Payload: payload}
		if byChain[e.Chain] == nil {
			chains = append(chains, e.Chain)
		}
		byChain[e.Chain] = append(byChain[e.Chain], i)
	}
	for _, chain := range chains {
		idx := byChain[chain]
		n := int64(len(idx))
		// Taking the head row's lock serialises appends to one chain on
		// PostgreSQL; SQLite's single writer does so already. The head
		// moves by n at once and answers the last seq and the hash the
		// chain had.
		const head = `INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, '')
			ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq + $2
			RETURNING seq, hash`
		var last int64
		var prev string
		if err := tx.QueryRowPrepared(ctx, head, chain, n).Scan(&last, &prev); err != nil {
			return nil, fmt.Errorf("audit: advance chain %d: %w", chain, err)
		}
		for k, i := range idx {
			ev := &evs[i]
			ev.Seq, ev.PrevHash = last-n+1+int64(k), prev
			ev.Hash = ev.computeHash()
			prev = ev.Hash
		}
		for start := 0; start < len(idx); start += insertRows {
			part := idx[start:min(start+insertRows, len(idx))]
			args := make([]any, 0, 9*len(part))
			for _, i := range part {
				ev := &evs[i]
				args = append(args, ev.Chain, ev.Seq, ev.At, ev.Actor, ev.Action, ev.Object, string(ev.Payload), ev.PrevHash, ev.Hash)
			}
			if _, err := tx.ExecPrepared(ctx, insertTexts[len(part)], args...); err != nil {
				return nil, fmt.Errorf("audit: insert %s: %w", es[part[0]].Action, err)
			}
		}
		const move = `UPDATE audit_heads SET hash = $2 WHERE chain = $1`
		if _, err := tx.ExecPrepared(ctx, move, chain, prev); err != nil {
			return nil, fmt.Errorf("audit: move head of chain %d: %w", chain, err)
		}
	}
	return evs, nil
}

// insertTexts holds the INSERT of k events, k = 1…insertRows, built once.
var insertTexts = func() []string {
	texts := make([]string, insertRows+1)
	for k := 1; k <= insertRows; k++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_events (chain, seq, at, actor, action, object, payload, prev_hash, hash) VALUES `)
		for r := range k {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range 9 {
				if c > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", r*9+c+1)
			}
			b.WriteByte(')')
		}
		texts[k] = b.String()
	}
	return texts
}()

// computeHash is the SHA-256 of the JSON array of every field but the hash
// itself, the time in RFC 3339 with nanoseconds, UTC.
func (ev *Event) computeHash() string {
	b, _ := json.Marshal([]any{ev.Chain, ev.Seq, ev.At.UTC().Format(time.RFC3339Nano), ev.Actor,
		ev.Action, ev.Object, ev.Payload, ev.PrevHash})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CanonicalJSON is a payload its caller wrote as canonical JSON already
// (keys in byte order, no space, strings as encoding/json escapes them),
// stored as it is: the ledger writes a transfer list so in the writer's
// turn, where encoding it and sorting its keys again would cost more than
// its SQL. Its writer's tests hold it to Canonical.
type CanonicalJSON []byte

// Canonical returns v as JSON with object keys sorted and no insignificant
// space, so the same payload always hashes the same.
func Canonical(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case CanonicalJSON:
		return json.RawMessage(v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if out, ok := sortKeys(b); ok {
		return out, nil
	}
	return canonicalSlow(b)
}

// canonicalSlow sorts b's keys by decoding it into maps and encoding it
// again; sortKeys gives the same bytes where it applies.
func canonicalSlow(b []byte) (json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var generic any
	if err := d.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

const selectEvents = `SELECT chain, seq, at, actor, action, object, payload, prev_hash, hash FROM audit_events`

func scanEvent(rows *sql.Rows) (Event, error) {
	var ev Event
	var payload string
	err := rows.Scan(&ev.Chain, &ev.Seq, &ev.At, &ev.Actor, &ev.Action, &ev.Object, &payload, &ev.PrevHash, &ev.Hash)
	ev.At = ev.At.UTC()
	ev.Payload = json.RawMessage(payload)
	return ev, err
}

// List returns up to limit events of chain, newest first, with seq below
// before (0: from the newest).
func List(ctx context.Context, db *store.DB, chain, before int64, limit int) ([]Event, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := db.Read().QueryContext(ctx, selectEvents+` WHERE chain = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`,
		chain, before, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: list chain %d: %w", chain, err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: scan: %w", err)
		}
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// Problem is the first inconsistency [Verify] found.
type Problem struct {
	Chain  int64
	Seq    int64
	Reason string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("audit: chain %d, event %d: %s", p.Chain, p.Seq, p.Reason)
}

// Report sums up a verification.
type Report struct {
	Chains int
	Events int64
	// Problem is the first altered, missing or misplaced event; nil if the
	// log is intact.
	Problem *Problem
}

// Verify recomputes every chain from the database in one read snapshot and
// reports the first event whose hash, link or sequence does not hold.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var rep Report
	err := db.ReadTx(ctx, func(tx *sql.Tx) error {
		heads := map[int64][2]string{}
		hrows, err := tx.QueryContext(ctx, `SELECT chain, seq, hash FROM audit_heads`)
		if err != nil {
			return err
		}
		for hrows.Next() {
			var c, s int64
			var h string
			if err := hrows.Scan(&c, &s, &h); err != nil {
				hrows.Close()
				return err
			}
			heads[c] = [2]string{fmt.Sprint(s), h}
		}
		hrows.Close()
		rows, err := tx.QueryContext(ctx, selectEvents+` ORDER BY chain, seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var chain, seq int64 = -1, 0
		prev := ""
		endChain := func() *Problem {
			if chain < 0 {
				return nil
			}
			h, ok := heads[chain]
			delete(heads, chain)
			if !ok || h[0] != fmt.Sprint(seq) || h[1] != prev {
				return &Problem{chain, seq, "the chain's head does not match its last event (events removed from the end?)"}
			}
			return nil
		}
		for rows.Next() {
			ev, err := scanEvent(rows)
			if err != nil {
				return err
			}
			if ev.Chain != chain {
				if p := endChain(); p != nil {
					rep.Problem = p
					return nil
				}
				rep.Chains++
				chain, seq, prev = ev.Chain, 0, ""
			}
			rep.Events++
			switch {
			case ev.Seq != seq+1:
				rep.Problem = &Problem{ev.Chain, seq + 1, fmt.Sprintf("missing (next stored event is %d)", ev.Seq)}
			case ev.PrevHash != prev:
				rep.Problem = &Problem{ev.Chain, ev.Seq, "prev_hash does not match the previous event's hash"}
			case ev.computeHash() != ev.Hash:
				rep.Problem = &Problem{ev.Chain, ev.Seq, "content does not match its hash (altered)"}
			}
			if rep.Problem != nil {
				return nil
			}
			seq, prev = ev.Seq, ev.Hash
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if p := endChain(); p != nil {
			rep.Problem = p
			return nil
		}
		for c := range heads {
			rep.Problem = &Problem{c, 1, "the chain's head exists but its events are gone"}
			return nil
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("audit: verify: %w", err)
	}
	return rep, nil
}
