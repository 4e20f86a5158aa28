package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/rulestore"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
)

// loadMatrix reads testdata/rbac_matrix.txt: "METHOD PATTERN | roles…" or "| public".
func loadMatrix(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("testdata/rbac_matrix.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		left, right, ok := strings.Cut(line, "|")
		fields := strings.Fields(left)
		if !ok || len(fields) != 2 {
			t.Fatalf("bad matrix line %q", line)
		}
		key := fields[0] + " " + fields[1]
		if _, dup := m[key]; dup {
			t.Fatalf("matrix lists %s twice", key)
		}
		m[key] = strings.Fields(right)
	}
	return m
}

func routeKey(r RouteInfo) string {
	m := r.Method
	if m == "" {
		m = "ANY"
	}
	return m + " " + r.Pattern
}

// concretePath turns a pattern into a request path with objects that the caller may see.
func (e *testEnv) concretePath(pattern, user string, spareToken int64) string {
	p := pattern
	switch {
	case p == "/{$}":
		return "/"
	case p == "/static/":
		return "/static/app.css"
	case p == "/api/":
		return "/api/v1/no-such-thing"
	}
	p = strings.Replace(p, "{name}", "procurement", 1)
	p = strings.Replace(p, "{vuln}", "GHSA-test-0001", 1)
	if len(e.RiskA.Tasks) > 0 {
		p = strings.Replace(p, "{task}", strconv.FormatInt(e.RiskA.Tasks[0].ID, 10), 1)
	}
	if len(e.ChecklistA.Items) > 0 {
		p = strings.Replace(p, "{run}", strconv.FormatInt(e.ChecklistA.ID, 10), 1)
		p = strings.Replace(p, "{item}", strconv.FormatInt(e.ChecklistA.Items[0].ID, 10), 1)
	}
	p = strings.Replace(p, "{evidence}", strconv.FormatInt(e.AssessFileA.ID, 10), 1)
	id := ""
	switch {
	case strings.Contains(p, "/compliance/items/{id}"):
		id = strconv.FormatInt(e.assessItemRow(e.AssessA.ID), 10)
	case strings.Contains(p, "/compliance/assessments/{id}"):
		id = strconv.FormatInt(e.AssessA.ID, 10)
	case strings.Contains(p, "/risks/{id}"):
		id = strconv.FormatInt(e.RiskA.ID, 10)
	case strings.Contains(p, "/dataflows/{id}"): // Compliance: data flows (package dataflow).
		id = strconv.FormatInt(e.DataflowA.ID, 10)
	case strings.Contains(p, "/incidents/{id}"):
		id = strconv.FormatInt(e.IncidentA.ID, 10)
	case strings.Contains(p, "/plans/{id}"):
		id = strconv.FormatInt(e.PlanA.ID, 10)
	case strings.Contains(p, "/drills/{id}"):
		id = strconv.FormatInt(e.DrillA.ID, 10)
	case strings.Contains(p, "/checklists/{id}"):
		id = strconv.FormatInt(e.ChecklistA.ID, 10)
	case strings.Contains(p, "/monitor/rules/{id}"):
		id = "brute-force"
	case strings.Contains(p, "/notify/channels/{id}"):
		id = strconv.FormatInt(e.NotifyChanA.ID, 10)
	case strings.Contains(p, "/notify/deliveries/{id}"):
		id = "1"
	case strings.Contains(p, "/notify/routes/{id}"):
		id = strconv.FormatInt(e.NotifyRouteA, 10)
	case strings.Contains(p, "/notify/subscriptions/{id}"):
		id = strconv.FormatInt(e.NotifySubB, 10) // not the caller's own: 404 to those allowed
	case strings.Contains(p, "/dlp/scans/{id}"), strings.Contains(p, "/dlp/jobs/{id}"):
		id = strconv.FormatInt(e.DLPScanA.ID, 10)
	case strings.Contains(p, "/dlp/findings/{id}"):
		id = strconv.FormatInt(e.DLPFindingA.ID, 10)
	// Periodic reports.
	case strings.Contains(p, "/reports/{id}"):
		id = strconv.FormatInt(e.ReportA.ID, 10)
	case strings.Contains(p, "/report-templates/{id}"):
		id = strconv.FormatInt(e.ReportTmplA.ID, 10)
	case strings.Contains(p, "/cases/{id}"):
		id = strconv.FormatInt(e.CaseA.ID, 10)
	case strings.Contains(p, "/apps/{id}"):
		id = strconv.FormatInt(e.AppA.ID, 10)
	case strings.Contains(p, "/silences/{id}"):
		id = strconv.FormatInt(e.SilenceA.ID, 10)
	case strings.Contains(p, "/vendors/{id}"):
		id = strconv.FormatInt(e.VendorA.ID, 10)
	case strings.Contains(p, "/products/{id}"):
		id = strconv.FormatInt(e.ProductA.ID, 10)
	case strings.Contains(p, "/versions/{id}"):
		id = strconv.FormatInt(e.VersionA.ID, 10)
	case strings.Contains(p, "/findings/{id}"):
		id = strconv.FormatInt(e.FindingA.ID, 10)
	case strings.Contains(p, "/alerts/{id}"):
		id = strconv.FormatInt(e.AlertA.ID, 10)
	case strings.Contains(p, "/assets/{id}"):
		id = strconv.FormatInt(e.AssetA.ID, 10)
	case strings.Contains(p, "/orgs/{id}"):
		id = strconv.FormatInt(e.DeptA.ID, 10)
	case strings.Contains(p, "/users/{id}"):
		id = strconv.FormatInt(e.Users["auditor"].ID, 10)
		if user == "auditor" {
			id = strconv.FormatInt(e.Users["appops"].ID, 10)
		}
	case strings.Contains(p, "tokens/{id}"):
		id = strconv.FormatInt(spareToken, 10)
	case strings.Contains(p, "/training/sessions/{id}"):
		id = strconv.FormatInt(e.TrainingSessionA.ID, 10)
	case strings.Contains(p, "/training/"):
		id = strconv.FormatInt(e.TrainingCourseA.ID, 10)
	// Compliance: policies (package policy).
	case strings.Contains(p, "/policies/{id}"):
		id = strconv.FormatInt(e.PolicyA.ID, 10)
	case strings.Contains(p, "/compliance/roles/{id}"), strings.Contains(p, "/policies/roles/{id}"):
		id = strconv.FormatInt(e.RoleA.ID, 10)
	case strings.Contains(p, "/selfchecks/{id}"):
		id = strconv.FormatInt(e.SelfCheckA.ID, 10)
	}
	p = strings.Replace(p, "{version}", "1", 1)
	return strings.Replace(p, "{id}", id, 1)
}

