package trail_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// appendN appends n entries with tl.
func appendN(t *testing.T, db *store.DB, tl *trail.Log, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tl.Append(ctx, tx, actor.System(), trail.Event{Action: "asset.update", ObjectType: "asset",
				ObjectID: fmt.Sprint(i), Summary: fmt.Sprintf("change %d", i)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRewriteWithoutTheKeyIsDetected is the attack of the issue: edit an entry in the
// database and recompute the chain and the head with plain SHA-256. Before the key, that
// verified; now the first rewritten entry is named.
func TestRewriteWithoutTheKeyIsDetected(t *testing.T) {
	cases := []struct {
		name    string
		alg     string // alg the attacker writes; "" keeps the keyed name
		wantSeq int64
		want    string
	}{
		{"recompute with sha256, alg kept", "", 4, "altered"},
		{"recompute with sha256, alg set to sha256", trail.SHA256, 4, "unkeyed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				seed(t, db, trail.SHA256, 8)
				exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 4`)
				if err := trail.Rehash(ctx, db, 4, 8, tc.alg, trail.PlainSHA256, true); err != nil {
					t.Fatal(err)
				}
				r := verify(t, db)
				if r.OK || r.BadSeq != tc.wantSeq || !strings.Contains(r.Problem, tc.want) {
					t.Fatalf("rewritten chain: %+v, want broken at %d (%s)", r, tc.wantSeq, tc.want)
				}
			})
		})
	}
}

// TestFirstEditedEntryIsNamed edits entry k and recomputes entry k's own hash only: the
// report names k, not k+1 (whose link is what breaks) — whether the attacker lacks the
// key or holds it.
func TestFirstEditedEntryIsNamed(t *testing.T) {
	for _, attacker := range []string{"without key", "with key"} {
		t.Run(attacker, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				seed(t, db, trail.SHA256, 8)
				exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 5`)
				h := trail.PlainSHA256
				if attacker == "with key" {
					h = trail.KeyedWith(trailtest.Key(t))
				}
				if err := trail.Rehash(ctx, db, 5, 5, "", h, false); err != nil {
					t.Fatal(err)
				}
				if r := verify(t, db); r.OK || r.BadSeq != 5 {
					t.Fatalf("report %+v, want entry 5 named", r)
				}
			})
		})
	}
}

func TestNoKeyNoLog(t *testing.T) {
	if _, err := trail.New(trail.SHA256, trail.Key{}); err == nil {
		t.Fatal("a Log without a key was made")
	}
	if _, err := trail.NewKey([]byte("short"), 0); err == nil {
		t.Fatal("a short key was accepted")
	}
}

