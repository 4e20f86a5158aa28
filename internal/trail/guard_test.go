package trail_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/guardtest"
)

// TestEveryEventHasAMessage fails when non-test code records a trail event without a
// catalogue message: every trail.Event literal outside package trail sets Msg, so that the
// trail page shows each entry's summary in the reader's language, not only in English.
func TestEveryEventHasAMessage(t *testing.T) {
	var found []string
	files, events := 0, 0
	for _, f := range guardtest.Sources(t, "..") {
		files++
		lines, n := eventsWithoutMsg(t, f.Path)
		events += n
		for _, l := range lines {
			found = append(found, f.Rel+":"+l)
		}
	}
	if files < 50 || events < 40 {
		t.Fatalf("walked %d Go files and %d trail.Event literals under %s; the guard is looking in the wrong place", files, events, "..")
	}
	if len(found) > 0 {
		t.Errorf("%d of %d trail.Event literals have no Msg (set Msg: &i18n.Message{…} with a \"trail.summary.*\" key in both catalogues):\n\t%s",
			len(found), events, strings.Join(found, "\n\t"))
	}
}

// isTrailEvent reports whether x names the type trail.Event.
func isTrailEvent(x ast.Expr) bool {
	sel, ok := x.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Event" {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "trail"
}

// eventsWithoutMsg returns the lines of the trail.Event literals in file p that set no
// Msg field, and the number of trail.Event literals in it.
func eventsWithoutMsg(t *testing.T, p string) ([]string, int) {
	t.Helper()
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", p, err)
	}
	var out []string
	n := 0
	check := func(lit *ast.CompositeLit) {
		n++
		for _, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Msg" {
					return
				}
			}
		}
		out = append(out, strconv.Itoa(fset.Position(lit.Pos()).Line))
	}
	ast.Inspect(f, func(node ast.Node) bool {
		lit, ok := node.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if isTrailEvent(lit.Type) {
			check(lit)
			return true
		}
		// []trail.Event{{…}, …} and map[…]trail.Event{k: {…}}: the elements' type is elided.
		var elem ast.Expr
		switch ty := lit.Type.(type) {
		case *ast.ArrayType:
			elem = ty.Elt
		case *ast.MapType:
			elem = ty.Value
		}
		if elem != nil && isTrailEvent(elem) {
			for _, el := range lit.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					el = kv.Value
				}
				if inner, ok := el.(*ast.CompositeLit); ok && inner.Type == nil {
					check(inner)
				}
			}
		}
		return true
	})
	return out, n
}
