package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// TestCrossHospitalLinksAPI checks over HTTP that links between records respect the
// organisation of both ends, for a region administrator who sees both hospitals: hospital
// B's asset cannot be linked to hospital A's version (nor moved there by moving the
// asset), a department's asset can, and a foreign link stored before these checks is
// never shown to hospital A.
func TestCrossHospitalLinksAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		sys := actor.System()
		const region = "admin_region"
		u, err := e.Auth.CreateUser(ctx, sys, auth.UserInput{OrgID: e.Region.ID, Username: region, Role: auth.RoleAdmin,
			Password: testPassword, DisplayName: region})
		if err != nil {
			t.Fatal(err)
		}
		e.Users[region] = u
		if e.Tokens[region], _, err = e.Auth.CreateToken(ctx, sys, u.ID, "test", "write", 0); err != nil {
			t.Fatal(err)
		}
		deptAsset, err := e.Assets.Create(ctx, sys, asset.Input{OrgID: e.DeptA.ID, Code: "A-RAD-01", Name: "Radiology workstation",
			Kind: "workstation", Zone: "internal", Lifecycle: "in_service"})
		if err != nil {
			t.Fatal(err)
		}
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		vpath := "/api/v1/versions/" + id(e.VersionA.ID)

		for _, c := range []struct {
			name, method, path, user string
			body                     any
			status                   int
			code                     string // error code; "" for a success
		}{
			{"region links B's asset to A's version", "PUT", vpath + "/assets", region,
				map[string]any{"asset_ids": []int64{e.AssetA.ID, e.AssetB.ID}}, http.StatusBadRequest, "asset_other_org"},
			{"region creates A's version with B's asset", "POST", "/api/v1/products/" + id(e.ProductA.ID) + "/versions", region,
				map[string]any{"version": "9.9", "asset_ids": []int64{e.AssetB.ID}}, http.StatusBadRequest, "asset_other_org"},
			{"region links A's department asset to A's version", "PUT", vpath + "/assets", region,
				map[string]any{"asset_ids": []int64{e.AssetA.ID, deptAsset.ID}}, http.StatusOK, ""},
			{"region moves the linked asset to hospital B", "PUT", "/api/v1/assets/" + id(deptAsset.ID), region,
				map[string]any{"org_id": e.HospB.ID, "code": deptAsset.Code, "name": deptAsset.Name, "kind": deptAsset.Kind,
					"zone": deptAsset.Zone, "lifecycle": deptAsset.Lifecycle}, http.StatusConflict, "asset_linked"},
			{"hospital A links B's asset", "PUT", vpath + "/assets", "secofficer",
				map[string]any{"asset_ids": []int64{e.AssetB.ID}}, http.StatusBadRequest, "invalid"},
		} {
			t.Run(c.name, func(t *testing.T) {
				code, body := e.api(c.method, c.path, c.user, c.body)
				if c.code != "" {
					wantAPIError(t, code, body, c.status, c.code)
				} else if code != c.status {
					t.Fatalf("status %d, want %d: %s", code, c.status, body)
				}
				noLeak(t, c.name, body)
			})
		}

		// Hospital A's users see the department's asset on the version; the asset stayed
		// in hospital A.
		type versionDetail struct {
			Version supply.Version `json:"version"`
		}
		code, body := e.api("GET", vpath, "secofficer", nil)
		v := must[versionDetail](t, code, body, http.StatusOK).Version
		if !slices.Equal(v.AssetIDs, []int64{e.AssetA.ID, deptAsset.ID}) {
			t.Fatalf("version A's assets = %v", v.AssetIDs)
		}
		code, body = e.api("GET", "/api/v1/assets/"+id(deptAsset.ID), region, nil)
		if x := must[asset.Asset](t, code, body, http.StatusOK); x.OrgID != e.DeptA.ID {
			t.Fatalf("the refused move moved the asset to %d", x.OrgID)
		}

		// A foreign link stored behind the service's back is never listed.
		if _, err := db.ExecContext(ctx, `INSERT INTO version_assets (version_id, asset_id) VALUES (?, ?)`,
			e.VersionA.ID, e.AssetB.ID); err != nil {
			t.Fatal(err)
		}
		for _, user := range []string{"secofficer", region} {
			code, body := e.api("GET", vpath, user, nil)
			v := must[versionDetail](t, code, body, http.StatusOK).Version
			if slices.Contains(v.AssetIDs, e.AssetB.ID) {
				t.Errorf("%s sees hospital B's asset %d on version A: %v", user, e.AssetB.ID, v.AssetIDs)
			}
		}
	})
}

// TestCrossHospitalLinksUI checks the version page for a region administrator: hospital
// B's asset is neither offered in the picker of hospital A's version nor accepted from a
// forged form, and the refusal is explained.
func TestCrossHospitalLinksUI(t *testing.T) {
	e := newSupplyEnv(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	const region = "admin_region"
	u, err := e.Auth.CreateUser(ctx, actor.System(), auth.UserInput{OrgID: e.Region.ID, Username: region, Role: auth.RoleAdmin,
		Password: testPassword, DisplayName: region})
	if err != nil {
		t.Fatal(err)
	}
	e.Users[region] = u
	b := e.newBrowser()
	b.login(region)
	vpath := "/supply/versions/" + strconv.FormatInt(e.VersionA.ID, 10)
	code, body, _ := b.get(vpath)
	if code != http.StatusOK || !strings.Contains(body, "A-001") || strings.Contains(body, "B-001") {
		t.Fatalf("version page: status %d; offers A-001 %v, B-001 %v", code, strings.Contains(body, "A-001"), strings.Contains(body, "B-001"))
	}
	code, body, _ = b.post(vpath+"/assets", url.Values{"asset_ids": {strconv.FormatInt(e.AssetB.ID, 10)}})
	if code != http.StatusBadRequest || !strings.Contains(body, "Only assets of the product") {
		t.Fatalf("forged link: status %d, body %.400s", code, body)
	}
	v, err := e.Supply.Version(ctx, actor.System(), e.VersionA.ID)
	if err != nil || !slices.Equal(v.AssetIDs, []int64{e.AssetA.ID}) {
		t.Fatalf("version A's assets = %v, %v", v.AssetIDs, err)
	}
}
