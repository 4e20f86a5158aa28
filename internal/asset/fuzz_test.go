package asset_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// FuzzImport imports arbitrary bytes into one SQLite database (opened once per fuzz
// process) and checks that the import never panics, that its report adds up, that it
// writes exactly what it reports, and that assets stored before it — one outside the
// importer's scope, one inside — are never lost or changed.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"import_mixed.csv", "import_chinese.csv", "import_unknown_column.csv", "import_missing_column.csv"} {
		f.Add(readFixture(f, name), false, false)
	}
	f.Add([]byte("code,name,kind,zone\nF-1,a,server,internal\nF-1,b,server,internal\n"), false, false)
	f.Add([]byte("code,name,kind,zone,org\nSENTINEL,overwrite,server,dmz,HA-IT\n"), true, false)
	f.Add([]byte("code,name,kind,zone,org\nB-SENTINEL,steal,server,dmz,HB-IT\n"), true, false)
	f.Add([]byte("\xff\xfec\x00o\x00d\x00e\x00"), false, true)
	f.Add([]byte("code;name;kind;zone\n\"unterminated;x;server;internal\n"), false, false)

	db := storetest.Open(f, store.SQLite)
	w := newWorld(f, db)
	ctx := context.Background()
	sentinelA := mustCreate(f, w, w.actorA, input(w.deptA1.ID, "SENTINEL"))
	sentinelB := mustCreate(f, w, w.actorB, input(w.deptB1.ID, "B-SENTINEL"))
	runs := 0

	f.Fuzz(func(t *testing.T, data []byte, update, dry bool) {
		if len(data) > 64<<10 {
			// Large inputs only repeat rows; they slow the search without reaching new code.
			return
		}
		runs++
		assetsBefore := countAssets(t, db)
		headBefore := trailHead(t, db)
		opt := asset.ImportOptions{DefaultOrgID: w.hospA.ID, Update: update, DryRun: dry}
		rep, err := w.svc.Import(ctx, w.actorA, bytes.NewReader(data), opt)
		if err != nil {
			if _, ok := problem.As(err); !ok {
				t.Fatalf("Import failed with an internal error: %v", err)
			}
			if countAssets(t, db) != assetsBefore || trailHead(t, db) != headBefore {
				t.Fatal("a refused import wrote to the database")
			}
			return
		}
		if rep.Created+rep.Updated+rep.Rejected != rep.Rows {
			t.Fatalf("created %d + updated %d + rejected %d != rows %d", rep.Created, rep.Updated, rep.Rejected, rep.Rows)
		}
		lines := map[int]bool{}
		for _, e := range rep.Errors {
			if e.Line < 1 || e.Code == "" || e.Message == "" {
				t.Fatalf("bad row error %+v", e)
			}
			lines[e.Line] = true
		}
		if rep.Rows > 0 && (len(lines) != rep.Rejected || len(rep.Errors) != rep.Rejected) {
			t.Fatalf("rejected %d rows but %d errors on %d lines", rep.Rejected, len(rep.Errors), len(lines))
		}
		if rep.Rows == 0 && rep.Created+rep.Updated+rep.Rejected != 0 {
			t.Fatalf("no rows but %+v", rep)
		}
		wantAssets, wantHead := assetsBefore+rep.Created, headBefore+int64(rep.Created+rep.Updated)
		if dry {
			wantAssets, wantHead = assetsBefore, headBefore
		}
		if got := countAssets(t, db); got != wantAssets {
			t.Fatalf("assets %d -> %d, report %+v", assetsBefore, got, rep)
		}
		if got := trailHead(t, db); got != wantHead {
			t.Fatalf("trail head %d -> %d, report %+v", headBefore, got, rep)
		}
		gotB, err := w.svc.Get(ctx, w.actorB, sentinelB.ID)
		if err != nil || !reflect.DeepEqual(gotB, sentinelB) {
			t.Fatalf("asset outside scope changed: %+v, %v", gotB, err)
		}
		gotA, err := w.svc.Get(ctx, w.actorA, sentinelA.ID)
		if err != nil {
			t.Fatalf("sentinel lost: %v", err)
		}
		if !update && !reflect.DeepEqual(gotA, sentinelA) {
			t.Fatalf("sentinel changed without Update: %+v", gotA)
		}
		sentinelA = gotA
		if runs%500 == 0 {
			verifyTrail(t, db)
		}
	})
}

func trailHead(t testing.TB, db *store.DB) int64 {
	t.Helper()
	var seq int64
	if err := db.QueryRowContext(context.Background(), `SELECT seq FROM trail_head WHERE id = 1`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}
