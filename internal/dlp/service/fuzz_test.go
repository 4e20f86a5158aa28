package dlpsvc

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
	"github.com/medguard/medguard/internal/problem"
)

// FuzzPolicyValidate feeds arbitrary policies (as JSON) to the validation that guards
// SetPolicy: it never panics, refuses with an invalid-input problem, and what it accepts
// builds a scanner and decides, with clean absolute allowed paths.
func FuzzPolicyValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, doc []byte) {
		var p Policy
		if json.Unmarshal(doc, &p) != nil {
			return
		}
		err := p.validate()
		if err != nil {
			if pe, ok := problem.As(err); !ok || pe.Kind != problem.KindInvalid {
				t.Fatalf("validate: %v, want an invalid-input problem", err)
			}
			return
		}
		if p.Unreadable == "" || p.Custom == nil {
			t.Fatalf("defaults not filled: %+v", p)
		}
		// Allowed paths come out absolute, clean and once each, and a file is never
		// outside the path it lies in.
		seen := map[string]bool{}
		for _, a := range p.AllowedPaths {
			if !filepath.IsAbs(a) || filepath.Clean(a) != a || seen[a] || strings.ContainsRune(a, 0) {
				t.Fatalf("accepted allowed path %q", a)
			}
			seen[a] = true
			if outsideAllowed(filepath.Join(a, "x.txt")+"!/member.csv", p.AllowedPaths) {
				t.Fatalf("a file under %q is outside it", a)
			}
		}
		d, _ := p.Decide(5, true, true)
		if d != DecisionAllow && d != DecisionAlert && d != DecisionBlock {
			t.Fatalf("decision %q", d)
		}
	})
}

// FuzzMaskName feeds arbitrary file names and paths to the masking of names: it never
// panics, keeps every finding's raw value as the bytes of the name it covers, keeps the
// text between findings, and adds the findings to the file's once.
func FuzzMaskName(f *testing.F) {
	sc, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		masked, pf := maskName(sc, name)
		u := unitResult{path: name}
		u.withName(sc)
		u.withName(sc)
		if u.path != masked || u.total != len(pf) || len(u.findings) != len(pf) || len(u.fields) != len(pf) || len(u.raws) != len(pf) {
			t.Fatalf("%q: path %q, total %d, %d findings, %d fields, %d raws; want %q and %d", name, u.path, u.total,
				len(u.findings), len(u.fields), len(u.raws), masked, len(pf))
		}
		var rest strings.Builder
		last := 0
		for i, f := range pf {
			if f.Start < last || f.End > len(name) || string(u.raws[i]) != name[f.Start:f.End] || u.fields[i] != FieldPath {
				t.Fatalf("%q: finding %d %+v, raw %q", name, i, f, u.raws[i])
			}
			rest.WriteString(name[last:f.Start])
			rest.WriteString(f.Preview)
			last = f.End
		}
		rest.WriteString(name[last:])
		if rest.String() != masked {
			t.Fatalf("%q masked as %q, want %q", name, masked, rest.String())
		}
		if len(pf) > 0 && u.verdict.CountsByType[pf[0].Type] == 0 {
			t.Fatalf("%q: the findings of the name are not counted: %+v", name, u.verdict)
		}
	})
}
