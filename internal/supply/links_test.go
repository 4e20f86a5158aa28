package supply_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
	"github.com/medguard/medguard/internal/vuln"
)

// linkWorld adds to world a province administrator, who sees both hospitals, two
// departments of hospital A, an inventory that checks links before moving an asset,
// and one asset in each of hospital B, department A1 and department A2.
type linkWorld struct {
	*world
	assets         *asset.Service
	prov           actor.Actor
	deptA1, deptA2 org.Node
	assetB         asset.Asset // in hospital B
	assetA1        asset.Asset // in department A1 of hospital A
	assetA2        asset.Asset // in department A2 of hospital A
}

func newLinkWorld(t *testing.T, db *store.DB) *linkWorld {
	t.Helper()
	ctx := context.Background()
	w := &linkWorld{world: newWorld(t, db)}
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Get(ctx, actor.System(), w.hospA.ParentID)
	if err != nil {
		t.Fatal(err)
	}
	w.prov = actor.Actor{UserID: 3, Username: "carol", Role: "admin", OrgID: prov.ID, OrgPath: prov.Path}
	mk := func(name string) org.Node {
		n, err := orgs.Create(ctx, actor.System(), org.Input{ParentID: w.hospA.ID, Kind: org.KindDepartment, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	w.deptA1, w.deptA2 = mk("信息科"), mk("放射科")
	w.assets = asset.NewService(db, tl).CheckLinks(w.svc)
	mkAsset := func(orgID int64, code string) asset.Asset {
		x, err := w.assets.Create(ctx, w.prov, asset.Input{OrgID: orgID, Code: code, Name: "服务器 " + code, Kind: "server",
			Zone: "internal", Lifecycle: "in_service"})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	w.assetB, w.assetA1, w.assetA2 = mkAsset(w.hospB.ID, "B-001"), mkAsset(w.deptA1.ID, "A1-001"), mkAsset(w.deptA2.ID, "A2-001")
	return w
}

// wantLinkProblem fails unless err is a problem of kind k with code.
func wantLinkProblem(t *testing.T, what string, err error, k problem.Kind, code string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Kind != k || p.Code != code {
		t.Errorf("%s: %v, want a problem of kind %v, code %q", what, err, k, code)
	}
}

// TestVersionAssetsStayInTheProductsOrganisation checks that an asset is linked to a
// product version only when it is filed under the product's organisation, even by an
// actor who sees both ends, and that an asset outside the actor's scope is unknown.
func TestVersionAssetsStayInTheProductsOrganisation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newLinkWorld(t, db)
		ver, err := w.svc.CreateVersion(ctx, w.actorA, w.product.ID, supply.VersionInput{Version: "1.0"})
		if err != nil {
			t.Fatal(err)
		}
		deptProduct, err := w.svc.CreateProduct(ctx, w.actorA, supply.ProductInput{OrgID: w.deptA1.ID, Name: "PACS 前置机",
			Source: "self_built"})
		if err != nil {
			t.Fatal(err)
		}
		deptVer, err := w.svc.CreateVersion(ctx, w.actorA, deptProduct.ID, supply.VersionInput{Version: "2.0"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name    string
			a       actor.Actor
			version int64
			asset   int64
			kind    problem.Kind // 0: linked
			code    string
		}{
			{"hospital B's asset to hospital A's version, by the province", w.prov, ver.ID, w.assetB.ID, problem.KindInvalid, "asset_other_org"},
			{"hospital B's asset, by hospital A", w.actorA, ver.ID, w.assetB.ID, problem.KindInvalid, "invalid"},
			{"hospital's own asset to a department's version", w.prov, deptVer.ID, w.asset.ID, problem.KindInvalid, "asset_other_org"},
			{"sibling department's asset to a department's version", w.actorA, deptVer.ID, w.assetA2.ID, problem.KindInvalid, "asset_other_org"},
			{"department's asset to its hospital's version", w.actorA, ver.ID, w.assetA1.ID, 0, ""},
			{"department's asset to its own version", w.actorA, deptVer.ID, w.assetA1.ID, 0, ""},
		} {
			got, err := w.svc.SetVersionAssets(ctx, c.a, c.version, []int64{c.asset})
			if c.kind == 0 {
				if err != nil || !slices.Equal(got.AssetIDs, []int64{c.asset}) {
					t.Errorf("%s: %v, %v", c.name, got.AssetIDs, err)
				}
				continue
			}
			wantLinkProblem(t, c.name, err, c.kind, c.code)
		}
		// Creating a version links its assets under the same rule, and a refusal leaves
		// no version behind.
		_, err = w.svc.CreateVersion(ctx, w.prov, w.product.ID, supply.VersionInput{Version: "1.1", AssetIDs: []int64{w.assetA1.ID, w.assetB.ID}})
		wantLinkProblem(t, "new version with hospital B's asset", err, problem.KindInvalid, "asset_other_org")
		vs, err := w.svc.Versions(ctx, w.prov, w.product.ID)
		if err != nil || len(vs) != 1 {
			t.Errorf("versions after the refusal = %d, %v", len(vs), err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM version_assets WHERE asset_id = ?`, w.assetB.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("hospital B's asset has %d links (%v)", n, err)
		}
		// The version as hospital A sees it still holds only its own asset.
		v, err := w.svc.Version(ctx, w.actorA, ver.ID)
		if err != nil || !slices.Equal(v.AssetIDs, []int64{w.assetA1.ID}) {
			t.Errorf("version's assets = %v, %v", v.AssetIDs, err)
		}
	})
}

// TestStoredForeignLinkIsNeverShown stores a link from hospital A's version to hospital
// B's asset behind the service's back (as an older release could) and checks that
// neither the version nor a new-vulnerability alert of hospital A names that asset, and
// that saving the version's assets drops it.
func TestStoredForeignLinkIsNeverShown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newLinkWorld(t, db)
		ver, _ := w.version(t, "1.0", "app-1.0.cdx.json") // linked to w.asset (hospital A)
		if _, err := db.ExecContext(ctx, `INSERT INTO version_assets (version_id, asset_id) VALUES (?, ?)`, ver.ID, w.assetB.ID); err != nil {
			t.Fatal(err)
		}
		for _, a := range []actor.Actor{w.actorA, w.prov} {
			v, err := w.svc.Version(ctx, a, ver.ID)
			if err != nil || !slices.Equal(v.AssetIDs, []int64{w.asset.ID}) {
				t.Errorf("%s sees the version's assets as %v (%v), want only %d", a.Username, v.AssetIDs, err, w.asset.ID)
			}
		}
		res, err := w.vulns.Import(ctx, "testdata/osv-new", vuln.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Rematch(ctx, actor.System(), res.Changed); err != nil {
			t.Fatal(err)
		}
		alerts, err := w.svc.Alerts(ctx, w.actorA, true, 10)
		if err != nil || len(alerts) != 1 {
			t.Fatalf("alerts = %v, %v", alerts, err)
		}
		var d supply.AlertDetail
		if err := json.Unmarshal(alerts[0].Detail, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Assets) != 1 || d.Assets[0].ID != w.asset.ID {
			t.Errorf("alert of hospital A names assets %+v, want only %s", d.Assets, w.asset.Code)
		}
		if _, err := w.svc.SetVersionAssets(ctx, w.actorA, ver.ID, []int64{w.asset.ID}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM version_assets WHERE asset_id = ?`, w.assetB.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("the foreign link is still stored (%d, %v)", n, err)
		}
	})
}

// TestLinkedAssetMovesOnlyWithinTheProductsOrganisation checks the other end of a link:
// an asset linked to hospital A's version cannot be moved to hospital B, but may move
// between hospital A's departments, and moves freely once unlinked.
func TestLinkedAssetMovesOnlyWithinTheProductsOrganisation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newLinkWorld(t, db)
		ver, err := w.svc.CreateVersion(ctx, w.actorA, w.product.ID, supply.VersionInput{Version: "1.0", AssetIDs: []int64{w.assetA1.ID}})
		if err != nil {
			t.Fatal(err)
		}
		move := func(orgID int64) error {
			in := asset.InputOf(w.assetA1)
			in.OrgID, in.Version = orgID, 0
			x, err := w.assets.Update(ctx, w.prov, w.assetA1.ID, in)
			if err == nil {
				w.assetA1 = x
			}
			return err
		}
		wantLinkProblem(t, "move to hospital B", move(w.hospB.ID), problem.KindConflict, "asset_linked")
		if x, err := w.assets.Get(ctx, w.prov, w.assetA1.ID); err != nil || x.OrgID != w.deptA1.ID {
			t.Errorf("asset after the refused move: org %d, %v", x.OrgID, err)
		}
		if err := move(w.deptA2.ID); err != nil {
			t.Errorf("move within hospital A: %v", err)
		}
		if _, err := w.svc.SetVersionAssets(ctx, w.actorA, ver.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := move(w.hospB.ID); err != nil {
			t.Errorf("move of the unlinked asset: %v", err)
		}
	})
}

// TestProductVendorStaysInTheProductsOrganisation checks the product → vendor link for an
// actor who sees both hospitals: hospital B's product cannot name hospital A's vendor.
func TestProductVendorStaysInTheProductsOrganisation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newLinkWorld(t, db)
		_, err := w.svc.CreateProduct(ctx, w.prov, supply.ProductInput{OrgID: w.hospB.ID, VendorID: w.vendor.ID, Name: "B 的系统",
			Source: "purchased"})
		wantLinkProblem(t, "new product of B with A's vendor", err, problem.KindInvalid, "invalid")
		p, err := w.svc.CreateProduct(ctx, w.prov, supply.ProductInput{OrgID: w.hospB.ID, Name: "B 的系统", Source: "self_built"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.UpdateProduct(ctx, w.prov, p.ID, supply.ProductInput{VendorID: w.vendor.ID, Name: "B 的系统", Source: "purchased"})
		wantLinkProblem(t, "product of B given A's vendor", err, problem.KindInvalid, "invalid")
		// A department's product may use its hospital's vendor.
		if _, err := w.svc.CreateProduct(ctx, w.actorA, supply.ProductInput{OrgID: w.deptA1.ID, VendorID: w.vendor.ID,
			Name: "科室系统", Source: "purchased"}); err != nil {
			t.Errorf("department product with the hospital's vendor: %v", err)
		}
	})
}

