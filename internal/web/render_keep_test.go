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
		{"<b>&", `<span class="nowrap">&lt;b&gt;&amp;</span>`},
		{"a b", "a b"},
		{"x/tmp/" + strings.Repeat("a", 45), "x/tmp/" + strings.Repeat("a", 45)}, // too long to keep: it may break
	} {
		if got := string(keepTokens(tc.in)); got != tc.want {
			t.Errorf("keepTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
