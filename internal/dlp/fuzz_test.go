package dlp_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/dlp"
)

// FuzzScan checks that Scan never panics, that every span lies inside the
// text on rune boundaries, that findings are ordered and disjoint, and that
// previews are valid UTF-8 without the raw value.
func FuzzScan(f *testing.F) {
	files, _ := filepath.Glob("testdata/detectors/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := bytes.TrimLeft(sc.Bytes(), "+-# ")
			line = bytes.ReplaceAll(bytes.ReplaceAll(line, []byte("⟦"), nil), []byte("⟧"), nil)
			f.Add(bytes.Clone(line))
		}
	}
	f.Add([]byte("\xe4\xb8\x80患者\xff王\xe6小明 138\xe0-1234-5678 a@b.cn\x80"))
	s, err := dlp.NewScanner(dlp.Config{Custom: []dlp.CustomIdentifier{{Name: "mrn", Pattern: `(?i)mr\d{2,8}|.`, Context: []string{"病案号"}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		fs := s.Scan(text)
		end := 0
		for _, fd := range fs {
			if fd.Start < end || fd.Start >= fd.End || fd.End > len(text) {
				t.Fatalf("bad span %d..%d (previous end %d, len %d)", fd.Start, fd.End, end, len(text))
			}
			end = fd.End
			if !utf8.RuneStart(text[fd.Start]) || fd.End < len(text) && !utf8.RuneStart(text[fd.End]) {
				t.Fatalf("span %d..%d not on rune boundaries", fd.Start, fd.End)
			}
			if !utf8.ValidString(fd.Preview) {
				t.Fatalf("invalid UTF-8 preview %q", fd.Preview)
			}
			if raw := text[fd.Start:fd.End]; len(raw) >= 4 && bytes.Contains([]byte(fd.Preview), raw) {
				t.Fatalf("preview %q holds raw value", fd.Preview)
			}
			if fd.Confidence < 0 || fd.Confidence > 1 || fd.Line < 1 {
				t.Fatalf("bad finding %+v", fd)
			}
		}
	})
}
