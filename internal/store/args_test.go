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

func TestTimeScan(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 4, 1, 8, 0, 0, 123456000, time.UTC)
	for _, src := range []any{want, want.In(time.FixedZone("CST", 8*3600)), "2026-04-01 08:00:00.123456+00:00",
		[]byte("2026-04-01 16:00:00.123456+08:00"), "2026-04-01T08:00:00.123456Z"} {
		var got Time
		if err := got.Scan(src); err != nil || !got.Valid || !got.Time.Equal(want) || got.Time.Location() != time.UTC {
			t.Errorf("Scan(%v) = %+v, %v; want %v", src, got, err, want)
		}
	}
	got := Time{Time: want, Valid: true}
	if err := got.Scan(nil); err != nil || got.Valid || !got.Time.IsZero() {
		t.Errorf("Scan(nil) = %+v, %v", got, err)
	}
	if err := got.Scan("yesterday"); err == nil {
		t.Error("Scan(\"yesterday\") succeeded")
	}
	if err := got.Scan(42); err == nil {
		t.Error("Scan(42) succeeded")
	}
	if p := got.Ptr(); p != nil {
		t.Errorf("Ptr of NULL = %v", p)
	}
	got = Time{Time: want, Valid: true}
	if p := got.Ptr(); p == nil || !p.Equal(want) {
		t.Errorf("Ptr = %v, want %v", p, want)
	}
}
