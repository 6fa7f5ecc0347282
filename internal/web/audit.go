// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"
	"strconv"

	"opencoop/internal/audit"
	"opencoop/internal/coop"
)

type auditPage struct {
	Coop   *coop.Coop
	Events []audit.Event
	// Older is the seq to page on from, 0 at the chain's start; Newer is
	// set when this is not the newest page.
	Older int64
	Newer bool
}

// auditPageSize is how many events one page shows.
const auditPageSize = 50

// listAudit shows a co-op's audit chain to its members, newest first.
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) error {
	me, c, err := h.caller(r)
	if err != nil {
		return err
	}
	if _, err := h.Coops.RequireMember(r.Context(), c, me.ID); err != nil {
		return err
	}
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before < 1 {
			return badRequest("“before” must be an event number")
		}
	}
	evs, err := audit.List(r.Context(), h.DB, c.Chain(), before, auditPageSize)
	if err != nil {
		return err
	}
	d := auditPage{Coop: c, Events: evs, Newer: before > 0}
	if len(evs) == auditPageSize && evs[len(evs)-1].Seq > 1 {
		d.Older = evs[len(evs)-1].Seq
	}
	return h.render(w, r, http.StatusOK, "audit", "Audit log of "+c.Name, d)
}
