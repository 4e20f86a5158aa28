package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestDashboardKPIsInAPI checks that GET /api/v1/dashboard serves the home dashboard's
// headline numbers — the same ids, counts and links the page shows — with labels in
// the caller's language.
func TestDashboardKPIsInAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		ctx := context.Background()
		for i, c := range []struct {
			kind string
			mlps int
		}{{asset.KindBusinessSystem, 3}, {asset.KindBusinessSystem, 4}, {asset.KindBusinessSystem, 2}, {asset.KindMedicalDevice, 0}, {asset.KindInternetApp, 3}} {
			if _, err := e.Assets.Create(ctx, actor.System(), asset.Input{OrgID: e.HospA.ID, Code: fmt.Sprintf("K-%d", i), Name: fmt.Sprintf("KPI asset %d", i),
				Kind: c.kind, Zone: asset.ZoneInternal, Lifecycle: asset.LifecycleInService, MLPSLevel: c.mlps}); err != nil {
				t.Fatal(err)
			}
		}
		b := e.newBrowser()
		b.login("admin")
		_, doc, _ := b.get("/")
		page := map[string]string{}
		for _, m := range regexp.MustCompile(`id="(kpi-[a-z0-9-]+)" href="([^"]*)"><b>(\d+)</b>`).FindAllStringSubmatch(doc, -1) {
			page[m[1]] = m[3] + " " + html.UnescapeString(m[2])
		}
		if len(page) < 5 {
			t.Fatalf("the dashboard page shows %d KPIs: %v", len(page), page)
		}
		for _, lang := range []struct{ accept, total string }{{"en", "assets"}, {"zh-CN", "资产总数"}} {
			req, _ := http.NewRequest("GET", e.URL+"/api/v1/dashboard", nil)
			req.Header.Set("Authorization", "Bearer "+e.Tokens["admin"])
			req.Header.Set("Accept-Language", lang.accept)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var d struct {
				KPIs []struct {
					ID    string `json:"id"`
					Label string `json:"label"`
					N     int    `json:"n"`
					Link  string `json:"link"`
				} `json:"kpis"`
				Assets struct {
					Total int `json:"total"`
				} `json:"assets"`
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &d) != nil {
				t.Fatalf("GET /api/v1/dashboard: %d %s", resp.StatusCode, body)
			}
			api := map[string]string{}
			for _, k := range d.KPIs {
				api[k.ID] = strconv.Itoa(k.N) + " " + k.Link
				if k.ID == "kpi-total" && k.Label != lang.total {
					t.Errorf("%s: kpi-total label %q, want %q", lang.accept, k.Label, lang.total)
				}
				if k.Label == "" || k.Label == "dashboard.kpi."+k.ID {
					t.Errorf("%s: KPI %s has no translated label: %q", lang.accept, k.ID, k.Label)
				}
			}
			if fmt.Sprint(api) != fmt.Sprint(page) {
				t.Errorf("%s: API KPIs %v, the page shows %v", lang.accept, api, page)
			}
			if api["kpi-mlps3"] == "" || api["kpi-mlps3"][:2] != "2 " {
				t.Errorf("kpi-mlps3 = %q, want the 2 business systems at level 3 or 4", api["kpi-mlps3"])
			}
			if d.Assets.Total != 6 {
				t.Errorf("assets.total = %d, want 6 (hospital A)", d.Assets.Total)
			}
		}
	})
}