type outcome struct {
	code     int
	denied   bool // refused by the authorization check
	needAuth bool // refused for lack of credentials
}

func (e *testEnv) callAPI(method, path, user string) outcome {
	e.t.Helper()
	var body any
	if method == "POST" || method == "PUT" {
		body = "{}"
	}
	if strings.HasSuffix(path, "/import") {
		body = "code,name,kind,zone\n"
	}
	code, out := e.api(method, path, user, body)
	var eb errorBody
	_ = json.Unmarshal(out, &eb)
	return outcome{code: code, denied: code == http.StatusForbidden && eb.Error.Code == "permission_denied", needAuth: code == http.StatusUnauthorized}
}

func (b *browser) call(method, path string) outcome {
	b.e.t.Helper()
	var code int
	var body string
	var h http.Header
	if method == "GET" {
		code, body, h = b.get(path)
	} else {
		code, body, h = b.post(path, url.Values{})
	}
	return outcome{code: code,
		denied:   code == http.StatusForbidden && strings.Contains(body, "Your role does not allow this."),
		needAuth: code == http.StatusSeeOther && strings.HasPrefix(h.Get("Location"), "/login?next=")}
}

// TestRBACMatrix requests every registered route as every role and checks the answer
// against testdata/rbac_matrix.txt; anonymous callers must be refused everywhere but on
// public routes.
func TestRBACMatrix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		matrix := loadMatrix(t)
		probe := newSupplyEnv(t, db)
		routes := probe.srv.Routes()
		seen := map[string]bool{}
		for _, r := range routes {
			k := routeKey(r)
			seen[k] = true
			if _, ok := matrix[k]; !ok {
				t.Errorf("route %s is not in testdata/rbac_matrix.txt", k)
			}
		}
		var stale []string
		for k := range matrix {
			if !seen[k] {
				stale = append(stale, k)
			}
		}
		sort.Strings(stale)
		for _, k := range stale {
			t.Errorf("testdata/rbac_matrix.txt lists %s, which is not a registered route", k)
		}

		// Anonymous callers.
		anon := probe.newBrowser()
		anon.get("/login") // double-submit CSRF cookie for the public forms
		for _, r := range routes {
			allowed := matrix[routeKey(r)]
			method := r.Method
			if method == "" {
				method = "GET"
			}
			path := probe.concretePath(r.Pattern, "", 0)
			var o outcome
			if r.API {
				o = probe.callAPI(method, path, "")
			} else {
				o = anon.call(method, path)
			}
			public := len(allowed) == 1 && allowed[0] == "public"
			switch {
			case public && (o.denied || o.needAuth || o.code == http.StatusForbidden):
				t.Errorf("anonymous %s %s: got %d, want the public route to answer", method, path, o.code)
			case !public && !o.needAuth:
				t.Errorf("anonymous %s %s: got %d, want a sign-in demand", method, path, o.code)
			}
		}

		// Each role, in its own environment so that one role's writes cannot mask another's.
		for _, role := range auth.Roles {
			t.Run(role, func(t *testing.T) {
				t.Parallel() // each role has its own server and database
				e := probe
				if role != auth.RoleAuditor { // the probe environment serves the auditor
					e = newSupplyEnv(t, db2(t, db))
				}
				user := roleUser[role]
				_, spare, err := e.Auth.CreateToken(context.Background(), actor.System(), e.Users[user].ID, "spare", "read", 0)
				if err != nil {
					t.Fatal(err)
				}
				br := e.newBrowser()
				br.login(user)
				for _, r := range e.srv.Routes() {
					allowed := matrix[routeKey(r)]
					if len(allowed) == 1 && allowed[0] == "public" {
						continue
					}
					want := false
					for _, a := range allowed {
						want = want || a == role
					}
					method := r.Method
					path := e.concretePath(r.Pattern, user, spare.ID)
					var o outcome
					if r.API {
						o = e.callAPI(method, path, user)
					} else {
						o = br.call(method, path)
					}
					if o.needAuth {
						t.Errorf("%s %s as %s: lost the session or token (status %d)", method, path, role, o.code)
						continue
					}
					if want && o.denied {
						t.Errorf("%s %s as %s: denied, matrix allows it", method, path, role)
					}
					if !want && !o.denied {
						t.Errorf("%s %s as %s: got %d, matrix denies it", method, path, role, o.code)
					}
				}
			})
		}
	})
}

