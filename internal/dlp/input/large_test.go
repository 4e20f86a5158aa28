package input_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/dlp/input"
)

// TestPathologicalInputs feeds inputs that made earlier versions quadratic
// (deep nesting, many stream keywords, unclosed tags): each must come back
// as a unit or a problem. A regression shows as a test that takes minutes.
func TestPathologicalInputs(t *testing.T) {
	t.Parallel()
	cases := map[string][]byte{
		"many-streams.pdf": append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("stream\nx endstream "), 20000)...),
		"ranges.pdf":       []byte("%PDF-1.4\n1 0 obj\nstream\nbegincmap " + strings.Repeat("beginbfrange <0000> <ffff> <4e00> endbfrange ", 500) + "\nendstream\n"),
		"deep.json":        []byte(strings.Repeat("[", 5000) + strings.Repeat("1,", 20000) + "1" + strings.Repeat("]", 5000)),
		"unclosed.xml":     []byte(strings.Repeat("<a b='1'>", 20000)),
		"scripts.html":     []byte(strings.Repeat("<script><<<<<<<", 20000)),
		"quotes.csv":       []byte(strings.Repeat("\"a,", 50000)),
		"fields.hl7":       []byte("MSH|" + strings.Repeat("|", 200000)),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			units, probs := decode(t, name, data, input.Limits{})
			for _, u := range units {
				for off := 0; off < len(u.Text); off += len(u.Text)/64 + 1 {
					u.Field(off)
				}
			}
			if len(units)+len(probs) == 0 {
				t.Error("neither a unit nor a problem")
			}
		})
	}
}
