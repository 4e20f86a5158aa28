package problem

import (
	"strings"
	"testing"
)

// TestText: trimmed, required, bounded in characters (not bytes), valid UTF-8 only.
func TestText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v        string
		max      int
		required bool
		want     string
		code     string
	}{
		{"  医院信息系统 ", 6, true, "医院信息系统", ""},
		{"", 10, false, "", ""},
		{"   ", 10, true, "", "required"},
		{strings.Repeat("长", 7), 6, false, "", "invalid"},
		{"a\x00b", 10, false, "", "invalid"},
		{"\xff", 10, false, "", "invalid"},
	} {
		got, err := Text("title", tc.v, tc.max, tc.required)
		if tc.code == "" {
			if err != nil || got != tc.want {
				t.Errorf("Text(%q) = %q, %v; want %q", tc.v, got, err, tc.want)
			}
			continue
		}
		pe, ok := As(err)
		if !ok || pe.Field != "title" || pe.Msg == nil {
			t.Errorf("Text(%q): %v, want a problem of the field with a message", tc.v, err)
		}
	}
}
