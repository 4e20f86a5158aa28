package vuln_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/vuln"
)

// fixtureComparison is one line of a testdata/versions file.
type fixtureComparison struct {
	line int
	a, b string
	want int
}

// readVersionFixture reads "a < b", "a = b" and "a > b" lines, skipping blank lines and
// "#" comments.
func readVersionFixture(t testing.TB, path string) []fixtureComparison {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixtureComparison
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want \"a OP b\", got %q", path, n, sc.Text())
		}
		c := fixtureComparison{line: n, a: fields[0], b: fields[2]}
		switch fields[1] {
		case "<":
			c.want = -1
		case "=":
			c.want = 0
		case ">":
			c.want = 1
		default:
			t.Fatalf("%s:%d: operator %q is not <, = or >", path, n, fields[1])
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVersionFixtures checks every comparison of testdata/versions/<ecosystem>.txt in
// both directions.
func TestVersionFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "versions", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, path := range files {
		eco := strings.TrimSuffix(filepath.Base(path), ".txt")
		have[eco] = true
		t.Run(eco, func(t *testing.T) {
			t.Parallel()
			cases := readVersionFixture(t, path)
			if len(cases) < 25 {
				t.Errorf("%s has %d comparisons, want at least 25", path, len(cases))
			}
			for _, c := range cases {
				got, err := vuln.Compare(eco, c.a, c.b)
				if err != nil {
					t.Errorf("%s:%d: Compare(%q, %q): %v", path, c.line, c.a, c.b, err)
					continue
				}
				if got != c.want {
					t.Errorf("%s:%d: Compare(%q, %q) = %d, want %d", path, c.line, c.a, c.b, got, c.want)
				}
				if back, err := vuln.Compare(eco, c.b, c.a); err != nil || back != -c.want {
					t.Errorf("%s:%d: Compare(%q, %q) = %d, %v, want %d", path, c.line, c.b, c.a, back, err, -c.want)
				}
			}
		})
	}
	for _, eco := range []string{"npm", "PyPI", "Maven", "Go", "crates.io", "RubyGems", "NuGet", "Packagist", "Debian", "Alpine", "Ubuntu", vuln.SemVer} {
		if !have[eco] {
			t.Errorf("no fixture testdata/versions/%s.txt", eco)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, c := range []struct {
		name, eco, v string
		want         error
	}{
		{"unsupported ecosystem", "GitHub Actions", "1.0", vuln.ErrUnsupportedEcosystem},
		{"unknown ecosystem", "NoSuchEcosystem", "1.0", vuln.ErrUnsupportedEcosystem},
		{"bad Hackage version", "Hackage", "1.0+build", vuln.ErrInvalidVersion},
		{"bad Debian version", "Debian", "1.0:bad:", vuln.ErrInvalidVersion},
		{"too long", "npm", strings.Repeat("1", 2000), vuln.ErrInvalidVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := vuln.ParseVersion(c.eco, c.v)
			if !errors.Is(err, c.want) {
				t.Fatalf("ParseVersion(%q, %.20q) error = %v, want %v", c.eco, c.v, err, c.want)
			}
		})
	}
	// A suffix does not change the ordering.
	if c, err := vuln.Compare("Debian:11", "1.0~rc1", "1.0"); err != nil || c != -1 {
		t.Fatalf("Compare(Debian:11) = %d, %v; want -1", c, err)
	}
	a, _ := vuln.ParseVersion("npm", "1.0.0")
	b, _ := vuln.ParseVersion("PyPI", "1.0.0")
	if _, err := a.Compare(b); err == nil {
		t.Fatal("comparing an npm with a PyPI version succeeded")
	}
}

// TestComparable checks every line of testdata/comparable.txt.
func TestComparable(t *testing.T) {
	const path = "testdata/comparable.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "|")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 3 fields separated by |", path, i+1)
		}
		eco, v, want := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1]), strings.TrimSpace(fields[2])
		if want != "yes" && want != "no" {
			t.Fatalf("%s:%d: want yes or no, got %q", path, i+1, want)
		}
		n++
		if got := vuln.Comparable(eco, v); got != (want == "yes") {
			t.Errorf("%s:%d: Comparable(%q, %q) = %v, want %s", path, i+1, eco, v, got, want)
		}
	}
	if n < 30 {
		t.Fatalf("only %d cases", n)
	}
}
