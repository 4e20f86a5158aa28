package store

import (
	"net/url"
	"strings"
	"testing"
)

// TestSQLiteBusyTimeoutFirst reads the pragma order of the SQLite DSN: busy_timeout
// must come before every other pragma, or journal_mode(WAL) on a new connection fails
// with SQLITE_BUSY while another process writes, instead of waiting.
func TestSQLiteBusyTimeoutFirst(t *testing.T) {
	dsn := sqliteDSN("/tmp/x.db")
	_, query, ok := strings.Cut(dsn, "?")
	if !ok {
		t.Fatalf("dsn %q has no query", dsn)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	pragmas := q["_pragma"]
	if len(pragmas) < 2 {
		t.Fatalf("pragmas = %v, want several", pragmas)
	}
	if !strings.HasPrefix(pragmas[0], "busy_timeout(") {
		t.Errorf("first pragma = %q, want busy_timeout (all: %v)", pragmas[0], pragmas)
	}
}
