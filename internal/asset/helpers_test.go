package asset_test

import (
	"context"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// world is a small organisation tree: a province with hospitals A and B, each with
// departments, and actors scoped to A and B.
type world struct {
	db                     *store.DB
	tl                     *trail.Log
	svc                    *asset.Service
	prov, hospA, hospB     org.Node
	deptA1, deptA2, deptB1 org.Node
	actorA, actorB, prov1  actor.Actor
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	mk := func(parent int64, kind, name, code string) org.Node {
		t.Helper()
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: parent, Kind: kind, Name: name, Code: code})
		if err != nil {
			t.Fatalf("create org %s: %v", name, err)
		}
		return n
	}
	w := &world{db: db, tl: tl, svc: asset.NewService(db, tl)}
	w.prov = mk(0, org.KindProvince, "某省卫健委", "PROV")
	w.hospA = mk(w.prov.ID, org.KindHospital, "第一人民医院", "HA")
	w.deptA1 = mk(w.hospA.ID, org.KindDepartment, "信息科", "HA-IT")
	w.deptA2 = mk(w.hospA.ID, org.KindDepartment, "放射科", "HA-RAD")
	w.hospB = mk(w.prov.ID, org.KindHospital, "第二人民医院", "HB")
	w.deptB1 = mk(w.hospB.ID, org.KindDepartment, "信息科", "HB-IT")
	w.actorA = actor.Actor{UserID: 11, Username: "alice", Role: "admin", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.actorB = actor.Actor{UserID: 12, Username: "bob", Role: "admin", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	w.prov1 = actor.Actor{UserID: 13, Username: "carol", Role: "admin", OrgID: w.prov.ID, OrgPath: w.prov.Path}
	return w
}

// input returns a valid input for org with the given code.
func input(orgID int64, code string) asset.Input {
	return asset.Input{OrgID: orgID, Code: code, Name: "HIS 数据库服务器 " + code, Kind: "server", Zone: "internal",
		MLPSLevel: 3, IP: "10.1.2.3", Vendor: "华为", Lifecycle: "in_service", Tags: []string{"核心"}}
}

func mustCreate(t testing.TB, w *world, a actor.Actor, in asset.Input) asset.Asset {
	t.Helper()
	x, err := w.svc.Create(context.Background(), a, in)
	if err != nil {
		t.Fatalf("create %s: %v", in.Code, err)
	}
	return x
}

// wantProblem fails unless err is a problem of kind k with code (when code != "").
func wantProblem(t testing.TB, err error, k problem.Kind, code string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error = %v, want a problem of kind %d", err, k)
	}
	if p.Kind != k || (code != "" && p.Code != code) {
		t.Fatalf("problem = kind %d code %q (%s), want kind %d code %q", p.Kind, p.Code, p.Message, k, code)
	}
}

func countAssets(t testing.TB, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM assets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countTrail(t testing.TB, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM trail WHERE action = ?`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func verifyTrail(t testing.TB, db *store.DB) trail.Report {
	t.Helper()
	r, err := trailtest.New(t, trail.SHA256).Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("trail broken: %+v", r)
	}
	return r
}
