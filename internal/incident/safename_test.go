package incident

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSafeName: a long name keeps a short extension and stays within 200 characters; a
// dot near the start of a long name (no real extension) does not make it panic.
func TestSafeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{`C:\Users\王医生\报告.pdf`, "报告.pdf"},
		{"../../etc/passwd", "passwd"},
		{"a\x00b\".txt", "ab.txt"},
		{"..", ""},
		{strings.Repeat("长", 250) + ".pdf", strings.Repeat("长", 196) + ".pdf"},
		{"a." + strings.Repeat("x", 300), "a." + strings.Repeat("x", 198)},
	} {
		got := SafeName(tc.name)
		if got != tc.want {
			t.Errorf("SafeName(%.40q…) = %.40q…, want %.40q…", tc.name, got, tc.want)
		}
		if utf8.RuneCountInString(got) > 200 {
			t.Errorf("SafeName(%.40q…) has %d characters", tc.name, utf8.RuneCountInString(got))
		}
	}
}
