package store

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestSQLiteCheckpointsInBackground: the writer checkpoints by itself only past 16,384
// pages of log; below that the log reaches the database file through the background
// checkpoints, within a few of their ticks, with no transaction to trigger them. Close
// stops them.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := OpenSQLiteFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var auto int
	if err := db.InTx(ctx, func(tx *Tx) error {
		return tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto)
	}); err != nil || auto != 16384 {
		t.Fatalf("writer: wal_autocheckpoint %d (%v), want 16384", auto, err)
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE t (v TEXT)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
			INSERT INTO t SELECT printf('%.1000d', i) FROM n`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < 2_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes ten seconds after 2 MB were committed: no background checkpoint", size())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.checkpointsDone:
	default:
		t.Error("the background checkpoints run on after Close")
	}
}
