package web

import (
	"strings"
	"testing"
)

// TestKeepTokens: short ASCII runs are kept whole, the rest escaped as text.
func TestKeepTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"出院小结-ZY2*****4521.docx（最高级别 4）", `出院小结<span class="nowrap">-ZY2*****4521.docx</span>（最高级别 4）`},
		{"<b>&", "&lt;b&gt;&amp;"},
		{"due on 2026-12-28, a/b", `due on <span class="nowrap">2026-12-28,</span> <span class="nowrap">a/b</span>`},
		{"discharge.docx blocked", "discharge.docx blocked"},
		{"a b", "a b"},
		{"x/tmp/" + strings.Repeat("a", 45), "x/tmp/" + strings.Repeat("a", 45)}, // too long to keep: it may break
	} {
		if got := string(keepTokens(tc.in)); got != tc.want {
			t.Errorf("keepTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