// TestLinkWaitsForAMoveInProgress checks on PostgreSQL that linking an asset waits for a
// concurrent move of that asset and then judges the asset where it went: a link checked
// against the old organisation would be stored across hospitals.
func TestLinkWaitsForAMoveInProgress(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	w := newLinkWorld(t, db)
	ver, err := w.svc.CreateVersion(ctx, w.actorA, w.product.ID, supply.VersionInput{Version: "1.0"})
	if err != nil {
		t.Fatal(err)
	}
	// A move to hospital B that has passed its checks and not yet committed.
	moving, release := make(chan int64), make(chan struct{})
	moved := make(chan error, 1)
	go func() {
		moved <- db.InTx(ctx, func(tx *store.Tx) error {
			var pid int64
			if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				close(moving)
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE assets SET org_id = ? WHERE id = ?`, w.hospB.ID, w.assetA1.ID); err != nil {
				close(moving)
				return err
			}
			moving <- pid
			<-release
			return nil
		})
	}()
	pid, ok := <-moving
	if !ok {
		t.Fatalf("move: %v", <-moved)
	}
	linked := make(chan error, 1)
	go func() {
		_, err := w.svc.SetVersionAssets(ctx, w.actorA, ver.ID, []int64{w.assetA1.ID})
		linked <- err
	}()
	// Wait until the link is blocked by the move (or has finished without waiting).
	var linkErr error
	for waiting := false; !waiting; {
		select {
		case linkErr = <-linked:
			waiting = true
		default:
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))`,
				pid).Scan(&n); err != nil {
				t.Fatal(err)
			}
			waiting = n > 0
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(release)
	if err := <-moved; err != nil {
		t.Fatal(err)
	}
	if linkErr == nil {
		linkErr = <-linked
	}
	wantLinkProblem(t, "link during the move", linkErr, problem.KindInvalid, "invalid")
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM version_assets WHERE asset_id = ?`, w.assetA1.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("the moved asset was linked to hospital A's version (%d, %v)", n, err)
	}
}
