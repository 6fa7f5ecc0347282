// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"opencoop/internal/coop"
)

// CSVHeader names the columns WriteCSV writes.
var CSVHeader = []string{"seq", "id", "action", "debit", "credit", "amount", "unit", "kind", "ref", "pending_id", "reverses",
	"state", "expires_at", "batch", "actor", "at"}

// WriteCSV writes every entry of c's journal that f selects (f.Limit and
// f.Before only say where to start), newest first, as CSV with the
// header CSVHeader; amounts are integers of minor units. Text a
// spreadsheet would take for a formula is quoted with a leading '.
func (s *Service) WriteCSV(ctx context.Context, w io.Writer, c *coop.Coop, f Filter) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	f.Limit = 1000
	for {
		es, err := s.Transfers(ctx, c, f)
		if err != nil {
			return err
		}
		for _, e := range es {
			exp := ""
			if e.ExpiresAt != nil {
				exp = e.ExpiresAt.Format(time.RFC3339)
			}
			rec := []string{strconv.FormatInt(e.Seq, 10), e.ID, e.Action, e.Debit, e.Credit, strconv.FormatInt(e.Amount, 10), e.Unit,
				e.Kind, e.Ref, e.PendingID, e.Reverses, e.State, exp, e.Batch, e.Actor, e.At.Format(time.RFC3339Nano)}
			for i, v := range rec {
				rec[i] = defuse(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("ledger: write csv: %w", err)
		}
		if len(es) < f.Limit {
			return nil
		}
		f.Before = es[len(es)-1].Seq
	}
}

// defuse keeps a spreadsheet from running a cell as a formula (CSV
// injection): only ref is free text, but ids may start with "-" too.
func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
