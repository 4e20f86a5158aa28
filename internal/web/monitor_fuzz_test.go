package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/problem"
)

// FuzzMonitorTime feeds the range bounds of the investigations: a bound is read or
// refused with a problem that does not echo the value, never a panic.
func FuzzMonitorTime(f *testing.F) {
	for _, s := range []string{"2026-03-01", "2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z", "2026-13-01", "P2026000101", "",
		"2026-02-30", "9999-12-31", "2026-03-01 08:00:00"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, v string, end bool) {
		got, err := parseMonitorTime("from", v, end)
		if err == nil {
			if got.IsZero() && v != "0001-01-01" && !strings.HasPrefix(v, "0001-01-01T") {
				t.Errorf("%q: zero time without an error", v)
			}
			return
		}
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Field != "from" {
			t.Fatalf("%q: %v is not a problem of the field", v, err)
		}
		if len(v) > 3 && strings.Contains(pe.Message, v) {
			t.Errorf("the problem echoes the value: %s", pe.Message)
		}
	})
}
