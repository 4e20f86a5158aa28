package appscore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modelCase is a model file of testdata/models; its first line "# want: TEXT" says what
// ParseModel must make of it: ok, or an error containing TEXT (any error when empty).
type modelCase struct {
	name, want string
	data       []byte
}

func modelCases(t testing.TB) []modelCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "models", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no model files: %v", err)
	}
	var out []modelCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		want, ok := strings.CutPrefix(first, "# want:")
		if !ok {
			t.Fatalf("%s: the first line must be \"# want: ...\"", f)
		}
		out = append(out, modelCase{name: filepath.Base(f), want: strings.TrimSpace(want), data: b})
	}
	return out
}

// TestParseModel: each model file is accepted or refused as its first line says, with
// the field at fault named in a *ModelError.
func TestParseModel(t *testing.T) {
	t.Parallel()
	for _, c := range modelCases(t) {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseModel(c.data)
			if c.want == "ok" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if err := m.Validate(); err != nil {
					t.Fatalf("parsed but invalid: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error saying %q", c.want)
			}
			var me *ModelError
			if !errors.As(err, &me) {
				t.Errorf("%v is not a *ModelError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// TestDefaultModel: the built-in model is valid, lists the finding types of the issue
// with labels in both languages, and survives YAML and back.
func TestDefaultModel(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	if m.Grades != (Grades{A: 85, B: 70}) || m.RectificationDays != 30 {
		t.Errorf("grades %+v, days %d", m.Grades, m.RectificationDays)
	}
	for _, typ := range []string{"channel.foreign_signer", "channel.unofficial_build", "channel.outdated_version",
		"channel.inconsistent_versions", "authcode.expired", "contacts.missing", "vuln.open", "alert.open",
		"apk.debuggable", "apk.cleartext", "apk.exported_component", "apk.dangerous_permission", "apk.v1_only",
		"apk.debug_certificate", "apk.weak_signature", "apk.signature_invalid", "web.tls", "web.header"} {
		r, ok := m.Types[typ]
		if !ok {
			t.Errorf("type %s missing", typ)
			continue
		}
		if r.Cap == 0 || r.Deductions[Critical] == 0 || r.Deductions[Critical] < r.Deductions[High] ||
			r.Deductions[High] < r.Deductions[Medium] || r.Deductions[Medium] < r.Deductions[Low] {
			t.Errorf("type %s: deductions %v cap %d not ordered by severity", typ, r.Deductions, r.Cap)
		}
	}
	y, err := m.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseModel(y)
	if err != nil {
		t.Fatalf("the model's YAML does not parse: %v\n%s", err, y)
	}
	if d := cmp.Diff(m, again); d != "" {
		t.Errorf("YAML round trip (-want +got):\n%s", d)
	}
	if string(DefaultModelYAML()) != string(defaultYAML) {
		t.Error("DefaultModelYAML differs from default.yaml")
	}
}

// TestValidate: models built in Go are checked as files are.
func TestValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		edit func(*Model)
		want string
	}{
		{"unknown severity", func(m *Model) { m.Other.Deductions["urgent"] = 3 }, `other.deductions: unknown severity "urgent"`},
		{"negative", func(m *Model) { m.Types["vuln.open"].Deductions[Low] = -1 }, "types.vuln.open.deductions.low: -1 is negative"},
		{"over 100", func(m *Model) { m.Types["vuln.open"].Deductions[Critical] = 101 }, "more than 100"},
		{"thresholds", func(m *Model) { m.Grades = Grades{A: 70, B: 85} }, "grades.b"},
		{"negative b", func(m *Model) { m.Grades.B = -1 }, "grades.b"},
		{"a zero", func(m *Model) { m.Grades = Grades{A: 0, B: 0} }, "grades.a"},
		{"days", func(m *Model) { m.RectificationDays = 400 }, "rectification_days"},
		{"no other", func(m *Model) { m.Other = Rule{} }, "other.label"},
		{"bad id", func(m *Model) { m.Types["Vuln"] = m.Types["vuln.open"] }, "types.Vuln"},
	} {
		m := DefaultModel()
		c.edit(&m)
		if err := m.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// TestParseSeverity: the five severities in any case; anything else is refused.
func TestParseSeverity(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Severity{"critical": Critical, "High": High, " medium ": Medium, "LOW": Low, "info": Info} {
		if got, err := ParseSeverity(in); err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "urgent", "crit", "4"} {
		if got, err := ParseSeverity(in); err == nil {
			t.Errorf("ParseSeverity(%q) = %q", in, got)
		}
	}
}
