package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// isEnvelope reports whether a documented response is the list envelope.
func isEnvelope(v any) bool {
	return v != nil && strings.HasPrefix(reflect.TypeOf(v).Name(), "Envelope[")
}

// collectionPaths maps each collection route to a concrete path in a newSupplyEnv.
func collectionPaths(e *testEnv) map[string]string {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	return map[string]string{
		"/api/v1/assets":                    "/api/v1/assets",
		"/api/v1/monitor/rules":             "/api/v1/monitor/rules",
		"/api/v1/orgs":                      "/api/v1/orgs",
		"/api/v1/users":                     "/api/v1/users",
		"/api/v1/tokens":                    "/api/v1/tokens",
		"/api/v1/trail":                     "/api/v1/trail",
		"/api/v1/vendors":                   "/api/v1/vendors",
		"/api/v1/products":                  "/api/v1/products",
		"/api/v1/products/{id}/versions":    "/api/v1/products/" + id(e.ProductA.ID) + "/versions",
		"/api/v1/versions/{id}/components":  "/api/v1/versions/" + id(e.VersionA.ID) + "/components",
		"/api/v1/findings":                  "/api/v1/findings",
		"/api/v1/supply/alerts":             "/api/v1/supply/alerts",
		"/api/v1/gates":                     "/api/v1/gates",
		"/api/v1/deliveries":                "/api/v1/deliveries",
		"/api/v1/dlp/scans":                 "/api/v1/dlp/scans",
		"/api/v1/dlp/scans/{id}/findings":   "/api/v1/dlp/scans/" + id(e.DLPScanA.ID) + "/findings",
		"/api/v1/dlp/jobs":                  "/api/v1/dlp/jobs",
		"/api/v1/notify/channels":           "/api/v1/notify/channels",
		"/api/v1/notify/routes":             "/api/v1/notify/routes",
		"/api/v1/notify/deliveries":         "/api/v1/notify/deliveries",
		"/api/v1/notify/inbox":              "/api/v1/notify/inbox",
		"/api/v1/notify/subscriptions":      "/api/v1/notify/subscriptions",
		"/api/v1/alerts":                    "/api/v1/alerts",
		"/api/v1/cases":                     "/api/v1/cases",
		"/api/v1/apps":                      "/api/v1/apps",
		"/api/v1/apps/{id}/findings":        "/api/v1/apps/" + id(e.AppA.ID) + "/findings",
		"/api/v1/apps/{id}/scores":          "/api/v1/apps/" + id(e.AppA.ID) + "/scores",
		"/api/v1/apps/{id}/inspections":     "/api/v1/apps/" + id(e.AppA.ID) + "/inspections",
		"/api/v1/silences":                  "/api/v1/silences",
		"/api/v1/upstream/apps":             "/api/v1/upstream/apps",
		"/api/v1/risks":                     "/api/v1/risks",
		"/api/v1/risks/of":                  "/api/v1/risks/of?module=finding&id=" + id(e.FindingA.ID),
		"/api/v1/incidents":                 "/api/v1/incidents",
		"/api/v1/incidents/{id}/checklists": "/api/v1/incidents/" + id(e.IncidentA.ID) + "/checklists",
		"/api/v1/plans/templates":           "/api/v1/plans/templates",
		"/api/v1/plans":                     "/api/v1/plans",
		"/api/v1/plans/{id}/drills":         "/api/v1/plans/" + id(e.PlanA.ID) + "/drills",
		"/api/v1/policies":                  "/api/v1/policies",
		"/api/v1/selfchecks":                "/api/v1/selfchecks",
		"/api/v1/training/courses":          "/api/v1/training/courses",
		"/api/v1/training/overdue":          "/api/v1/training/overdue",
		"/api/v1/dataflows":                 "/api/v1/dataflows",
		"/api/v1/reports":                   "/api/v1/reports",
		"/api/v1/report-templates":          "/api/v1/report-templates",
	}
}

