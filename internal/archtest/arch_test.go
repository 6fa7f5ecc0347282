// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "opencoop/internal/"

// pkg is one package under internal/: its project imports and how many
// package comments its non-test files carry.
type pkg struct {
	imports  map[string]bool
	comments int
	license  []string // files without the license header
}

func load(t *testing.T) map[string]*pkg {
	t.Helper()
	pkgs := map[string]*pkg{}
	root := ".."
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		if strings.Contains(rel, "testdata") {
			return nil
		}
		p := pkgs[rel]
		if p == nil {
			p = &pkg{imports: map[string]bool{}}
			pkgs[rel] = p
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.ImportsOnly)
		if err != nil {
			return err
		}
		src, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(src), "// Copyright ") || !strings.Contains(string(src[:min(len(src), 200)]), "SPDX-License-Identifier") {
			p.license = append(p.license, path)
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package ") {
			p.comments++
		}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			if rest, ok := strings.CutPrefix(ip, module); ok {
				p.imports[strings.Split(rest, "/")[0]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestImportRules holds DESIGN.md's import rules: vote (and money) are
// pure; domain packages and app, which wires them, never import the HTTP
// faces; store and audit import no domain package; web and api never import
// each other.
func TestImportRules(t *testing.T) {
	pkgs := load(t)
	faces := []string{"web", "api", "server", "cli"}
	domains := []string{"coop", "govern", "auth", "ledger", "budget", "shares", "pool", "value", "commons", "datacoop", "meeting"}
	forbid := map[string][]string{
		"vote":   {"*"},
		"money":  {"*"},
		"store":  append(append([]string{}, domains...), faces...),
		"audit":  append(append([]string{}, domains...), faces...),
		"app":    faces,
		"record": append(append([]string{"store", "audit"}, domains...), faces...),
		"web":    {"api", "server", "cli"},
		"api":    {"web", "server", "cli"},
	}
	for _, d := range domains {
		forbid[d] = faces
	}
	for name, p := range pkgs {
		bans, ok := forbid[name]
		if !ok {
			continue
		}
		for im := range p.imports {
			for _, b := range bans {
				if b == "*" || b == im {
					t.Errorf("package %s imports internal/%s, which DESIGN.md forbids", name, im)
				}
			}
		}
	}
	if len(pkgs) < 8 {
		t.Fatalf("found only %d packages: is the walk looking in the right place?", len(pkgs))
	}
}

// TestPackageComments wants exactly one package comment per package and the
// license header on every Go file.
func TestPackageComments(t *testing.T) {
	for name, p := range load(t) {
		if strings.Contains(name, "zz_") {
			continue
		}
		if p.comments != 1 {
			t.Errorf("package %s has %d package comments, want 1", name, p.comments)
		}
		for _, f := range p.license {
			t.Errorf("%s lacks the two-line license header", f)
		}
	}
}
