package rulestore_test

import (
	"testing"

	"github.com/medguard/medguard/internal/detect"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/rulestore"
)

// FuzzParse: whatever an editor submits, Parse never panics, and a refusal is always an
// invalid-input problem on the field yaml naming a catalogue key.
func FuzzParse(f *testing.F) {
	for _, r := range detect.Builtin()[:5] {
		f.Add(r.YAML())
	}
	f.Add([]byte(customRule))
	f.Add([]byte("id: x\nkind: count\ngroup_by: [nope]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := rulestore.Parse(b)
		if err == nil {
			return
		}
		pe, ok := problem.As(err)
		if !ok || pe.Kind != problem.KindInvalid || pe.Field != "yaml" || pe.Msg == nil || pe.Msg.Key == "" {
			t.Fatalf("Parse(%q): %v is not an invalid-input problem with a message key", b, err)
		}
	})
}
