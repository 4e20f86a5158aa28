package store

import (
	"math"
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

// AnyOf returns the condition "expr IN (?, …)" over vals, with vals as its arguments.
// On PostgreSQL it returns "expr = ANY(?)" with vals as one text[] argument instead: the
// statement is the same, and prepared once, for any number of values, and any number
// fits in its one parameter (a statement takes at most 65,535). vals must not be empty.
func (d Dialect) AnyOf(expr string, vals []string) (string, []any) {
	if d == Postgres {
		return expr + " = ANY(?)", []any{vals}
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return expr + " IN (" + Placeholders(len(vals)) + ")", args
}

// ListChunk returns how many values to pass AnyOf at once for a caller that would keep
// an IN list to n values: n on SQLite, all of them on PostgreSQL.
func (d Dialect) ListChunk(n int) int {
	if d == Postgres {
		return math.MaxInt
	}
	return n
}
