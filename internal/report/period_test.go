package report

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		kind       string
		start, end string
		wantErr    bool
	}{
		{in: "2026-11", kind: Monthly, start: "2026-11-01", end: "2026-12-01"},
		{in: "2026-12", kind: Monthly, start: "2026-12-01", end: "2027-01-01"},
		{in: "2024-02", kind: Monthly, start: "2024-02-01", end: "2024-03-01"},
		{in: "2026-W48", kind: Weekly, start: "2026-11-23", end: "2026-11-30"},
		{in: "2026-W01", kind: Weekly, start: "2025-12-29", end: "2026-01-05"},
		{in: "2020-W53", kind: Weekly, start: "2020-12-28", end: "2021-01-04"},
		{in: "2021-W01", kind: Weekly, start: "2021-01-04", end: "2021-01-11"},
		{in: "2026-W53", kind: Weekly, start: "2026-12-28", end: "2027-01-04"}, // 2026 has 53 weeks
		{in: "2025-W53", wantErr: true},
		{in: "2026-W00", wantErr: true},
		{in: "2026-W5", wantErr: true},
		{in: "2026-13", wantErr: true},
		{in: "2026-00", wantErr: true},
		{in: "2026-1", wantErr: true},
		{in: "2026/11", wantErr: true},
		{in: "1999-01", wantErr: true},
		{in: "+026-01", wantErr: true},
		{in: "2026-w48", wantErr: true},
		{in: "", wantErr: true},
		{in: "2026-11 ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePeriod(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParsePeriod(%q) = %+v, want an error", tt.in, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || !p.Start.Equal(day(tt.start)) || !p.End.Equal(day(tt.end)) || p.String() != tt.in {
				t.Errorf("ParsePeriod(%q) = %s %s..%s %q, want %s %s..%s", tt.in, p.Kind, p.Start, p.End, p.String(), tt.kind, tt.start, tt.end)
			}
		})
	}
}

func TestPrevious(t *testing.T) {
	t.Parallel()
	tests := []struct {
		now  string
		kind string
		want string
	}{
		{"2026-12-01T00:00:00Z", Monthly, "2026-11"},
		{"2026-12-31T23:59:59Z", Monthly, "2026-11"},
		{"2027-01-15T08:00:00Z", Monthly, "2026-12"},
		{"2026-11-30T00:00:00Z", Weekly, "2026-W48"}, // a Monday
		{"2026-12-06T23:00:00Z", Weekly, "2026-W48"}, // the Sunday after
		{"2027-01-04T10:00:00Z", Weekly, "2026-W53"},
		{"2026-01-01T10:00:00Z", Weekly, "2025-W52"},
	}
	for _, tt := range tests {
		now, _ := time.Parse(time.RFC3339, tt.now)
		if got := Previous(now, tt.kind).String(); got != tt.want {
			t.Errorf("Previous(%s, %s) = %s, want %s", tt.now, tt.kind, got, tt.want)
		}
	}
}

// FuzzParsePeriod checks that whatever ParsePeriod accepts is a whole week or month that
// prints back to the same text.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-W48", "2020-W53", "2026-W00", "9999-99", "2026-W", "２０２６-11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePeriod(%q).String() = %q", s, p.String())
		}
		if !p.End.After(p.Start) {
			t.Fatalf("ParsePeriod(%q): empty span %s..%s", s, p.Start, p.End)
		}
		if c := Containing(p.Start, p.Kind); c != p {
			t.Fatalf("ParsePeriod(%q) = %+v, but Containing(start) = %+v", s, p, c)
		}
		if q := Previous(p.End, p.Kind); q != p {
			t.Fatalf("Previous(end of %q) = %s", s, q)
		}
	})
}
