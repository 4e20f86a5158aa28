package trail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// seed appends n entries with alg and returns the log.
func seed(t *testing.T, db *store.DB, alg string, n int) *trail.Log {
	t.Helper()
	ctx := context.Background()
	tl := trailtest.New(t, alg)
	a := actor.Actor{UserID: 7, Username: "secofficer", Role: "security_officer", OrgPath: "/1/", IP: "10.0.0.8"}
	for i := 1; i <= n; i++ {
		err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tl.Append(ctx, tx, a, trail.Event{Action: "asset.update", ObjectType: "asset",
				ObjectID: fmt.Sprint(i), Summary: fmt.Sprintf("change %d", i),
				Before: map[string]any{"name": "old"}, After: map[string]any{"name": fmt.Sprint("new ", i)}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tl
}

func verify(t *testing.T, db *store.DB) trail.Report {
	t.Helper()
	r, err := trailtest.New(t, trail.SHA256).Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func exec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestTamperingIsDetected changes the trail directly in SQL, the way an attacker with
// database access would, and checks that Verify names the first broken entry.
func TestTamperingIsDetected(t *testing.T) {
	type tamper struct {
		name    string
		do      func(t *testing.T, db *store.DB)
		wantSeq int64
		want    string // part of the problem text
	}
	cases := []tamper{
		{"edit summary", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET summary = 'nothing happened' WHERE seq = 4`)
		}, 4, "altered"},
		{"edit actor", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET actor = 'someone-else' WHERE seq = 2`)
		}, 2, "altered"},
		{"edit time", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET at = '2020-01-01T00:00:00Z' WHERE seq = 6`)
		}, 6, "altered"},
		{"edit and rehash one entry", func(t *testing.T, db *store.DB) {
			// The entry's stored hash replaced by another one: it no longer matches the content.
			exec(t, db, `UPDATE trail SET hash = (SELECT hash FROM trail WHERE seq = 5) WHERE seq = 3`)
		}, 3, "altered"},
		{"delete middle", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq = 5`)
		}, 5, "missing"},
		{"delete first", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq = 1`)
		}, 1, "missing"},
		{"delete last", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq = 8`)
		}, 8, "missing"},
		{"insert forged entry at the end", func(t *testing.T, db *store.DB) {
			exec(t, db, `INSERT INTO trail (seq, at, actor_id, actor, org_id, action, object_type, object_id, summary, ip, digest, alg, prev_hash, hash)
				SELECT 9, at, actor_id, actor, org_id, action, object_type, object_id, 'forged', ip, digest, alg, hash, hash FROM trail WHERE seq = 8`)
		}, 9, ""},
		{"insert forged entry in the middle", func(t *testing.T, db *store.DB) {
			// Make room by shifting later entries up by one, then insert at 5.
			for s := 8; s >= 5; s-- {
				exec(t, db, `UPDATE trail SET seq = ? WHERE seq = ?`, s+1, s)
			}
			exec(t, db, `INSERT INTO trail (seq, at, actor_id, actor, org_id, action, object_type, object_id, summary, ip, digest, alg, prev_hash, hash)
				SELECT 5, at, actor_id, actor, org_id, action, object_type, object_id, 'forged', ip, digest, alg, prev_hash, hash FROM trail WHERE seq = 4`)
			exec(t, db, `UPDATE trail_head SET seq = 9`)
		}, 5, ""},
		{"reorder two entries", func(t *testing.T, db *store.DB) {
			exec(t, db, `UPDATE trail SET seq = 100 WHERE seq = 3`)
			exec(t, db, `UPDATE trail SET seq = 3 WHERE seq = 4`)
			exec(t, db, `UPDATE trail SET seq = 4 WHERE seq = 100`)
		}, 3, ""},
		{"truncate and move the head", func(t *testing.T, db *store.DB) {
			exec(t, db, `DELETE FROM trail WHERE seq > 6`)
			exec(t, db, `UPDATE trail_head SET seq = 6`)
		}, 6, "head"},
	}
	for _, alg := range []string{trail.SHA256, trail.SM3} {
		for _, tc := range cases {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				storetest.ForEach(t, func(t *testing.T, db *store.DB) {
					seed(t, db, alg, 8)
					if r := verify(t, db); !r.OK || r.Entries != 8 {
						t.Fatalf("before tampering: %+v", r)
					}
					tc.do(t, db)
					r := verify(t, db)
					if r.OK {
						t.Fatalf("tampering %q not detected: %+v", tc.name, r)
					}
					if r.BadSeq != tc.wantSeq {
						t.Errorf("first broken entry = %d, want %d (%s)", r.BadSeq, tc.wantSeq, r.Problem)
					}
					if tc.want != "" && !strings.Contains(r.Problem, tc.want) {
						t.Errorf("problem %q does not mention %q", r.Problem, tc.want)
					}
				})
			})
		}
	}
}

