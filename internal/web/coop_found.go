// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"opencoop/internal/coop"
	"opencoop/internal/errs"
)

// foundForm is the founding form's data. Class rows are numbered fields
// (class_key_0, class_name_0, …) so that a row keeps its values and its
// messages together; one empty row lets a founder add a class.
type foundForm struct {
	Slug, Name, Purpose, Preset string
	FounderClass                string
	Presets                     []string
	Classes                     []classRow
	Errors                      map[string]string
}

type classRow struct {
	Index                      int
	Key, Name, Weight          string
	Votes                      bool
	KeyErr, NameErr, WeightErr string
}

// maxClassRows bounds the rows a form may send.
const maxClassRows = 20

func presetRows(preset string) []classRow {
	var rows []classRow
	for i, c := range coop.Presets[preset] {
		rows = append(rows, classRow{Index: i, Key: c.Key, Name: c.Name, Weight: strconv.FormatInt(c.Weight, 10), Votes: c.Votes})
	}
	return rows
}

// withBlankRow appends an empty row for a new class.
func withBlankRow(rows []classRow) []classRow {
	if len(rows) >= maxClassRows {
		return rows
	}
	return append(rows, classRow{Index: len(rows), Votes: true})
}

// foundForm shows the form. Choosing a preset reloads it with a GET that
// carries what was typed (the form's "Use preset" button), so it works
// without JavaScript.
func (h *handler) foundForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.me(r); err != nil {
		return err
	}
	q := r.URL.Query()
	f := foundForm{Slug: q.Get("slug"), Name: q.Get("name"), Purpose: q.Get("purpose"), Preset: q.Get("preset"), Presets: coop.PresetNames}
	if _, ok := coop.Presets[f.Preset]; !ok {
		f.Preset = coop.PresetNames[0]
	}
	f.Classes = withBlankRow(presetRows(f.Preset))
	if len(f.Classes) > 0 {
		f.FounderClass = f.Classes[0].Key
	}
	return h.render(w, r, http.StatusOK, "coop_new", "Found a co-op", f)
}

// readClassRows reads the numbered class rows of form, skipping empty ones.
func readClassRows(form url.Values) []classRow {
	var rows []classRow
	for i := range maxClassRows {
		s := strconv.Itoa(i)
		key, okKey := form["class_key_"+s]
		if !okKey {
			break
		}
		row := classRow{Key: strings.TrimSpace(strings.Join(key, "")), Name: strings.TrimSpace(form.Get("class_name_" + s)),
			Weight: strings.TrimSpace(form.Get("class_weight_" + s)), Votes: form.Get("class_votes_"+s) != ""}
		if row.Key == "" && row.Name == "" && (row.Weight == "" || row.Weight == "0") {
			continue
		}
		row.Index = len(rows)
		rows = append(rows, row)
	}
	return rows
}

func (h *handler) found(w http.ResponseWriter, r *http.Request) error {
	me, err := h.me(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	pf := r.PostForm
	f := foundForm{Slug: pf.Get("slug"), Name: pf.Get("name"), Purpose: pf.Get("purpose"), Preset: pf.Get("preset"),
		FounderClass: pf.Get("founder_class"), Presets: coop.PresetNames, Classes: readClassRows(pf)}
	n := coop.NewCoop{Slug: f.Slug, Name: f.Name, Purpose: f.Purpose, Preset: f.Preset, FounderClass: f.FounderClass}
	var v errs.ValidationError
	for i, row := range f.Classes {
		votes := row.Votes
		w, err := strconv.ParseInt(row.Weight, 10, 64)
		if err != nil {
			v.Add(fmt.Sprintf("classes[%d].weight", i), "give a whole number of percent")
		}
		n.Classes = append(n.Classes, coop.ClassSpec{Key: row.Key, Name: row.Name, Weight: w, Votes: &votes})
	}
	if len(n.Classes) == 0 {
		v.Add("classes", "give at least one class")
	}
	var c *coop.Coop
	if err = v.Err(); err == nil {
		c, err = h.Coops.Found(r.Context(), me, n)
	}
	if errors.Is(err, errs.ErrConflict) {
		err = errs.Invalid("slug", "this address is taken; choose another")
	}
	if fields, ok := fieldErrors(err); ok {
		// Keep the validator's messages beside any of our own.
		for k, m := range v.Fields {
			if _, ok := fields[k]; !ok {
				fields[k] = m
			}
		}
		f.Errors = fields
		for i := range f.Classes {
			p := fmt.Sprintf("classes[%d].", i)
			f.Classes[i].KeyErr, f.Classes[i].NameErr, f.Classes[i].WeightErr = fields[p+"key"], fields[p+"name"], fields[p+"weight"]
		}
		f.Classes = withBlankRow(f.Classes)
		return h.render(w, r, http.StatusUnprocessableEntity, "coop_new", "Found a co-op", f)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/coops/"+c.Slug)
}
