package licence

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzEvaluate evaluates expressions seeded from testdata/verdicts.txt under the default
// policy. Evaluate must not panic and must give a known verdict with a reason; a valid
// expression printed back must parse to the same expression.
func FuzzEvaluate(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "verdicts.txt"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if expr, _, ok := strings.Cut(sc.Text(), "=>"); ok {
			f.Add(strings.TrimSpace(expr))
		}
	}
	m := DefaultPolicy().Matcher()
	f.Fuzz(func(t *testing.T, expr string) {
		r := m.Evaluate(expr)
		switch r.Verdict {
		case VerdictAllowed, VerdictReview, VerdictUnknown, VerdictDenied:
		default:
			t.Fatalf("Evaluate(%q) = unknown verdict %q", expr, r.Verdict)
		}
		if r.Reason == "" {
			t.Fatalf("Evaluate(%q): no reason", expr)
		}
		n, err := parseExpression(expr)
		if err != nil {
			return
		}
		again, err := parseExpression(n.String())
		if err != nil || again.String() != n.String() {
			t.Fatalf("%q printed as %q, which parses as %v, %v", expr, n.String(), again, err)
		}
		if r2 := m.Evaluate(n.String()); r2.Verdict != r.Verdict {
			t.Fatalf("%q is %s but its normal form %q is %s", expr, r.Verdict, n.String(), r2.Verdict)
		}
	})
}

// FuzzParsePolicy reads policies seeded from testdata/policies (and testdata/fuzz); a policy
// that parses must validate; an error is a *PolicyError whose Safe text never quotes
// echoMarker.
// echoMarker stands for a patient identifier in a document (seeds carry it).
const echoMarker = "440305198807150031"

func FuzzParsePolicy(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "policies", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "licence: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			pe, ok := err.(*PolicyError)
			if !ok {
				t.Fatalf("error %T is not a *PolicyError: %v", err, err)
			}
			if bytes.Contains(data, []byte(echoMarker)) && strings.Contains(pe.Safe(), echoMarker) {
				t.Fatalf("Safe() quotes the document: %q", pe.Safe())
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		p.Evaluate("MIT OR GPL-2.0-only")
	})
}
