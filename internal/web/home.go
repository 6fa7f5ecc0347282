// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"net/http"

	"opencoop/internal/coop"
)

type homePage struct {
	Mine []coop.Summary
	All  []coop.Summary
}

// maxListed bounds the co-ops the start page lists.
const maxListed = 200

func (h *handler) home(w http.ResponseWriter, r *http.Request) error {
	var account int64
	if me := h.optionalMe(r); me != nil {
		account = me.ID
	}
	all, err := h.Coops.ListCoops(r.Context(), account, maxListed)
	if err != nil {
		return err
	}
	var d homePage
	for _, c := range all {
		if c.Class != "" {
			d.Mine = append(d.Mine, c)
		}
	}
	d.All = all
	return h.render(w, r, http.StatusOK, "home", "", d)
}