// db2 returns a second fresh database of the same engine, so that each role's
// environment starts clean.
func db2(t *testing.T, like *store.DB) *store.DB {
	return storetest.Open(t, like.Dialect())
}

// TestOtherHospitalIs404 requests every route that names an object with an object of
// hospital B, as hospital A's administrator (who may do everything within hospital A):
// each must answer 404, and nothing of B may leak into the body.
func TestOtherHospitalIs404(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		// The administrator of hospital A: move "admin" down from the region to hospital A.
		adminA, err := e.Auth.CreateUser(ctx, actor.System(), auth.UserInput{OrgID: e.HospA.ID, Username: "admin_a",
			Role: auth.RoleAdmin, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := e.Auth.CreateToken(ctx, actor.System(), adminA.ID, "t", "write", 0)
		if err != nil {
			t.Fatal(err)
		}
		e.Tokens["admin_a"] = tok
		_, bTok, err := e.Auth.CreateToken(ctx, actor.System(), e.Users["secofficer_b"].ID, "b", "read", 0)
		if err != nil {
			t.Fatal(err)
		}
		// A monitoring rule of hospital B's own.
		const bRule = "b-only-rule"
		if _, err := rulestore.New(db, e.Trail).Save(ctx, e.Users["secofficer_b"].Actor(""), 0, bRule,
			[]byte("id: "+bRule+"\nversion: \"1\"\nname: {zh: 乙院规则, en: B rule}\nseverity: low\nkind: match\nmatch: {action: export}\n")); err != nil {
			t.Fatal(err)
		}
		// An app hospital B reported to this (regional) instance.
		upstreamB := e.seedUpstreamReport(e.HospB.ID, "Bsoft reported app")
		br := e.newBrowser()
		br.login("admin_a")
		for _, r := range e.srv.Routes() {
			if !strings.Contains(r.Pattern, "{id}") {
				continue
			}
			var id int64
			sid := "" // an id that is not a number
			switch {
			case strings.Contains(r.Pattern, "/risks/"):
				id = e.RiskB.ID
			case strings.Contains(r.Pattern, "/incidents/"):
				id = e.IncidentB.ID
			case strings.Contains(r.Pattern, "/plans/"):
				id = e.PlanB.ID
			case strings.Contains(r.Pattern, "/drills/"):
				id = e.DrillB.ID
			case strings.Contains(r.Pattern, "/checklists/"):
				id = e.ChecklistB.ID
			case strings.Contains(r.Pattern, "/monitor/rules/"):
				sid = bRule
			case strings.Contains(r.Pattern, "/notify/channels/"):
				id = e.NotifyChanB.ID
			case strings.Contains(r.Pattern, "/notify/deliveries/"):
				id = e.NotifyDeadB
			case strings.Contains(r.Pattern, "/notify/routes/"):
				id = e.NotifyRouteB
			case strings.Contains(r.Pattern, "/notify/subscriptions/"):
				id = e.NotifySubB
			case strings.Contains(r.Pattern, "/dlp/scans/"), strings.Contains(r.Pattern, "/dlp/jobs/"):
				id = e.DLPScanB.ID
			case strings.Contains(r.Pattern, "/dlp/findings/"):
				id = e.DLPFindingB.ID
			// Compliance (issue 17): each module adds its cases under its own heading.
			// Compliance: catalogues (package control).

			// Compliance: assessments (package assess).
			case strings.Contains(r.Pattern, "/compliance/items/"):
				id = e.assessItemRow(e.AssessB.ID)
			case strings.Contains(r.Pattern, "/compliance/assessments/"):
				id = e.AssessB.ID

			// Compliance: policies (package policy).
			case strings.HasPrefix(r.Pattern, "/policies/roles/"):
				id = e.RoleB.ID
			case strings.HasPrefix(r.Pattern, "/api/v1/policies/"), strings.HasPrefix(r.Pattern, "/policies/"):
				id = e.PolicyB.ID
			case strings.HasPrefix(r.Pattern, "/api/v1/compliance/roles/"):
				id = e.RoleB.ID
			case strings.HasPrefix(r.Pattern, "/api/v1/selfchecks/"), strings.HasPrefix(r.Pattern, "/selfchecks/"):
				id = e.SelfCheckB.ID

			// Compliance: training (package training).
			case strings.Contains(r.Pattern, "/training/courses/"), strings.Contains(r.Pattern, "/training/exams/"):
				id = e.TrainingCourseB.ID
			case strings.Contains(r.Pattern, "/training/sessions/"):
				id = e.TrainingSessionB.ID
			case strings.Contains(r.Pattern, "/training/attempts/"):
				id = e.TrainingAttemptB.ID

			// Compliance: data flows (package dataflow).
			case strings.Contains(r.Pattern, "/dataflows/"):
				id = e.DataflowB.ID

			// Compliance: reports (package report).
			case strings.Contains(r.Pattern, "/reports/"):
				id = e.ReportB.ID
			case strings.Contains(r.Pattern, "/report-templates/"):
				id = e.ReportTmplB.ID

			// Compliance: overview (package overview).

			case strings.Contains(r.Pattern, "/cases/"):
				id = e.CaseB.ID
			case strings.Contains(r.Pattern, "/upstream/apps/"):
				id = upstreamB
			case strings.Contains(r.Pattern, "/apps/"):
				id = e.AppB.ID
			case strings.Contains(r.Pattern, "/silences/"):
				id = e.SilenceB.ID
			case strings.Contains(r.Pattern, "/vendors/"):
				id = e.VendorB.ID
			case strings.Contains(r.Pattern, "/products/"):
				id = e.ProductB.ID
			case strings.Contains(r.Pattern, "/versions/"):
				id = e.VersionB.ID
			case strings.Contains(r.Pattern, "/findings/"):
				id = e.FindingB.ID
			case strings.Contains(r.Pattern, "/alerts/"):
				id = e.AlertB.ID
			case strings.Contains(r.Pattern, "/assets/"):
				id = e.AssetB.ID
			case strings.Contains(r.Pattern, "/orgs/"):
				id = e.HospB.ID
			case strings.Contains(r.Pattern, "/users/"):
				id = e.Users["secofficer_b"].ID
			case strings.Contains(r.Pattern, "tokens/"):
				id = bTok.ID
			default:
				t.Fatalf("route %s names an object this test does not know", r.Pattern)
			}
			if sid == "" {
				sid = strconv.FormatInt(id, 10)
			}
			path := strings.Replace(r.Pattern, "{id}", sid, 1)
			path = strings.Replace(path, "{name}", "procurement", 1)
			var code int
			var body string
			if r.API {
				var b []byte
				var payload any
				if r.Method == "POST" || r.Method == "PUT" {
					payload = "{}"
				}
				code, b = e.api(r.Method, path, "admin_a", payload)
				body = string(b)
			} else if r.Method == "GET" {
				code, body, _ = br.get(path)
			} else {
				code, body, _ = br.post(path, url.Values{})
			}
			if code != http.StatusNotFound {
				t.Errorf("%s %s (hospital B's object) as hospital A's admin: status %d, want 404", r.Method, path, code)
			}
			for _, leak := range []string{"PACS archive B", "Hospital B", "secofficer_b", "10.2.1.10", "Bsoft"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s %s: response leaks %q", r.Method, path, leak)
				}
			}
		}
		// B's objects are still intact.
		if _, err := e.Assets.Get(ctx, actor.System(), e.AssetB.ID); err != nil {
			t.Errorf("hospital B's asset was affected: %v", err)
		}
		if f, err := e.Supply.Finding(ctx, actor.System(), e.FindingB.ID); err != nil || f.State != "open" {
			t.Errorf("hospital B's finding was affected: %v %+v", err, f)
		}
		if al, _ := e.Supply.Alerts(ctx, actor.System(), true, 100); !containsAlert(al, e.AlertB.ID) {
			t.Errorf("hospital B's alert was acknowledged by hospital A's administrator")
		}
		if c, err := e.Alerts.Case(ctx, actor.System(), e.CaseB.ID); err != nil || c.Status != "new" || c.Assignee != "" ||
			len(c.Comments) != 0 || c.Alerts != 1 {
			t.Errorf("hospital B's case was changed by hospital A's administrator: %+v %v", c.Case, err)
		}
		if sl, err := e.Alerts.Silence(ctx, actor.System(), e.SilenceB.ID); err != nil || !sl.Active(time.Now()) {
			t.Errorf("hospital B's silence was expired by hospital A's administrator: %v", err)
		}
		// A vulnerability is not an object of a hospital: its page answers, but shows
		// only what the caller's hospital runs.
		code, body := e.api("GET", "/api/v1/vulns/GHSA-test-0001", "admin_a", nil)
		if code != http.StatusOK || !strings.Contains(string(body), "Outpatient app A") || strings.Contains(string(body), "Bsoft") ||
			strings.Contains(string(body), "B-001") {
			t.Errorf("vulnerability exposure as hospital A: %d %s", code, body)
		}
	})
}

func containsAlert(as []supply.Alert, id int64) bool {
	for _, a := range as {
		if a.ID == id {
			return true
		}
	}
	return false
}

// assessItemRow is the row id of the first item of assessment id (the id a risk raised
// from a gap names).
func (e *testEnv) assessItemRow(id int64) int64 {
	e.t.Helper()
	var row int64
	if err := e.db.QueryRowContext(context.Background(), `SELECT MIN(id) FROM assess_items WHERE assessment_id = ?`, id).Scan(&row); err != nil {
		e.t.Fatal(err)
	}
	return row
}
