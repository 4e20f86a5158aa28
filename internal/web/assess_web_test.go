package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/assess"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// seedAssess gives each hospital an assessment of the fixture catalogue, with a gap
// (8.1.4.1.d not met) and an evidence file on 8.1.4.1.a.
func (e *testEnv) seedAssess() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	for _, h := range []struct {
		who   string
		title string
		x     *assess.Assessment
		file  *assess.Evidence
	}{{"secofficer", "MLPS self-check A", &e.AssessA, &e.AssessFileA}, {"secofficer_b", productBName + " MLPS check", &e.AssessB, &e.AssessFileB}} {
		a := e.Users[h.who].Actor("")
		x, err := e.Assess.Create(ctx, a, assess.Input{OrgID: a.OrgID, Catalogue: "mini-mlps", Title: h.title, Assessor: h.who})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Assess.SetStatus(ctx, a, x.ID, "8.1.4.1.d", assess.StatusInput{Status: assess.StatusNotMet, Note: "ops accounts without MFA"}); err != nil {
			t.Fatal(err)
		}
		if *h.file, err = e.Assess.AddFile(ctx, a, x.ID, "8.1.4.1.a", "policy.txt", nil, strings.NewReader("password policy v3\n")); err != nil {
			t.Fatal(err)
		}
		if *h.x, err = e.Assess.Assessment(ctx, a, x.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAssessAPI walks the assessments over HTTP: list and who reads it, one started and
// refused when bad, status, a link, a file up and down, a recheck, a gap raised as a
// risk; hospital B's assessment is not found.
func TestAssessAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"a": fmt.Sprint(e.AssessA.ID), "b": fmt.Sprint(e.AssessB.ID), "file_a": fmt.Sprint(e.AssessFileA.ID),
			"file_b": fmt.Sprint(e.AssessFileB.ID), "incident": fmt.Sprint(e.IncidentA.ID), "incident_b": fmt.Sprint(e.IncidentB.ID)}
		save := func(key string) func(t *testing.T, body []byte, _ http.Header) {
			return func(t *testing.T, body []byte, _ http.Header) {
				vars[key] = fmt.Sprint(decode[struct {
					ID int64 `json:"id"`
				}](t, body).ID)
			}
		}
		noB := append([]string{"MLPS check", "ops accounts"}, leakMarks...)
		noB = noB[1:] // "ops accounts without MFA" is A's note too
		e.runScenarios(t, vars, []apiScenario{
			{name: "the list", method: "GET", url: "/api/v1/compliance/assessments", user: "auditor", status: http.StatusOK,
				expect: []string{"MLPS self-check A", `"not_met":1`}, notExpect: append([]string{productBName}, leakMarks...)},
			{name: "the app operator does not read them", method: "GET", url: "/api/v1/compliance/assessments", user: "appops",
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "the auditor does not start one", method: "POST", url: "/api/v1/compliance/assessments", user: "auditor",
				body: jsonBody(assess.Input{Title: "x", Catalogue: "mini-mlps"}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "an unknown catalogue", method: "POST", url: "/api/v1/compliance/assessments", user: "secofficer",
				body: jsonBody(assess.Input{Title: "x", Catalogue: "iso-27001"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"catalogue"`}},
			{name: "started", method: "POST", url: "/api/v1/compliance/assessments", user: "privacy",
				body:   jsonBody(assess.Input{Title: "HIPAA review", Catalogue: "mini-mlps", Assessor: "privacy"}),
				status: http.StatusCreated, expect: []string{`"unassessed":8`, `"item":"8.1.4.1.a"`, `"zh-CN":"身份标识唯一`}, after: save("new")},
			{name: "one with items", method: "GET", url: "/api/v1/compliance/assessments/{a}", user: "regulator", status: http.StatusOK,
				expect: []string{`"status":"not_met"`, `"name":"policy.txt"`, `"history":[{"from":"unassessed","to":"not_met"`}, notExpect: leakMarks},
			{name: "B's assessment", method: "GET", url: "/api/v1/compliance/assessments/{b}", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found", notExpect: noB},
			{name: "a status", method: "POST", url: "/api/v1/compliance/assessments/{new}/status", user: "secofficer",
				body: jsonBody(assessStatusRequest{Item: "8.1.4.1.a", Status: "met", Note: "unified login"}), status: http.StatusOK,
				expect: []string{`"status":"met"`, `"assessed_by":"secofficer"`}},
			{name: "a bad status", method: "POST", url: "/api/v1/compliance/assessments/{new}/status", user: "secofficer",
				body: jsonBody(assessStatusRequest{Item: "8.1.4.1.a", Status: "fine"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"status"`}},
			{name: "a link to an incident", method: "POST", url: "/api/v1/compliance/assessments/{new}/links", user: "secofficer",
				body:   jsonBody(assessLinkRequest{Item: "8.1.10.5.b", LinkInput: assess.LinkInput{Module: "incident", ID: e.IncidentA.ID}}),
				status: http.StatusCreated, expect: []string{`"module":"incident"`, `"expired":false`}},
			{name: "a link to B's incident", method: "POST", url: "/api/v1/compliance/assessments/{new}/links", user: "secofficer",
				body:   jsonBody(assessLinkRequest{Item: "8.1.10.5.b", LinkInput: assess.LinkInput{Module: "incident", ID: e.IncidentB.ID}}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"id"`}},
			{name: "download a file", method: "GET", url: "/api/v1/compliance/assessments/{a}/files/{file_a}", user: "auditor",
				status: http.StatusOK, expect: []string{"password policy v3"},
				after: func(t *testing.T, _ []byte, h http.Header) {
					if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("X-Content-Type-Options") != "nosniff" {
						t.Errorf("headers %v", h)
					}
				}},
			{name: "B's file through A's assessment", method: "GET", url: "/api/v1/compliance/assessments/{a}/files/{file_b}", user: "auditor",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "recheck", method: "POST", url: "/api/v1/compliance/assessments/{new}/recheck", user: "secofficer", status: http.StatusOK,
				expect: []string{`"check":"trail.chain"`, `"outcome":"pass"`, `"key":"assess.check.trail.pass"`, `"check":"training.completion"`,
					`"outcome":"unavailable"`}},
			{name: "a met item is no gap", method: "POST", url: "/api/v1/compliance/assessments/{new}/risks", user: "secofficer",
				body: jsonBody(assessRiskRequest{Item: "8.1.4.1.a"}), status: http.StatusConflict},
			{name: "a gap becomes a risk", method: "POST", url: "/api/v1/compliance/assessments/{a}/risks", user: "secofficer",
				body: jsonBody(assessRiskRequest{Item: "8.1.4.1.d", Owner: "secofficer"}), status: http.StatusCreated,
				expect: []string{`"category":"compliance"`, `"created":true`, "8.1.4.1.d"}},
			{name: "and again: the same risk", method: "POST", url: "/api/v1/compliance/assessments/{a}/risks", user: "secofficer",
				body: jsonBody(assessRiskRequest{Item: "8.1.4.1.d"}), status: http.StatusOK, expect: []string{`"created":false`}},
			{name: "B's gap", method: "POST", url: "/api/v1/compliance/assessments/{b}/risks", user: "secofficer",
				body: jsonBody(assessRiskRequest{Item: "8.1.4.1.d"}), status: http.StatusNotFound, errCode: "not_found"},
		})
		// An upload: accepted, then refused for its content.
		for _, c := range []struct {
			name, file, body string
			want             int
		}{{"accepted", "scan.txt", "nmap report: no open ports\n", http.StatusCreated}, {"html", "scan.txt", "<html><script>x</script>", http.StatusBadRequest}} {
			body, ct := multipartBody(t, mpPart{"item", "", []byte("8.1.4.5.e")}, mpPart{"expires_on", "", []byte("2099-12-31")},
				mpPart{"file", c.file, []byte(c.body)})
			code, out, _ := e.raw("POST", "/api/v1/compliance/assessments/"+vars["a"]+"/files", "secofficer", body, ct)
			if code != c.want {
				t.Errorf("upload %s: %d %s", c.name, code, out)
			}
		}
		code, out := e.api("GET", "/api/v1/compliance/assessments/"+vars["a"], "auditor", nil)
		if code != http.StatusOK || !bytes.Contains(out, []byte(`"name":"scan.txt"`)) || !bytes.Contains(out, []byte(`"expires_at":"2099-12-31T23:59:59Z"`)) {
			t.Errorf("after the upload: %d %.600s", code, out)
		}
	})
}

// TestAssessPages: the hub and an assessment in both languages, status editing, a link,
// a recheck whose sentences read in the page's language, the gap → risk button; B's
// assessment is not found.
func TestAssessPages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		if code, b := e.api("PUT", "/api/v1/me/locale", "privacy", localeRequest{Locale: "zh-CN"}); code != http.StatusNoContent {
			t.Fatalf("set locale: %d %s", code, b)
		}
		if code, b := e.api("PUT", "/api/v1/me/locale", "secofficer", localeRequest{Locale: "en"}); code != http.StatusNoContent {
			t.Fatalf("set locale: %d %s", code, b)
		}
		var gapRow int64 // the row of item 8.1.4.1.d of assessment A, as a risk raised from it names it
		if err := e.db.QueryRowContext(context.Background(), `SELECT id FROM assess_items WHERE assessment_id = ? AND item = ?`,
			e.AssessA.ID, "8.1.4.1.d").Scan(&gapRow); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"a": fmt.Sprint(e.AssessA.ID), "b": fmt.Sprint(e.AssessB.ID), "gap": fmt.Sprint(gapRow),
			"bgap": fmt.Sprint(e.assessItemRow(e.AssessB.ID))}
		e.runPages(t, vars, []pageScenario{
			{name: "hub in English", user: "secofficer", method: "GET", path: "/compliance", status: http.StatusOK,
				expect:    []string{"Compliance assessments", "MLPS self-check A", `<progress max="100" value="0"`, "Start an assessment", `href="/compliance" class="on"`},
				notExpect: []string{productBName}},
			{name: "hub in Chinese", user: "privacy", method: "GET", path: "/compliance", status: http.StatusOK,
				expect: []string{"合规评估", "新建评估", "全院"}, notExpect: []string{"Start an assessment", productBName}},
			{name: "the auditor has no form", user: "auditor", method: "GET", path: "/compliance", status: http.StatusOK,
				expect: []string{"MLPS self-check A"}, notExpect: []string{`id="assess-create-form"`}},
			{name: "start one", user: "secofficer", method: "POST", path: "/compliance/assessments",
				form:   url.Values{"title": {"Level-3 review 2026"}, "catalogue": {"mini-mlps"}, "assessor": {"secofficer"}},
				status: http.StatusSeeOther, location: "/compliance/assessments/"},
			{name: "a bad one stays on the hub", user: "secofficer", method: "POST", path: "/compliance/assessments",
				form: url.Values{"title": {""}, "catalogue": {"mini-mlps"}}, status: http.StatusBadRequest, expect: []string{"Start an assessment"}},
			{name: "an assessment in English", user: "secofficer", method: "GET", path: "/compliance/assessments/{a}", status: http.StatusOK,
				expect: []string{"MLPS self-check A", "Security computing environment", "8.1.4.1 Identification and authentication",
					"Two-factor authentication", `id="status-8.1.4.1.d">Not met`, `id="assessment-trend"`, "policy.txt", "Raise a risk for this gap"}},
			{name: "set a status", user: "secofficer", method: "POST", path: "/compliance/assessments/{a}/status",
				form: url.Values{"item": {"8.1.4.3.c"}, "status": {"partly"}, "note": {"backups weekly only"}}, status: http.StatusSeeOther,
				location: "/compliance/assessments/{a}?flash=flash.assess.status#item-8.1.4.3.c"},
			{name: "recheck", user: "secofficer", method: "POST", path: "/compliance/assessments/{a}/recheck", status: http.StatusSeeOther},
			{name: "check results in English", user: "secofficer", method: "GET", path: "/compliance/assessments/{a}", status: http.StatusOK,
				expect: []string{"Trail chain intact", "The trail&#39;s hash chain is intact", `id="status-8.1.4.3.c">Partly met`, "backups weekly only",
					"Check training.completion is not available"}},
			{name: "check results in Chinese", user: "privacy", method: "GET", path: "/compliance/assessments/{a}", status: http.StatusOK,
				expect:    []string{"操作审计链完整", "操作审计链完整（已校验", "身份鉴别", "部分符合", "无法检查"},
				notExpect: []string{"hash chain is intact", "Identification and authentication"}},
			{name: "a link", user: "secofficer", method: "POST", path: "/compliance/assessments/{a}/links",
				form: url.Values{"item": {"8.1.10.5.b"}, "module": {"incident"}, "record_id": {fmt.Sprint(e.IncidentA.ID)}}, status: http.StatusSeeOther},
			{name: "B's incident is refused", user: "secofficer", method: "POST", path: "/compliance/assessments/{a}/links",
				form: url.Values{"item": {"8.1.10.5.b"}, "module": {"incident"}, "record_id": {fmt.Sprint(e.IncidentB.ID)}}, status: http.StatusBadRequest,
				expect: []string{"There is no such record in this organisation."}},
			{name: "gap to risk", user: "secofficer", method: "POST", path: "/compliance/assessments/{a}/risks",
				form: url.Values{"item": {"8.1.4.1.d"}}, status: http.StatusSeeOther, location: "/risks/"},
			{name: "the gap's page is its assessment, at the item", user: "auditor", method: "GET", path: "/compliance/items/{gap}",
				status: http.StatusSeeOther, location: "/compliance/assessments/{a}#item-8.1.4.1.d"},
			{name: "B's gap", user: "secofficer", method: "GET", path: "/compliance/items/{bgap}", status: http.StatusNotFound},
			{name: "B's assessment", user: "secofficer", method: "GET", path: "/compliance/assessments/{b}", status: http.StatusNotFound,
				notExpect: []string{productBName}},
		})
	})
}
