package actor_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/guardtest"
)

// predicateFile is the one file allowed to build SQL over organisation paths.
const predicateFile = "actor/scope.go"

// pathSQL matches SQL text that compares an organisation path by hand: "path LIKE",
// "LIKE o.path || '%'", a prefix taken with SUBSTR or STARTS_WITH, and the escape
// clause that LIKE on a path needs.
var pathSQL = regexp.MustCompile(`(?i)path\s+(not\s+)?i?like\b|\blike\s+[\w.]*path\b|path\s*\|\|\s*'%'|(substr|substring|instr|starts_with|left)\s*\(\s*[\w.]*path\b`)

// TestTenancyPredicateIsTheOnlyOne fails when a package other than the predicate's own
// file writes the tenancy rule itself: SQL that matches organisation paths with LIKE (or a
// prefix function), a LIKE pattern made from a path, or the old ScopePattern. Every query
// that limits records to an actor's organisations goes through Actor.SeesSQL (and
// SubtreeSQL / ContainsSQL), which fail closed.
func TestTenancyPredicateIsTheOnlyOne(t *testing.T) {
	var found []string
	for _, f := range guardtest.Sources(t, "..") {
		if f.Rel == predicateFile {
			continue
		}
		for _, l := range handMadeScopes(t, f.Path) {
			found = append(found, f.Rel+":"+l)
		}
	}
	if len(found) > 0 {
		t.Errorf("tenancy written by hand outside internal/%s (use actor.Actor.SeesSQL, actor.SubtreeSQL or actor.ContainsSQL):\n\t%s",
			predicateFile, strings.Join(found, "\n\t"))
	}
}

// handMadeScopes lists "line: what" for every hand-made path predicate in file p.
func handMadeScopes(t *testing.T, p string) []string {
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
	text := func(n ast.Node) string {
		return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
	}
	mentionsPath := func(n ast.Node) bool { return strings.Contains(strings.ToLower(text(n)), "path") }
	var out []string
	add := func(n ast.Node, what string) {
		out = append(out, strconv.Itoa(fset.Position(n.Pos()).Line)+": "+what)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				break
			}
			if s, err := strconv.Unquote(n.Value); err == nil && pathSQL.MatchString(s) {
				add(n, "SQL matching an organisation path: "+pathSQL.FindString(s))
			}
		case *ast.SelectorExpr:
			if n.Sel.Name == "ScopePattern" {
				add(n, "ScopePattern")
			}
		case *ast.CallExpr:
			// A LIKE pattern made from a path: EscapeLike(x.path…).
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "EscapeLike" {
				for _, arg := range n.Args {
					if mentionsPath(arg) {
						add(n, "LIKE pattern from a path: "+text(n))
					}
				}
			}
		case *ast.BinaryExpr:
			// path + "%" builds a prefix pattern by hand.
			if n.Op == token.ADD {
				for _, pair := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
					if lit, ok := pair[0].(*ast.BasicLit); ok && lit.Value == `"%"` && mentionsPath(pair[1]) {
						add(n, "prefix pattern from a path: "+text(n))
					}
				}
			}
		}
		return true
	})
	return out
}