// TestListConvention checks every API collection over real HTTP: the one envelope
// (items, total, next; none of the old page/per_page/next_before keys), the shared
// paging parameters, and a limit above the maximum refused with 400 rather than capped
// silently (also through the per_page alias).
func TestListConvention(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		paths := collectionPaths(e)
		seen := map[string]bool{}
		for _, rt := range e.srv.routeTable() {
			if !rt.API || rt.Method != "GET" {
				continue
			}
			doc := apiDocs[rt.Method+" "+rt.Pattern]
			if !isEnvelope(doc.Response) {
				if _, ok := paths[rt.Pattern]; ok {
					t.Errorf("%s is a collection but its documented response is %T, not the list envelope", rt.Pattern, doc.Response)
				}
				continue
			}
			seen[rt.Pattern] = true
			path, ok := paths[rt.Pattern]
			if !ok {
				t.Errorf("collection %s has no row in collectionPaths", rt.Pattern)
				continue
			}
			t.Run(rt.Pattern, func(t *testing.T) {
				get := func(q string) (int, []byte) {
					if strings.Contains(path, "?") {
						q = strings.Replace(q, "?", "&", 1) // the path has a query of its own
					}
					for _, u := range []string{"admin", "secofficer", "auditor"} {
						code, body := e.api("GET", path+q, u, nil)
						if code != http.StatusForbidden {
							return code, body
						}
					}
					t.Fatalf("no test user may read %s", path)
					return 0, nil
				}
				code, body := get("")
				var env map[string]json.RawMessage
				if code != http.StatusOK || json.Unmarshal(body, &env) != nil {
					t.Fatalf("GET %s: %d %s", path, code, body)
				}
				for _, k := range []string{"items", "total", "next", "limit"} {
					if _, ok := env[k]; !ok {
						t.Errorf("envelope lacks %q: %s", k, body)
					}
				}
				for _, k := range []string{"page", "per_page", "next_before"} {
					if _, ok := env[k]; ok {
						t.Errorf("envelope still has the old key %q: %s", k, body)
					}
				}
				if !strings.HasPrefix(string(env["items"]), "[") {
					t.Errorf("items is not an array: %s", env["items"])
				}
				if _, err := strconv.Atoi(string(env["total"])); err != nil {
					t.Errorf("total is not a number: %s", env["total"])
				}
				if n := string(env["next"]); n != "null" && !strings.HasPrefix(n, `"`) {
					t.Errorf("next is neither a link nor null: %s", n)
				}
				for _, q := range []string{"?limit=99999", "?per_page=99999", "?limit=0", "?limit=ten", "?offset=-1"} {
					code, body := get(q)
					if code != http.StatusBadRequest {
						t.Errorf("GET %s%s: status %d, want 400 (not a silent cap): %s", path, q, code, body)
					}
					if strings.Contains(string(body), "99999") || strings.Contains(string(body), "ten") {
						t.Errorf("GET %s%s: the error echoes the value: %s", path, q, body)
					}
					if strings.Contains(q, "99999") && !strings.Contains(string(body), "limit") {
						t.Errorf("GET %s%s: the error does not name limit: %s", path, q, body)
					}
				}
				if code, body := get("?limit=1"); code != http.StatusOK || !strings.Contains(string(body), `"limit":1`) {
					t.Errorf("GET %s?limit=1: %d %s", path, code, body)
				}
			})
		}
		for p := range paths {
			if !seen[p] {
				t.Errorf("%s is listed as a collection but no GET route documents the list envelope", p)
			}
		}
	})
}

// walk follows next from path (as user) to the end and returns the items' ids in order
// and the total the first page announced.
func walk(t *testing.T, e *testEnv, path, user string) ([]int64, int) {
	t.Helper()
	var ids []int64
	total := -1
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("next does not end")
		}
		code, body := e.api("GET", path, user, nil)
		var env struct {
			Items []struct {
				ID  int64 `json:"id"`
				Seq int64 `json:"seq"`
			} `json:"items"`
			Total int     `json:"total"`
			Next  *string `json:"next"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &env) != nil {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if total < 0 {
			total = env.Total
		}
		for _, it := range env.Items {
			ids = append(ids, it.ID+it.Seq)
		}
		path = ""
		if env.Next != nil {
			path = *env.Next
		}
	}
	return ids, total
}

// TestListNextWalks follows next through assets and supply findings (and the old
// page/per_page aliases) and checks that the pages cover every item exactly once.
func TestListNextWalks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		for i := 0; i < 23; i++ {
			if _, err := e.Assets.Create(context.Background(), actor.System(), asset.Input{OrgID: e.HospA.ID, Code: fmt.Sprintf("W-%03d", i),
				Name: fmt.Sprintf("Walk server %d", i), Kind: "server", Zone: "internal", Lifecycle: "in_service"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct{ name, path, user string }{
			{"assets", "/api/v1/assets?sort=code&limit=4", "regulator"},
			{"assets by the old aliases", "/api/v1/assets?sort=-code&per_page=5&page=1", "admin"},
			{"supply findings", "/api/v1/findings?state=all&limit=2", "regulator"},
			{"supply findings of hospital A", "/api/v1/findings?limit=1", "secofficer"},
			{"supply alerts", "/api/v1/supply/alerts?limit=1", "regulator"},
			{"trail", "/api/v1/trail?limit=7", "admin"},
		} {
			t.Run(c.name, func(t *testing.T) {
				ids, total := walk(t, e, c.path, c.user)
				dup := map[int64]bool{}
				for _, id := range ids {
					if dup[id] {
						t.Errorf("item %d appears twice", id)
					}
					dup[id] = true
				}
				if c.name == "trail" {
					if len(ids) < 10 {
						t.Errorf("trail walk found only %d entries", len(ids))
					}
					return
				}
				if len(ids) != total || total < 3 {
					t.Errorf("walk found %d items, total says %d", len(ids), total)
				}
				// The same collection in one page must hold the same items in the same order.
				all, _ := walk(t, e, strings.Split(c.path, "?")[0]+"?"+onePage(c.path), c.user)
				if fmt.Sprint(all) != fmt.Sprint(ids) {
					t.Errorf("paged walk %v differs from one page %v", ids, all)
				}
			})
		}
	})
}

// onePage is the query of path with its paging replaced by one page of 500.
func onePage(path string) string {
	_, q, _ := strings.Cut(path, "?")
	var keep []string
	for _, kv := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k != "limit" && k != "per_page" && k != "page" && k != "offset" {
			keep = append(keep, kv)
		}
	}
	return strings.Join(append(keep, "limit=500"), "&")
}
