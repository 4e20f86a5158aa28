package problem_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/guardtest"

	"github.com/medguard/medguard/internal/i18n"
)

// needMsg are the constructors whose message is specific to the call: a reader sees it
// only through the catalogue key the call names with WithMsg (or a catalogued code).
// NotFound, Forbidden, Unauthorized and TooMany are translated by their code.
var needMsg = map[string]bool{"Invalid": true, "Conflict": true}

// TestProblemsNameTheirMessage fails on every problem.Invalid or problem.Conflict built
// outside package problem without WithMsg("key", …) (or WithCode of a code the catalogues
// translate) in the same expression: its English message would be shown as it is to a
// Chinese reader. Every key so named must exist in both catalogues.
func TestProblemsNameTheirMessage(t *testing.T) {
	cat := i18n.MustLoad()
	var bad []string
	calls := 0
	for _, src := range guardtest.Sources(t, "..") {
		if path.Dir(src.Rel) == "problem" {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, src.Path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		rel := src.Rel
		covered := map[*ast.CallExpr]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "WithMsg" && sel.Sel.Name != "WithCode") || len(call.Args) == 0 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			key, _ := strconv.Unquote(lit.Value)
			if sel.Sel.Name == "WithCode" {
				key = codeKey(cat, key)
				if key == "" {
					return true
				}
			}
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, key) {
					bad = append(bad, rel+":"+strconv.Itoa(fset.Position(call.Pos()).Line)+": key "+strconv.Quote(key)+" missing in "+lang)
				}
			}
			// Mark every call down the chain: problem.Invalid(…).WithErr(…).WithMsg(…).
			for x := sel.X; ; {
				c, ok := x.(*ast.CallExpr)
				if !ok {
					break
				}
				covered[c] = true
				s, ok := c.Fun.(*ast.SelectorExpr)
				if !ok {
					break
				}
				x = s.X
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "problem" || !needMsg[sel.Sel.Name] {
				return true
			}
			calls++
			if !covered[call] {
				bad = append(bad, rel+":"+strconv.Itoa(fset.Position(call.Pos()).Line)+": problem."+sel.Sel.Name+" without WithMsg")
			}
			return true
		})
	}
	if calls < 50 {
		t.Fatalf("found only %d problem.Invalid/Conflict calls; the guard is looking in the wrong place", calls)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// codeKey is the catalogue key that translates a problem code ("<area>error.<code>"), or
// "" when no area's catalogue has one.
func codeKey(cat *i18n.Catalog, code string) string {
	for _, area := range []string{"", "asset.", "supply.", "dlp."} {
		if k := area + "error." + code; cat.Has(i18n.EN, k) {
			return k
		}
	}
	return ""
}
