package appscore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseModel reads fuzzed model files, seeded with testdata/models and the built-in
// model. ParseModel must not panic; a model it accepts is valid, survives YAML and back,
// and scores findings between 0 and 100.
func FuzzParseModel(f *testing.F) {
	for _, c := range modelCases(f) {
		f.Add(c.data)
	}
	f.Add(DefaultModelYAML())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseModel(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid model: %v", err)
		}
		y, err := m.YAML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseModel(y)
		if err != nil {
			t.Fatalf("the model's own YAML is refused: %v\n%s", err, y)
		}
		if d := cmp.Diff(m, again); d != "" {
			t.Fatalf("YAML round trip (-want +got):\n%s", d)
		}
		fs := []Finding{{Type: "a.b", Severity: Critical}, {Type: "a.b", Severity: Critical}, {Type: "c.d", Severity: "x"}}
		for typ := range m.Types {
			fs = append(fs, Finding{Type: typ, Severity: High})
		}
		if r := Evaluate(fs, m); r.Score < 0 || r.Score > MaxScore {
			t.Fatalf("score %d", r.Score)
		}
	})
}
