package store

import (
	"fmt"
	"time"
)

// Time scans a timestamp column, or an aggregate of one (MIN, MAX), on either engine:
// SQLite returns an aggregate of a TIMESTAMP column as text, since the result has no
// declared type. Valid is false for NULL.
type Time struct {
	Time  time.Time // in UTC
	Valid bool
}

// sqliteLayouts are the layouts the SQLite driver writes times in (_time_format=sqlite)
// and the ISO forms of older rows.
var sqliteLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999"}

// Scan implements sql.Scanner.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
		return nil
	case time.Time:
		*t = Time{Time: v.UTC(), Valid: true}
		return nil
	case []byte:
		return t.parse(string(v))
	case string:
		return t.parse(v)
	}
	return fmt.Errorf("store: cannot scan %T as a time", src)
}

func (t *Time) parse(s string) error {
	for _, layout := range sqliteLayouts {
		if p, err := time.Parse(layout, s); err == nil {
			*t = Time{Time: p.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("store: cannot parse time %q", s)
}

// Ptr returns a pointer to the time, or nil for NULL.
func (t Time) Ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}