// TestUpgradeFromUnkeyedChain starts from a store written before the trail key: the key
// created on it keeps the old entries verifying as plain hash chains, new entries are
// keyed, and an unkeyed entry after the key's creation point is refused.
func TestUpgradeFromUnkeyedChain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		appendN(t, db, trail.NewUnkeyed(trail.SHA256), 3)
		appendN(t, db, trail.NewUnkeyed(trail.SM3), 2)

		dir := filepath.Join(t.TempDir(), "data")
		keyFile := filepath.Join(dir, "trail.key")
		key, err := trail.LoadOrCreateKey(ctx, keyFile, db)
		if err != nil {
			t.Fatal(err)
		}
		if key.LegacyUntil != 5 {
			t.Fatalf("legacy-until = %d, want the head, 5", key.LegacyUntil)
		}
		for path, want := range map[string]os.FileMode{keyFile: 0o600, dir: 0o700} {
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %v", path, st.Mode().Perm(), err, want)
			}
		}
		again, err := trail.LoadOrCreateKey(ctx, keyFile, db)
		if err != nil || again.LegacyUntil != 5 {
			t.Fatalf("reloaded key: %+v %v", again, err)
		}
		tl, err := trail.New(trail.SM3, key)
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, db, tl, 3)
		r, err := tl.Verify(ctx, db)
		if err != nil || !r.OK || r.Entries != 8 || r.LegacyUntil != 5 {
			t.Fatalf("upgraded chain: %+v %v", r, err)
		}
		entries, err := trail.List(ctx, db, actor.System(), trail.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if entries[0].Alg != trail.HMACSM3 || entries[3].Alg != trail.SM3 || entries[7].Alg != trail.SHA256 {
			t.Errorf("algorithms: %s %s %s", entries[0].Alg, entries[3].Alg, entries[7].Alg)
		}

		// The same chain under a key made for a fresh store (no unkeyed entry allowed).
		fresh, _ := trail.GenerateKey()
		strict, _ := trail.New(trail.SHA256, fresh)
		if r, _ := strict.Verify(ctx, db); r.OK || r.BadSeq != 1 || !strings.Contains(r.Problem, "unkeyed") {
			t.Errorf("unkeyed entries accepted by a key with no legacy part: %+v", r)
		}
		// The same key file cannot be silently replaced: once keyed entries exist, a
		// missing key file is an error, not a new key.
		if err := os.Remove(keyFile); err != nil {
			t.Fatal(err)
		}
		if _, err := trail.LoadOrCreateKey(ctx, keyFile, db); err == nil || !strings.Contains(err.Error(), "restore") {
			t.Errorf("missing key file over a keyed chain: %v", err)
		}

		// A downgrade: keyed entry 7 rewritten as an unkeyed one, chain recomputed.
		if err := trail.Rehash(ctx, db, 7, 8, trail.SHA256, trail.PlainSHA256, true); err != nil {
			t.Fatal(err)
		}
		if r, _ := tl.Verify(ctx, db); r.OK || r.BadSeq != 7 {
			t.Errorf("downgraded entry 7: %+v", r)
		}
	})
}

func TestKeyFileRefusedWhenOpen(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	path := filepath.Join(t.TempDir(), "trail.key")
	if _, err := trail.LoadOrCreateKey(context.Background(), path, db); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := trail.LoadOrCreateKey(context.Background(), path, db); err == nil {
		t.Error("a world-readable key file was accepted")
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("medguard trail key v1\nsecret zz\nlegacy-until 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := trail.LoadOrCreateKey(context.Background(), path, db); err == nil || strings.Contains(err.Error(), "zz") {
		t.Errorf("malformed key file: %v", err)
	}
}

// TestUnkeyedPartIsPinnedByTheKey: the key file records the head it was created at, so
// that the unkeyed entries before it can be neither rewritten nor cut.
func TestUnkeyedPartIsPinnedByTheKey(t *testing.T) {
	cases := []struct {
		name    string
		do      func(t *testing.T, db *store.DB)
		wantSeq int64
	}{
		{"unkeyed entries rewritten, keyed ones cut", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq > 5`)
			exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 2`)
			if err := trail.Rehash(context.Background(), db, 2, 5, "", trail.PlainSHA256, true); err != nil {
				t.Fatal(err)
			}
		}, 5},
		{"cut back into the unkeyed part, head moved", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq > 3`)
			exec(t, db, `UPDATE trail_head SET seq = 3, hash = (SELECT hash FROM trail WHERE seq = 3)`)
		}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				appendN(t, db, trail.NewUnkeyed(trail.SHA256), 5)
				key, err := trail.LoadOrCreateKey(ctx, filepath.Join(t.TempDir(), "trail.key"), db)
				if err != nil {
					t.Fatal(err)
				}
				tl, _ := trail.New(trail.SHA256, key)
				appendN(t, db, tl, 2)
				if r, _ := tl.Verify(ctx, db); !r.OK {
					t.Fatalf("before: %+v", r)
				}
				tc.do(t, db)
				if r, _ := tl.Verify(ctx, db); r.OK || r.BadSeq != tc.wantSeq {
					t.Fatalf("report %+v, want broken at %d", r, tc.wantSeq)
				}
			})
		})
	}
}
