// Package storetest gives tests a fresh, migrated database: a SQLite file in a temporary
// directory and, when MEDGUARD_TEST_POSTGRES names a server, a fresh schema on that
// PostgreSQL server. Under CI=true a missing PostgreSQL server fails the test instead of
// skipping it, so that CI never silently tests one engine only.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/medguard/medguard/internal/store"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL used by tests.
const EnvPostgres = "MEDGUARD_TEST_POSTGRES"

// Dialects lists the engines ForEach runs a test on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// ForEach runs fn as one subtest per engine, each with a fresh migrated database.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of dialect d, closed and removed when the test
// ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	return OpenAt(t, d, math.MaxInt)
}

// OpenAt is Open with the migrations up to version only, for tests that store rows as
// an older schema held them and then call Migrate.
func OpenAt(t testing.TB, d store.Dialect, version int) *store.DB {
	t.Helper()
	ctx := context.Background()
	var db *store.DB
	var err error
	switch d {
	case store.SQLite:
		db, err = store.OpenSQLiteFile(ctx, filepath.Join(t.TempDir(), "test.db"))
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
	case store.Postgres:
		db = openPostgres(t)
	default:
		t.Fatalf("unknown dialect %q", d)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateTo(ctx, version); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// PostgresURL returns the server URL for tests, skipping (or, under CI, failing) when
// none is configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the suite against PostgreSQL (see .ci/run)", EnvPostgres)
		}
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://user@127.0.0.1/db to run them", EnvPostgres)
	}
	return dsn
}

// openPostgres connects to a fresh schema of the test server.
func openPostgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{DSN: FreshPostgresURL(t)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return db
}

// FreshPostgresURL creates a uniquely named, empty schema on the test server (dropped
// when the test ends) and returns a URL whose search_path selects it.
func FreshPostgresURL(t testing.TB) string {
	t.Helper()
	dsn := PostgresURL(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres at %s: create schema: %v", EnvPostgres, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
