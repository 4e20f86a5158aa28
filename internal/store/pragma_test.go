package store

import (
	"context"
	"net/url"
	"path/filepath"
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

// TestSQLiteWriterCache: the writer connection keeps a 64 MiB page cache and its
// statement journals in memory. With SQLite's default 2 MiB cache, a batch of 10,000
// events spills dirty index pages to the WAL before the commit and reads them back, and
// a multi-row statement's journal goes to a temporary file.
func TestSQLiteWriterCache(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLiteFile(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cache, temp int
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `PRAGMA temp_store`).Scan(&temp)
	})
	if err != nil {
		t.Fatal(err)
	}
	if cache != -65536 || temp != 2 {
		t.Errorf("writer: cache_size %d, temp_store %d; want -65536 (64 MiB) and 2 (memory)", cache, temp)
	}
	var synchronous int
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&synchronous); err != nil || synchronous != 1 {
		t.Errorf("reader: synchronous %d (%v), want 1 (NORMAL)", synchronous, err)
	}
}
