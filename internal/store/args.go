package store

import (
	"strings"
	"time"
)

// NullTime returns *t in UTC as a query argument, or NULL when t is nil.
func NullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// NullID returns id as a query argument, or NULL when it is 0 (no row referenced).
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Placeholders returns "?, ?, …" with n marks, for an IN list or a multi-row insert.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
