package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/upstream"
)

// seedUpstreamReport links hospital orgID and stores a report of one app named name
// from it, as its medguard would push it; it returns the app's id at the region.
func (e *testEnv) seedUpstreamReport(orgID int64, name string) int64 {
	t := e.t
	t.Helper()
	ctx := context.Background()
	l, err := e.Upstream.LinkHospital(ctx, actor.System(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Auth.UserByName(ctx, actor.System(), l.Username)
	if err != nil {
		t.Fatal(err)
	}
	score := 55
	rep := upstream.Report{Version: upstream.ReportVersion, ReportID: strings.Repeat("0", 31) + strconv.FormatInt(orgID%10, 10),
		GeneratedAt: time.Now().UTC(), Apps: []upstream.App{{ID: 1, Name: name, Platform: "android", Package: "cn.example." + strconv.FormatInt(orgID, 10),
			Operator: "Example Ltd", Status: "admitted", Score: &score, Grade: "C"}}}
	b, _ := json.Marshal(rep)
	if _, _, err := e.Upstream.Receive(ctx, u, "127.0.0.1", l.TokenID, strings.NewReader(string(b))); err != nil {
		t.Fatal(err)
	}
	apps, err := e.Upstream.Apps(ctx, actor.System(), upstream.Query{OrgID: orgID})
	if err != nil || len(apps) != 1 {
		t.Fatalf("seeded report: %v %+v", err, apps)
	}
	return apps[0].ID
}

// TestUpstreamAPI: the regional view of reported apps as a table of scenarios — who
// sees which hospital's apps, and what must not appear.
func TestUpstreamAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		idA := e.seedUpstreamReport(e.HospA.ID, "Reported app of A")
		idB := e.seedUpstreamReport(e.HospB.ID, "Bsoft reported app")
		for _, tc := range []struct {
			name, method, path, user string
			body                     any
			code                     int
			want, not                []string
		}{
			{"regulator lists both hospitals", "GET", "/api/v1/upstream/apps", "regulator", nil, 200,
				[]string{"Reported app of A", "Bsoft reported app", `"grade":"C"`, `"received_at"`}, nil},
			{"a hospital's officer lists its own only", "GET", "/api/v1/upstream/apps", "secofficer", nil, 200,
				[]string{"Reported app of A"}, []string{"Bsoft"}},
			{"another hospital's app is not found", "GET", "/api/v1/upstream/apps/" + strconv.FormatInt(idB, 10), "secofficer", nil, 404,
				nil, []string{"Bsoft"}},
			{"own app with its incidents", "GET", "/api/v1/upstream/apps/" + strconv.FormatInt(idA, 10), "secofficer", nil, 200,
				[]string{"Reported app of A", `"incidents":[]`}, nil},
			{"a person's token cannot push", "POST", "/api/v1/upstream/apps", "secofficer", map[string]any{"version": 1}, 403,
				[]string{"not_linked"}, nil},
			{"an administrator links a hospital", "POST", "/api/v1/upstream/links", "admin", map[string]any{"org_id": e.HospA.ID}, 201,
				[]string{`"token":"mgt_`, `"key":"mgk_`}, nil},
			{"a department is not linked", "POST", "/api/v1/upstream/links", "admin", map[string]any{"org_id": e.DeptA.ID}, 400,
				nil, []string{"mgt_", "mgk_"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := e.api(tc.method, tc.path, tc.user, tc.body)
				if code != tc.code {
					t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, code, tc.code, body)
				}
				for _, w := range tc.want {
					if !strings.Contains(string(body), w) {
						t.Errorf("missing %q in %s", w, body)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(string(body), n) {
						t.Errorf("%q must not appear in %s", n, body)
					}
				}
			})
		}
	})
}

// TestUpstreamPages: the regional pages of reported apps — the regulator's list holds
// both hospitals' apps and links there from the apps navigation; a hospital's officer
// sees its own only, no navigation entry, and another hospital's app is not found.
func TestUpstreamPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		idA := e.seedUpstreamReport(e.HospA.ID, "Reported app of A")
		idB := e.seedUpstreamReport(e.HospB.ID, "Bsoft reported app")
		e.runPages(t, map[string]string{"a": strconv.FormatInt(idA, 10), "b": strconv.FormatInt(idB, 10)}, []pageScenario{
			{name: "the regulator's list", user: "regulator", method: "GET", path: "/region/apps", status: http.StatusOK,
				expect: []string{"Reported app of A", "Bsoft reported app", `href="/region/apps/{a}"`, "2 apps from 2 hospitals", `id="apps-nav-region"`}},
			{name: "filtered by grade", user: "regulator", method: "GET", path: "/region/apps?grade=A", status: http.StatusOK,
				expect: []string{`id="region-empty"`}, notExpect: []string{"Reported app of A"}},
			{name: "a bad filter", user: "regulator", method: "GET", path: "/region/apps?status=gone", status: http.StatusBadRequest,
				expect: []string{`role="alert"`}},
			{name: "one app", user: "regulator", method: "GET", path: "/region/apps/{b}", status: http.StatusOK,
				expect: []string{"Bsoft reported app", "55 / 100", "No incident reported."}},
			{name: "the officer's list", user: "secofficer", method: "GET", path: "/region/apps", status: http.StatusOK,
				expect: []string{"Reported app of A"}, notExpect: []string{"Bsoft", `id="apps-nav-region"`}},
			{name: "another hospital's app", user: "secofficer", method: "GET", path: "/region/apps/{b}", status: http.StatusNotFound,
				notExpect: []string{"Bsoft"}},
			{name: "in Chinese", user: "regulator", method: "POST", path: "/lang", form: url.Values{"lang": {"zh-CN"}}, status: http.StatusSeeOther},
			{name: "the list in Chinese", user: "regulator", method: "GET", path: "/region/apps", status: http.StatusOK,
				expect: []string{"医院上报的应用", "共 2 个应用，来自 2 家医院"}, notExpect: []string{"Last report received"}},
		})
	})
}