func TestChainAcrossAlgorithmsAndRollback(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db, trail.SHA256, 3)
		seed(t, db, trail.SM3, 3) // switching algorithm keeps one chain
		// An entry appended in a transaction that rolls back leaves no trace.
		tl := trailtest.New(t, trail.SHA256)
		_ = db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tl.Append(ctx, tx, actor.System(), trail.Event{Action: "x.y", ObjectType: "x"}); err != nil {
				t.Fatal(err)
			}
			return fmt.Errorf("roll back")
		})
		r := verify(t, db)
		if !r.OK || r.Entries != 6 || r.HeadSeq != 6 {
			t.Fatalf("report %+v, want 6 good entries", r)
		}
		entries, err := trail.List(ctx, db, actor.System(), trail.Filter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 6 || entries[0].Seq != 6 || entries[0].Alg != trail.HMACSM3 || entries[5].Alg != trail.HMACSHA256 {
			t.Fatalf("list: %+v", entries)
		}
		if entries[0].Actor != "secofficer" || entries[0].IP != "10.0.0.8" {
			t.Errorf("entry lost its actor: %+v", entries[0])
		}
	})
}

func TestAppendIsSerialised(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := trailtest.New(t, trail.SHA256)
		const workers, each = 4, 10
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			go func() {
				for i := 0; i < each; i++ {
					if err := db.InTx(ctx, func(tx *store.Tx) error {
						_, err := tl.Append(ctx, tx, actor.System(), trail.Event{Action: "test.concurrent", ObjectType: "t"})
						return err
					}); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for w := 0; w < workers; w++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if r := verify(t, db); !r.OK || r.Entries != workers*each {
			t.Fatalf("after concurrent appends: %+v", r)
		}
	})
}

func TestNewRejectsUnknownAlgorithm(t *testing.T) {
	if _, err := trail.New("md5", trailtest.Key(t)); err == nil {
		t.Fatal("md5 accepted")
	}
}

func TestListScope(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	tl := trailtest.New(t, trail.SHA256)
	var ids []int64
	for _, q := range []string{
		`INSERT INTO orgs (parent_id, kind, name, path, created_at, updated_at) VALUES (NULL, 'region', 'R', '/1/', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`,
		`INSERT INTO orgs (parent_id, kind, name, path, created_at, updated_at) VALUES (1, 'hospital', 'A', '/1/2/', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`,
		`INSERT INTO orgs (parent_id, kind, name, path, created_at, updated_at) VALUES (1, 'hospital', 'B', '/1/3/', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`,
	} {
		var id int64
		if err := db.QueryRowContext(ctx, q).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, org := range []int64{0, ids[1], ids[2]} {
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tl.Append(ctx, tx, actor.System(), trail.Event{Action: "x.y", ObjectType: "x", OrgID: org, Summary: fmt.Sprint("org ", org)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(path string) int {
		es, err := trail.List(ctx, db, actor.Actor{Username: "u", OrgPath: path}, trail.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	if n := count("/1/"); n != 3 {
		t.Errorf("top-level organisation sees %d entries, want 3 (incl. the org-less one)", n)
	}
	if n := count("/1/2/"); n != 1 {
		t.Errorf("hospital A sees %d entries, want 1", n)
	}
	if n := count("/"); n != 3 {
		t.Errorf("system sees %d entries, want 3", n)
	}
	// No organisation, no entries (the old scope pattern of "" was "%": every entry).
	if n := count(""); n != 0 {
		t.Errorf("an actor without an organisation sees %d entries, want 0", n)
	}
}
