package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/store"
)

// checkModes fails t when a file of files is missing or its permissions are not want.
func checkModes(t *testing.T, want os.FileMode, files ...string) {
	t.Helper()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(f), got, want)
		}
	}
}

// TestSQLiteFileModes opens a fresh SQLite store (umask 022 in CI) and checks that
// the data directory is 0700 and the database with its -wal and -shm files 0600, before
// and after a write; a database file left readable by others is tightened on open.
func TestSQLiteFileModes(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "medguard.db")
	checkModes(t, 0o700, dir)
	checkModes(t, 0o600, file, file+"-wal", file+"-shm")
	if _, err := db.ExecContext(ctx, `CREATE TABLE mode_probe (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO mode_probe VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	checkModes(t, 0o600, file, file+"-wal", file+"-shm")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A database created by an older release (0644) is tightened when opened.
	old := filepath.Join(t.TempDir(), "old.db")
	if err := os.WriteFile(old, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = store.OpenSQLiteFile(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE mode_probe (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	checkModes(t, 0o600, old, old+"-wal", old+"-shm")
}
