package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The kinds of a period.
const (
	Weekly  = "weekly"
	Monthly = "monthly"
)

// Period is the span a report covers: an ISO week (Monday 00:00 UTC to the next Monday)
// or a calendar month, End exclusive.
type Period struct {
	Kind  string    `json:"kind"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// String is the period as ParsePeriod reads it: "2026-11" for a month, "2026-W48" for
// an ISO week.
func (p Period) String() string {
	switch p.Kind {
	case Weekly:
		y, w := p.Start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Monthly:
		return p.Start.Format("2006-01")
	}
	return ""
}

// IsZero reports whether p is no period.
func (p Period) IsZero() bool { return p.Kind == "" }

// ValidKind reports whether k is weekly or monthly.
func ValidKind(k string) bool { return k == Weekly || k == Monthly }

// ParsePeriod reads "YYYY-MM" (a month) or "YYYY-Www" (an ISO 8601 week, W01 … W52 or
// W53 in the years that have it). Years run from 2000 to 2999.
func ParsePeriod(s string) (Period, error) {
	bad := fmt.Errorf("report: period %q: want YYYY-MM or YYYY-Www", s)
	if len(s) < 7 || s[4] != '-' {
		return Period{}, bad
	}
	y, err := digits(s[:4])
	if err != nil || y < 2000 || y > 2999 {
		return Period{}, bad
	}
	rest := s[5:]
	if strings.HasPrefix(rest, "W") {
		if len(rest) != 3 {
			return Period{}, bad
		}
		w, err := digits(rest[1:])
		if err != nil || w < 1 || w > isoWeeks(y) {
			return Period{}, fmt.Errorf("report: period %q: year %d has weeks 1 to %d", s, y, isoWeeks(y))
		}
		start := isoWeekStart(y, w)
		return Period{Kind: Weekly, Start: start, End: start.AddDate(0, 0, 7)}, nil
	}
	if len(rest) != 2 {
		return Period{}, bad
	}
	m, err := digits(rest)
	if err != nil || m < 1 || m > 12 {
		return Period{}, bad
	}
	start := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	return Period{Kind: Monthly, Start: start, End: start.AddDate(0, 1, 0)}, nil
}

// digits reads a string of ASCII digits only (no sign, no spaces).
func digits(s string) (int, error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

// isoWeekStart is the Monday of ISO week w of year y: week 1 holds 4 January.
func isoWeekStart(y, w int) time.Time {
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w-1))
}

// isoWeeks is the number of ISO weeks of year y (52 or 53): 28 December is always in
// the last one.
func isoWeeks(y int) int {
	_, w := time.Date(y, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// Containing is the period of the kind that holds t (UTC).
func Containing(t time.Time, kind string) Period {
	t = t.UTC()
	switch kind {
	case Weekly:
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		start := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return Period{Kind: Weekly, Start: start, End: start.AddDate(0, 0, 7)}
	case Monthly:
		start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return Period{Kind: Monthly, Start: start, End: start.AddDate(0, 1, 0)}
	}
	return Period{}
}

// Previous is the last complete period of the kind before now: the week or month before
// the one now is in.
func Previous(now time.Time, kind string) Period {
	cur := Containing(now, kind)
	if cur.IsZero() {
		return cur
	}
	return Containing(cur.Start.Add(-time.Nanosecond), kind)
}
