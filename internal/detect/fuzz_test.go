package detect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: rule YAML from outside (a file, the UI) is refused with an error or read
// into a valid rule, never a panic; a rule read writes back to YAML that reads the same.
func FuzzParse(f *testing.F) {
	for _, r := range Builtin() {
		f.Add(r.YAML())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseAll(b)
		if err != nil {
			return
		}
		for _, r := range rs {
			if err := r.Validate(); err != nil {
				t.Fatalf("ParseAll returned an invalid rule: %v", err)
			}
			back, err := Parse(r.YAML())
			if err != nil {
				t.Fatalf("rule %s: its YAML does not parse: %v\n%s", r.ID, err, r.YAML())
			}
			if d := cmp.Diff(r, back); d != "" {
				t.Fatalf("rule %s: round trip (-want +got):\n%s", r.ID, d)
			}
		}
	})
}
