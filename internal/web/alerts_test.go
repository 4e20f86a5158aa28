package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestAlertsAPI walks the alert inbox's API as hospital A's people: lists and counts
// scoped to their hospital, patient ids masked, the workflow, cases, silences and the
// SLA; hospital B's objects answer 404 and never leak.
func TestAlertsAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		vars := map[string]string{"alertA": strconv.FormatInt(e.AlertA.ID, 10), "alertB": strconv.FormatInt(e.AlertB.ID, 10),
			"caseA": strconv.FormatInt(e.CaseA.ID, 10), "caseB": strconv.FormatInt(e.CaseB.ID, 10),
			"hospA": strconv.FormatInt(e.HospA.ID, 10)}
		notB := append([]string{"Hospital B", "Case of Hospital B"}, leakMarks...)
		future := time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339)
		e.runScenarios(t, vars, []apiScenario{
			{name: "list as the security officer", method: "GET", url: "/api/v1/alerts", user: "secofficer", status: 200,
				expect: []string{`"total":3`, `"source":"supply"`, "GHSA-test-0001", `"case_id":` + vars["caseA"]}, notExpect: notB},
			{name: "the app operator may not read the inbox", method: "GET", url: "/api/v1/alerts", user: "appops", status: 403,
				errCode: "permission_denied"},
			{name: "a bad status filter", method: "GET", url: "/api/v1/alerts?status=pending", user: "secofficer", status: 400,
				errCode: "invalid", notExpect: []string{"pending"}},
			{name: "a page too large", method: "GET", url: "/api/v1/alerts?limit=100000", user: "secofficer", status: 400,
				errCode: "limit_out_of_range"},
			{name: "a patient id is masked", method: "GET", url: "/api/v1/alerts?source=dlp", user: "auditor", status: 200,
				before: func(t *testing.T) {
					if err := db.InTx(ctx, func(tx *store.Tx) error {
						al, _, err := e.Alerts.Raise(ctx, tx, alert.Input{OrgID: e.HospA.ID, Source: "dlp", Kind: "dlp_block",
							Severity: "high", Title: i18n.M("alert.dlp.block", "discharge.docx", 4), Subject: "discharge.docx",
							PatientID: "110105194912310021", DedupKey: "dlp_check:test"})
						vars["dlpAlert"] = strconv.FormatInt(al.ID, 10)
						return err
					}); err != nil {
						t.Fatal(err)
					}
				},
				expect: []string{`"patient_id":"****0021"`, `"kind":"dlp_block"`}, notExpect: []string{"110105194912310021", "1949123"}},
			{name: "counts", method: "GET", url: "/api/v1/alerts/counts", user: "regulator", status: 200,
				expect: []string{`"by_severity":[`, `{"key":"dlp","n":1}`, `{"key":"supply","n":6}`}}, // the regulator sees the region: both hospitals
			{name: "one alert", method: "GET", url: "/api/v1/alerts/{dlpAlert}", user: "itops", status: 200,
				expect: []string{`"title":"Pre-send check blocked discharge.docx (highest level 4)"`}, notExpect: []string{"110105194912310021"}},
			{name: "hospital B's alert", method: "GET", url: "/api/v1/alerts/{alertB}", user: "secofficer", status: 404,
				errCode: "not_found", notExpect: notB},
			{name: "acknowledge", method: "POST", url: "/api/v1/alerts/{alertA}/ack", user: "privacy", status: 200,
				expect: []string{`"status":"investigating"`, `"acknowledged_by":"privacy"`}},
			{name: "the auditor may not acknowledge", method: "POST", url: "/api/v1/alerts/{dlpAlert}/ack", user: "auditor",
				status: 403, errCode: "permission_denied"},
			{name: "bulk status without ids", method: "POST", url: "/api/v1/alerts/status", user: "secofficer",
				body: jsonBody(map[string]any{"status": "investigating"}), status: 400, errCode: "invalid"},
			{name: "bulk status naming hospital B's alert changes nothing", method: "POST", url: "/api/v1/alerts/status",
				user: "secofficer", body: jsonBody(map[string]any{"ids": []int64{e.AlertA.ID, e.AlertB.ID}, "status": "resolved",
					"resolution": "confirmed"}), status: 404, errCode: "not_found", notExpect: notB,
				after: func(t *testing.T, _ []byte, _ http.Header) {
					if al, _ := e.Alerts.Get(ctx, actor.System(), e.AlertA.ID); al.Status != "investigating" {
						t.Errorf("alert A is %s after a refused bulk change", al.Status)
					}
				}},
			{name: "bulk assign", method: "POST", url: "/api/v1/alerts/assign", user: "secofficer",
				body: jsonBody(map[string]any{"ids": []int64{e.AlertA.ID}, "assignee": "secofficer"}), status: 200,
				expect: []string{`"assignee":"secofficer"`}},
			{name: "a case of hospital A's dlp alert", method: "POST", url: "/api/v1/cases", user: "secofficer",
				body: func(t *testing.T) (io.Reader, string) {
					id, _ := strconv.ParseInt(vars["dlpAlert"], 10, 64)
					return jsonBody(map[string]any{"title": "Discharge summary by mail", "alert_ids": []int64{id}})(t)
				},
				status: 201, expect: []string{`"alert_list":[`, `"severity":"high"`, `"status":"new"`},
				after: func(t *testing.T, body []byte, h http.Header) {
					c := decode[alert.CaseDetail](t, body)
					vars["case"] = strconv.FormatInt(c.ID, 10)
					if h.Get("Location") != "/api/v1/cases/"+vars["case"] {
						t.Errorf("location %q", h.Get("Location"))
					}
				}},
			{name: "a case holding hospital B's alert", method: "POST", url: "/api/v1/cases", user: "secofficer",
				body: jsonBody(map[string]any{"title": "x", "alert_ids": []int64{e.AlertB.ID}}), status: 404, errCode: "not_found",
				notExpect: notB},
			{name: "comment", method: "POST", url: "/api/v1/cases/{case}/comments", user: "privacy",
				body: jsonBody(map[string]any{"body": "gateway blocked it; sender informed"}), status: 201,
				expect: []string{`"author":"privacy"`}},
			{name: "accepting a risk needs a reason", method: "POST", url: "/api/v1/cases/{case}/status", user: "privacy",
				body:   jsonBody(map[string]any{"status": "resolved", "resolution": "risk_accepted", "accepted_until": future}),
				status: 400, errCode: "invalid"},
			{name: "new case to closed is refused", method: "POST", url: "/api/v1/cases/{case}/status", user: "privacy",
				body: jsonBody(map[string]any{"status": "closed"}), status: 409, errCode: "alert_transition"},
			{name: "resolve as a false positive", method: "POST", url: "/api/v1/cases/{case}/status", user: "privacy",
				body:   jsonBody(map[string]any{"status": "resolved", "resolution": "false_positive", "reason": "test file"}),
				status: 200, expect: []string{`"resolution":"false_positive"`, `"comments":[{`}},
			{name: "assign the case", method: "POST", url: "/api/v1/cases/{case}/assign", user: "secofficer",
				body: jsonBody(map[string]any{"assignee": "privacy"}), status: 200, expect: []string{`"assignee":"privacy"`}},
			{name: "cases", method: "GET", url: "/api/v1/cases?status=resolved", user: "auditor", status: 200,
				expect: []string{`"total":1`, "Discharge summary by mail"}, notExpect: notB},
			{name: "hospital B's case", method: "POST", url: "/api/v1/cases/{caseB}/comments", user: "secofficer",
				body: jsonBody(map[string]any{"body": "x"}), status: 404, errCode: "not_found", notExpect: notB},
			{name: "a silence needs an expiry", method: "POST", url: "/api/v1/silences", user: "secofficer",
				body: jsonBody(map[string]any{"source": "supply", "reason": "noise"}), status: 400, errCode: "invalid"},
			{name: "a silence", method: "POST", url: "/api/v1/silences", user: "secofficer",
				body:   jsonBody(map[string]any{"source": "supply", "kind": "delivery_failed", "reason": "vendor re-signs", "expires_at": future}),
				status: 201, expect: []string{`"matched":0`, `"created_by":"secofficer"`}},
			{name: "active silences", method: "GET", url: "/api/v1/silences?active=true", user: "auditor", status: 200,
				expect: []string{`"total":2`, "vendor re-signs"}, notExpect: notB},
			{name: "the SLA", method: "PUT", url: "/api/v1/orgs/{hospA}/alert-sla", user: "secofficer",
				body: jsonBody(map[string]any{"hours": map[string]int{"high": 4}}), status: 200,
				expect: []string{`"high":4`, `"critical":24`}},
			{name: "a bad SLA", method: "PUT", url: "/api/v1/orgs/{hospA}/alert-sla", user: "secofficer",
				body: jsonBody(map[string]any{"hours": map[string]int{"urgent": 4}}), status: 400, errCode: "invalid",
				notExpect: []string{"urgent"}},
			{name: "the supply chain's acknowledge does not reach another module's alert", method: "POST",
				url: "/api/v1/supply/alerts/{dlpAlert}/ack", user: "secofficer", status: 404, errCode: "not_found",
				notExpect: []string{"discharge.docx"}},
			{name: "the supply-chain alert list still answers", method: "GET", url: "/api/v1/supply/alerts", user: "appops",
				status: 200, expect: []string{"GHSA-test-0001", `"status":"investigating"`}, notExpect: append(notB, "discharge.docx")},
		})
	})
}

// TestDLPPolicyFormKeepsAllowedPaths: the policy page saves the allowed paths of
// level-4+ data, one a line, and shows them again.
func TestDLPPolicyFormKeepsAllowedPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		br := e.newBrowser()
		br.login("privacy")
		code, body, h := br.post("/dlp/policy", url.Values{"block_level": {"4"}, "alert_level": {"2"}, "unreadable": {"block"},
			"block_identifies_person": {"1"}, "custom": {""}, "allowed_paths": {"/srv/emr/records\r\n\r\n/srv/pacs\r\n"}})
		if code != http.StatusSeeOther {
			t.Fatalf("save policy: %d %s %v", code, body, h)
		}
		v, err := e.DLP.Policy(context.Background(), actor.System(), e.HospA.ID)
		if err != nil || len(v.AllowedPaths) != 2 || v.AllowedPaths[0] != "/srv/emr/records" || v.AllowedPaths[1] != "/srv/pacs" {
			t.Fatalf("stored allowed paths %q, %v", v.AllowedPaths, err)
		}
		code, body, _ = br.get("/dlp/policy")
		mustContain(t, code, body, http.StatusOK, "/srv/emr/records\n/srv/pacs", "Allowed paths of level-4")
	})
}
