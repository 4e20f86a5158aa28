package dlp_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/dlp"
)

// Fixture files testdata/detectors/<type>.txt hold one case a line:
//
//   - text with ⟦value⟧   the scanner must report each marked span as <type>
//   - text                the scanner must report no <type> finding
//     # comment
//
// A "+" line may mark several values. Findings of other types are ignored.
// A "+" line that must reach a confidence writes it after the text as
// " @0.9".
func TestDetectorFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/detectors/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	s, err := dlp.NewScanner(dlp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		typ := strings.TrimSuffix(filepath.Base(file), ".txt")
		seen[typ] = true
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			line, cases := 0, 0
			for sc.Scan() {
				line++
				raw := sc.Text()
				if strings.TrimSpace(raw) == "" || strings.HasPrefix(raw, "#") {
					continue
				}
				if len(raw) < 2 || (raw[0] != '+' && raw[0] != '-') || raw[1] != ' ' {
					t.Fatalf("%s:%d: want '+ ' or '- ' prefix", file, line)
				}
				cases++
				text, want, minConf := parseCase(t, file, line, raw[2:])
				var got [][2]int
				for _, fd := range s.Scan([]byte(text)) {
					if fd.Type != typ {
						continue
					}
					got = append(got, [2]int{fd.Start, fd.End})
					if raw[0] == '+' && fd.Confidence < minConf {
						t.Errorf("%s:%d: confidence %.2f < %.2f", file, line, fd.Confidence, minConf)
					}
				}
				if raw[0] == '-' {
					if len(got) > 0 {
						t.Errorf("%s:%d: unexpected %s %q in %q", file, line, typ, text[got[0][0]:got[0][1]], text)
					}
					continue
				}
				if len(want) == 0 {
					t.Fatalf("%s:%d: '+' case without ⟦value⟧", file, line)
				}
				if !equalSpans(got, want) {
					t.Errorf("%s:%d: %q: got %s, want %s", file, line, text, spans(text, got), spans(text, want))
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if cases < 4 {
				t.Errorf("%s: only %d cases", file, cases)
			}
		})
	}
	for _, typ := range dlp.AllTypes() {
		if !seen[typ] {
			t.Errorf("no fixture file for %s", typ)
		}
	}
}

func parseCase(t *testing.T, file string, line int, s string) (string, [][2]int, float64) {
	t.Helper()
	minConf := 0.0
	if k := strings.LastIndex(s, " @0."); k >= 0 {
		var err error
		if minConf, err = strconv.ParseFloat(s[k+2:], 64); err != nil {
			t.Fatalf("%s:%d: bad confidence: %v", file, line, err)
		}
		s = s[:k]
	}
	var b strings.Builder
	var want [][2]int
	start := -1
	for _, r := range s {
		switch r {
		case '⟦':
			start = b.Len()
		case '⟧':
			if start < 0 {
				t.Fatalf("%s:%d: unbalanced ⟧", file, line)
			}
			want = append(want, [2]int{start, b.Len()})
			start = -1
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), want, minConf
}

func equalSpans(a, b [][2]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func spans(text string, s [][2]int) string {
	var parts []string
	for _, p := range s {
		parts = append(parts, "⟦"+text[p[0]:p[1]]+"⟧")
	}
	return "[" + strings.Join(parts, " ") + "]"
}
