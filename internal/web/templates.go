// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// templates holds one parsed set per page: the layout and partials
// (files starting with "_") with the page's own "content".
type templates struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") },
	"datep": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006, 15:04 UTC")
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"lower": strings.ToLower,
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
	"add":  func(a, b int) int { return a + b },
	"list": func(v ...any) []any { return v },
	"percent": func(a, b int64) string {
		if b == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.0f%%", float64(a)*100/float64(b))
	},
}

// parseTemplates parses every page against the layout and partials.
func parseTemplates(fsys fs.FS) (*templates, error) {
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base := template.New("base").Funcs(funcs)
	var pageFiles []string
	for _, n := range names {
		b := path.Base(n)
		if b == "layout.html" || strings.HasPrefix(b, "_") {
			if _, err := base.ParseFS(fsys, n); err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", n, err)
			}
			continue
		}
		pageFiles = append(pageFiles, n)
	}
	t := &templates{pages: make(map[string]*template.Template)}
	for _, n := range pageFiles {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(fsys, n); err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		t.pages[strings.TrimSuffix(path.Base(n), ".html")] = c
	}
	return t, nil
}

// mustParseTemplates parses the embedded templates; a broken template is
// a programmer error, found at start-up.
func mustParseTemplates() *templates {
	t, err := parseTemplates(templateFS)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *templates) execute(w io.Writer, name string, data any) error {
	p, ok := t.pages[name]
	if !ok {
		panic(fmt.Sprintf("web: no template %q", name))
	}
	return p.ExecuteTemplate(w, "layout", data)
}
