package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"none", "SELECT 1", "SELECT 1"},
		{"two", "SELECT a FROM t WHERE x = ? AND y = ?", "SELECT a FROM t WHERE x = $1 AND y = $2"},
		{"quoted", "SELECT '?' FROM t WHERE x = ?", "SELECT '?' FROM t WHERE x = $1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.Rebind(tc.in); got != tc.want {
				t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMigrateIdempotentAndTx(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", applied)
		}
		v, err := db.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("SchemaVersion = %d, %v", v, err)
		}
		now := time.Now().UTC()
		// A failed transaction leaves nothing behind.
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "k", "v", now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx error = %v, want boom", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after rollback: %d rows, %v", n, err)
		}
		// Unique violations are recognised on both engines.
		ins := func() error {
			return db.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)`, "k", "v", now)
				return err
			})
		}
		if err := ins(); err != nil {
			t.Fatal(err)
		}
		if err := ins(); !store.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v, want unique violation", err)
		}
		// Timestamps round-trip.
		var got time.Time
		if err := db.QueryRowContext(ctx, `SELECT updated_at FROM settings WHERE key = ?`, "k").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if d := got.Sub(now); d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("timestamp round trip: got %v, want %v", got, now)
		}
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	t.Parallel()
	_, err := store.Open(context.Background(), store.Config{DSN: "mysql://x"})
	if err == nil {
		t.Fatal("want error for mysql:// URL")
	}
}

func TestMigrateTo(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storetest.OpenAt(t, d, 7)
			if v, err := db.SchemaVersion(ctx); err != nil || v != 7 {
				t.Fatalf("SchemaVersion after OpenAt(7) = %d, %v", v, err)
			}
			all, err := store.Migrations()
			if err != nil {
				t.Fatal(err)
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(all) - 7; len(applied) != want || applied[0] != "0008_token_only" {
				t.Errorf("Migrate after OpenAt(7) applied %v, want %d migrations from 0008_token_only", applied, want)
			}
		})
	}
}

func TestAnyOf(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE words (w TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"a", "b", "c", "it's", "?"} {
			if _, err := db.ExecContext(ctx, `INSERT INTO words (w) VALUES (?)`, w); err != nil {
				t.Fatal(err)
			}
		}
		if n := db.Dialect().ListChunk(500); (db.Dialect() == store.SQLite) != (n == 500) {
			t.Errorf("ListChunk(500) = %d on %s", n, db.Dialect())
		}
		for _, tc := range []struct {
			name string
			vals []string
			want string
		}{
			{"one", []string{"b"}, "b"},
			{"several", []string{"c", "x", "a", "it's", "?"}, "?,a,c,it's"},
			{"none stored", []string{"x", "y"}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cond, args := db.Dialect().AnyOf("w", tc.vals)
				rows, err := db.QueryContext(ctx, `SELECT w FROM words WHERE w <> ? AND `+cond+` ORDER BY w`,
					append([]any{"zzz"}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var got []string
				for rows.Next() {
					var w string
					if err := rows.Scan(&w); err != nil {
						t.Fatal(err)
					}
					got = append(got, w)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				if s := strings.Join(got, ","); s != tc.want {
					t.Errorf("AnyOf(%q) selected %q, want %q", tc.vals, s, tc.want)
				}
			})
		}
	})
}
