package vuln_test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/vuln"
)

// rangeCase is one line of testdata/ranges.txt.
type rangeCase struct {
	line     int
	affected vuln.Affected
	version  string
	want     bool
	outcome  vuln.Outcome
}

func readRangeCases(t testing.TB) []rangeCase {
	t.Helper()
	const path = "testdata/ranges.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []rangeCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "|")
		if len(fields) != 6 {
			t.Fatalf("%s:%d: want 6 fields separated by |, got %d", path, n, len(fields))
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		a := vuln.Affected{VulnID: "TEST-1", Ecosystem: fields[0], Name: fields[1]}
		r := vuln.Range{Type: fields[2]}
		for _, tok := range strings.Fields(fields[3]) {
			kind, val, ok := strings.Cut(tok, ":")
			if !ok {
				t.Fatalf("%s:%d: event %q has no kind", path, n, tok)
			}
			switch kind {
			case "i":
				r.Events = append(r.Events, vuln.Event{Introduced: val})
			case "f":
				r.Events = append(r.Events, vuln.Event{Fixed: val})
			case "la":
				r.Events = append(r.Events, vuln.Event{LastAffected: val})
			case "l":
				r.Events = append(r.Events, vuln.Event{Limit: val})
			case "v":
				a.Versions = append(a.Versions, val)
			default:
				t.Fatalf("%s:%d: unknown event kind %q", path, n, kind)
			}
		}
		if r.Type != "-" {
			a.Ranges = []vuln.Range{r}
		}
		c := rangeCase{line: n, affected: a, version: fields[4]}
		if c.version == `""` {
			c.version = ""
		}
		switch fields[5] {
		case "yes":
			c.want, c.outcome = true, vuln.IsAffected
		case "no":
			c.outcome = vuln.NotAffected
		case "nc":
			c.outcome = vuln.NotComparable
		default:
			t.Fatalf("%s:%d: want yes, no or nc, got %q", path, n, fields[5])
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRanges evaluates every case of testdata/ranges.txt, compiled and not.
func TestRanges(t *testing.T) {
	cases := readRangeCases(t)
	if len(cases) < 50 {
		t.Fatalf("only %d range cases", len(cases))
	}
	for _, c := range cases {
		uncompiled := c.affected
		if got := uncompiled.Contains(c.version); got != c.want {
			t.Errorf("ranges.txt:%d: uncompiled Contains(%q) = %v, want %v", c.line, c.version, got, c.want)
		}
		compiled := c.affected
		compiled.Compile()
		if got := compiled.Contains(c.version); got != c.want {
			t.Errorf("ranges.txt:%d: Contains(%q) = %v, want %v", c.line, c.version, got, c.want)
		}
		if got := compiled.Evaluate(c.version); got != c.outcome {
			t.Errorf("ranges.txt:%d: Evaluate(%q) = %v, want %v", c.line, c.version, got, c.outcome)
		}
		if got := uncompiled.Evaluate(c.version); got != c.outcome {
			t.Errorf("ranges.txt:%d: uncompiled Evaluate(%q) = %v, want %v", c.line, c.version, got, c.outcome)
		}
	}
}

func TestAppliesTo(t *testing.T) {
	for _, c := range []struct {
		recordEco, recordName string
		pkg                   vuln.Package
		want                  bool
	}{
		{"Debian", "openssl", vuln.Package{Ecosystem: "Debian:11", Name: "openssl"}, true},
		{"Debian:11", "openssl", vuln.Package{Ecosystem: "Debian:11", Name: "openssl"}, true},
		{"Debian:11", "openssl", vuln.Package{Ecosystem: "Debian", Name: "openssl"}, true},
		{"Debian:12", "openssl", vuln.Package{Ecosystem: "Debian:11", Name: "openssl"}, false},
		{"Ubuntu:22.04:LTS", "curl", vuln.Package{Ecosystem: "Ubuntu:22.04:LTS", Name: "curl"}, true},
		{"Ubuntu:Pro:22.04:LTS", "curl", vuln.Package{Ecosystem: "Ubuntu:22.04:LTS", Name: "curl"}, false},
		{"Debian", "openssl", vuln.Package{Ecosystem: "Ubuntu", Name: "openssl"}, false},
		{"PyPI", "Django", vuln.Package{Ecosystem: "PyPI", Name: "django"}, true},
		{"PyPI", "zope.interface", vuln.Package{Ecosystem: "PyPI", Name: "Zope_Interface"}, true},
		{"npm", "Lodash", vuln.Package{Ecosystem: "npm", Name: "lodash"}, false},
		{"Go", "github.com/BurntSushi/toml", vuln.Package{Ecosystem: "Go", Name: "github.com/burntsushi/toml"}, false},
	} {
		a := vuln.Affected{Ecosystem: c.recordEco, Name: c.recordName}
		if got := a.AppliesTo(c.pkg); got != c.want {
			t.Errorf("%s/%s AppliesTo(%+v) = %v, want %v", c.recordEco, c.recordName, c.pkg, got, c.want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	for _, c := range []struct{ eco, in, want string }{
		{"PyPI", "Django", "django"},
		{"PyPI", "zope.interface", "zope-interface"},
		{"PyPI", "Foo__Bar-._baz", "foo-bar-baz"},
		{"PyPI:custom", "A_B", "a-b"},
		{"npm", "Foo_Bar", "Foo_Bar"},
		{"Maven", "org.Foo:bar_baz", "org.Foo:bar_baz"},
	} {
		if got := vuln.NormalizeName(c.eco, c.in); got != c.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", c.eco, c.in, got, c.want)
		}
	}
}
