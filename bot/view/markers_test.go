package view

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"
)

// TestMarkersListsEveryMarker reads view.go for its Marker constants, so
// that a marker added without joining Markers (and so escaping the
// adapters' tests that each marker has a sign) fails here.
func TestMarkersListsEveryMarker(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "view.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			value := spec.(*ast.ValueSpec)
			if ident, ok := value.Type.(*ast.Ident); !ok || ident.Name != "Marker" {
				continue
			}
			for _, lit := range value.Values {
				declared = append(declared, strings.Trim(lit.(*ast.BasicLit).Value, `"`))
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no Marker constants in view.go")
	}
	listed := make([]string, len(Markers))
	for i, m := range Markers {
		listed[i] = string(m)
	}
	for _, m := range declared {
		if !slices.Contains(listed, m) {
			t.Errorf("marker %q is declared but not in Markers", m)
		}
	}
	if len(listed) != len(declared) {
		t.Errorf("Markers holds %d markers, view.go declares %d", len(listed), len(declared))
	}
}

// Every marker has an emoji of its own, for the renderers that show one.
func TestEveryMarkerHasItsOwnEmoji(t *testing.T) {
	seen := map[string]Marker{}
	for _, m := range Markers {
		e := m.Emoji()
		if e == "" {
			t.Errorf("marker %q has no emoji", m)
		}
		if other, dup := seen[e]; dup {
			t.Errorf("markers %q and %q share the emoji %s", m, other, e)
		}
		seen[e] = m
	}
}
