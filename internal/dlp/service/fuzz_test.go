package dlpsvc

import (
	"encoding/json"
	"testing"

	"github.com/medguard/medguard/internal/problem"
)

// FuzzPolicyValidate feeds arbitrary policies (as JSON) to the validation that guards
// SetPolicy: it never panics, refuses with an invalid-input problem, and what it accepts
// builds a scanner and decides.
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
		d, _ := p.Decide(5, true, true)
		if d != DecisionAllow && d != DecisionAlert && d != DecisionBlock {
			t.Fatalf("decision %q", d)
		}
	})
}
