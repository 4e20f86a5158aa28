package assess

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSafeName: whatever name an upload carries, the stored name is one path element
// without control characters or quotes, at most 200 characters, never "." or "..".
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"report.pdf", "../../etc/passwd", `C:\Users\a\测评报告.docx`, "a\x00b\nc.txt", `"quoted".pdf`, ".", strings.Repeat("长", 300) + ".pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := safeName(name)
		if got == "." || got == ".." {
			t.Fatalf("%q → %q", name, got)
		}
		if utf8.RuneCountInString(got) > 200 && utf8.ValidString(name) {
			t.Fatalf("%q → %d characters", name, utf8.RuneCountInString(got))
		}
		for _, r := range got {
			if r == '/' || r == '"' || unicode.IsControl(r) {
				t.Fatalf("%q → %q holds %q", name, got, r)
			}
		}
	})
}
