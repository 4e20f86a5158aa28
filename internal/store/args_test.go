package store

import (
	"testing"
	"time"
)

func TestQueryArgs(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{-1: "", 0: "", 1: "?", 3: "?, ?, ?"} {
		if got := Placeholders(n); got != want {
			t.Errorf("Placeholders(%d) = %q, want %q", n, got, want)
		}
	}
	if NullID(0) != nil || NullID(7) != int64(7) {
		t.Errorf("NullID: %v, %v", NullID(0), NullID(7))
	}
	at := time.Date(2026, 11, 23, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if NullTime(nil) != nil {
		t.Error("NullTime(nil) is not NULL")
	}
	if got, ok := NullTime(&at).(time.Time); !ok || got.Location() != time.UTC || !got.Equal(at) {
		t.Errorf("NullTime = %v", NullTime(&at))
	}
}
