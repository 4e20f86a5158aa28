package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// seedGovernance gives each hospital a risk, an emergency plan adopted from the
// ransomware template, an incident opened under it (with the plan's checklist) and a
// drill of the plan with one improvement task. Hospital B's are named after its product
// (productBName), which leakMarks catches.
func (e *testEnv) seedGovernance() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	sys := actor.System()
	for _, h := range []struct {
		org       org.Node
		name, who string
		rk        *risk.Risk
		pl        *incident.Plan
		inc       *incident.Incident
		run       *incident.ChecklistRun
		dr        *incident.Drill
	}{{e.HospA, "HIS A", "secofficer", &e.RiskA, &e.PlanA, &e.IncidentA, &e.ChecklistA, &e.DrillA},
		{e.HospB, productBName, "secofficer_b", &e.RiskB, &e.PlanB, &e.IncidentB, &e.ChecklistB, &e.DrillB}} {
		var err error
		if *h.rk, err = e.Risks.Create(ctx, sys, risk.Input{OrgID: h.org.ID, Title: "Ransomware on " + h.name, Category: "ransomware",
			InherentLikelihood: 3, InherentImpact: 4, Owner: h.who}); err != nil {
			t.Fatalf("seed risk of %s: %v", h.org.Name, err)
		}
		if *h.pl, err = e.Plans.AdoptTemplate(ctx, sys, h.org.ID, "ransomware"); err != nil {
			t.Fatalf("seed plan of %s: %v", h.org.Name, err)
		}
		if *h.inc, *h.run, err = incident.OpenFromPlan(ctx, e.Incidents, e.Plans, sys, incident.Input{OrgID: h.org.ID,
			Details: incident.Details{Title: "Encrypted shares on " + h.name, Category: "malware"}, Level: incident.LevelGeneral}, h.pl.ID); err != nil {
			t.Fatalf("seed incident of %s: %v", h.org.Name, err)
		}
		if *h.dr, err = e.Plans.RecordDrill(ctx, sys, h.pl.ID, incident.DrillInput{HeldOn: time.Now().AddDate(0, -1, 0),
			Kind: incident.DrillTabletop, Scenario: "Tabletop on " + h.name, Participants: []string{h.who},
			Tasks: []incident.DrillTaskInput{{Title: "Offline backups of " + h.name, Assignee: h.who, Due: time.Now().AddDate(0, 1, 0)}}}); err != nil {
			t.Fatalf("seed drill of %s: %v", h.org.Name, err)
		}
	}
}

// TestRiskAPI is the register over HTTP: the list and who may read it, a risk recorded
// by hand and refused when badly rated, risks raised from a supply finding and from an
// alert with the link back, the heat map, status, review, tasks and an acceptance from
// draft to decision and revocation.
func TestRiskAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"finding": fmt.Sprint(e.FindingA.ID), "finding_b": fmt.Sprint(e.FindingB.ID),
			"alert": fmt.Sprint(e.AlertA.ID), "risk_b": fmt.Sprint(e.RiskB.ID)}
		save := func(key string) func(t *testing.T, body []byte, _ http.Header) {
			return func(t *testing.T, body []byte, _ http.Header) {
				vars[key] = fmt.Sprint(decode[struct {
					ID int64 `json:"id"`
				}](t, body).ID)
			}
		}
		expires := time.Now().Add(90 * 24 * time.Hour).UTC()
		e.runScenarios(t, vars, []apiScenario{
			{name: "the register", method: "GET", url: "/api/v1/risks", user: "auditor", status: http.StatusOK,
				// Hospital A's own risk and the one its deficient data flow raised (seedDataflows).
				expect: []string{"Ransomware on HIS A", "Data flow Insurer feed A", `"total":2`}, notExpect: leakMarks},
			{name: "the app operator does not read risks", method: "GET", url: "/api/v1/risks", user: "appops",
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "the auditor does not record risks", method: "POST", url: "/api/v1/risks", user: "auditor",
				body: jsonBody(risk.Input{Title: "x"}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "a bad filter", method: "GET", url: "/api/v1/risks?status=sleeping", user: "auditor",
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"status"`}},
			{name: "a rating outside the matrix", method: "POST", url: "/api/v1/risks", user: "secofficer",
				body:   jsonBody(risk.Input{Title: "Weak VPN passwords", Category: "access", InherentLikelihood: 9, InherentImpact: 2}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"inherent_likelihood"`}},
			{name: "an unknown category", method: "POST", url: "/api/v1/risks", user: "secofficer",
				body:   jsonBody(risk.Input{Title: "Weak VPN passwords", Category: "bad-luck", InherentLikelihood: 3, InherentImpact: 2}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"category"`}},
			{name: "record a risk", method: "POST", url: "/api/v1/risks", user: "secofficer",
				body: jsonBody(risk.Input{Title: "Weak VPN passwords", Category: "access", Threat: "credential stuffing",
					InherentLikelihood: 4, InherentImpact: 4, Likelihood: 2, Impact: 3, Owner: "secofficer"}),
				status: http.StatusCreated, expect: []string{`"hospital":"Hospital A"`, `"status":"open"`, `"inherent_likelihood":4`, `"likelihood":2`},
				after: save("risk")},
			{name: "filter by text", method: "GET", url: "/api/v1/risks?q=vpn&status=active", user: "regulator", status: http.StatusOK,
				expect: []string{"Weak VPN passwords", `"total":1`}, notExpect: []string{"Ransomware on"}},
			{name: "one risk with its playbook tasks", method: "GET", url: "/api/v1/risks/{risk}", user: "itops", status: http.StatusOK,
				expect: []string{"Weak VPN passwords", `"tasks":[`, `"history":[`}},
			{name: "another hospital's risk", method: "GET", url: "/api/v1/risks/{risk_b}", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},
			{name: "rate it again", method: "PUT", url: "/api/v1/risks/{risk}", user: "privacy",
				body: jsonBody(risk.Input{Title: "Weak VPN passwords", Category: "access", InherentLikelihood: 4, InherentImpact: 4,
					Likelihood: 1, Impact: 2, Owner: "secofficer", Treatment: risk.TreatMitigate}),
				status: http.StatusOK, expect: []string{`"likelihood":1`, `"treatment":"mitigate"`}},
			{name: "closing needs a reason", method: "POST", url: "/api/v1/risks/{risk}/status", user: "secofficer",
				body: jsonBody(riskStatusRequest{Status: risk.StatusClosed}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"reason"`}},
			{name: "an unknown status", method: "POST", url: "/api/v1/risks/{risk}/status", user: "secofficer",
				body: jsonBody(riskStatusRequest{Status: "asleep"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"status"`}},
			{name: "under treatment", method: "POST", url: "/api/v1/risks/{risk}/status", user: "secofficer",
				body: jsonBody(riskStatusRequest{Status: risk.StatusTreating}), status: http.StatusOK, expect: []string{`"status":"treating"`}},
			{name: "reviewed", method: "POST", url: "/api/v1/risks/{risk}/review", user: "secofficer",
				body: jsonBody(riskReviewRequest{Note: "MFA rollout half done"}), status: http.StatusOK,
				expect: []string{`"last_reviewed_at":"`}},
			{name: "a task", method: "POST", url: "/api/v1/risks/{risk}/tasks", user: "secofficer",
				body: jsonBody(risk.TaskInput{Title: "Enforce MFA on the VPN", Assignee: "itops"}), status: http.StatusCreated,
				expect: []string{`"title":"Enforce MFA on the VPN"`, `"done_at":null`}, after: save("task")},
			{name: "the task done", method: "POST", url: "/api/v1/risks/{risk}/tasks/{task}/done", user: "secofficer",
				status: http.StatusOK, expect: []string{`"done_by":"secofficer"`}},
			{name: "and not done again", method: "POST", url: "/api/v1/risks/{risk}/tasks/{task}/done", user: "secofficer",
				body: jsonBody(map[string]bool{"done": false}), status: http.StatusOK, expect: []string{`"done_at":null`}},
			{name: "a task of another risk", method: "POST", url: "/api/v1/risks/{risk_b}/tasks/{task}/done", user: "secofficer",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "an acceptance by oneself", method: "POST", url: "/api/v1/risks/{risk}/acceptances", user: "secofficer",
				body:   jsonBody(risk.AcceptanceInput{Approver: "secofficer", Reason: "residual risk low", ExpiresAt: expires}),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"approver"`}},
			{name: "an acceptance drafted", method: "POST", url: "/api/v1/risks/{risk}/acceptances", user: "secofficer",
				body:   jsonBody(risk.AcceptanceInput{Approver: "admin", Reason: "residual risk low", ExpiresAt: expires}),
				status: http.StatusCreated, expect: []string{`"status":"created"`, `"approver":"admin"`}, after: save("acc")},
			{name: "submitted", method: "POST", url: "/api/v1/risks/{risk}/acceptances/{acc}/submit", user: "secofficer",
				status: http.StatusOK, expect: []string{`"status":"submitted"`}},
			{name: "only the approver decides", method: "POST", url: "/api/v1/risks/{risk}/acceptances/{acc}/decide", user: "privacy",
				body: jsonBody(acceptanceDecision{Accept: true}), status: http.StatusForbidden, errCode: "forbidden"},
			{name: "accepted", method: "POST", url: "/api/v1/risks/{risk}/acceptances/{acc}/decide", user: "admin",
				body: jsonBody(acceptanceDecision{Accept: true}), status: http.StatusOK,
				expect: []string{`"status":"accepted"`, `"snapshot_likelihood":1`, `"decided_by":"admin"`}},
			{name: "the risk is accepted", method: "GET", url: "/api/v1/risks/{risk}", user: "auditor", status: http.StatusOK,
				expect: []string{`"status":"accepted"`, `"treatment":"accept"`}},
			{name: "an acceptance of another risk", method: "POST", url: "/api/v1/risks/{risk_b}/acceptances/{acc}/revoke", user: "admin",
				body: jsonBody(revokeRequest{Reason: "x"}), status: http.StatusNotFound, errCode: "not_found"},
			{name: "revoked", method: "POST", url: "/api/v1/risks/{risk}/acceptances/{acc}/revoke", user: "secofficer",
				body: jsonBody(revokeRequest{Reason: "the VPN vendor left"}), status: http.StatusOK, expect: []string{`"status":"revoked"`}},
			{name: "open again", method: "GET", url: "/api/v1/risks/{risk}", user: "auditor", status: http.StatusOK,
				expect: []string{`"status":"open"`}},
			{name: "the heat map", method: "GET", url: "/api/v1/risks/heatmap", user: "auditor", status: http.StatusOK,
				// With the risk of hospital A's deficient data flow (seedDataflows).
				expect: []string{`"rating":"residual"`, `"total":3`, `"risk_ids":[`}, notExpect: leakMarks,
				after: func(t *testing.T, body []byte, _ http.Header) {
					for _, row := range decode[risk.HeatMap](t, body).Cells {
						for _, c := range row {
							if slices.Contains(c.RiskIDs, e.RiskB.ID) {
								t.Errorf("hospital B's risk is on A's heat map: %+v", c)
							}
						}
					}
				}},
			{name: "the region's heat map", method: "GET", url: "/api/v1/risks/heatmap", user: "regulator", status: http.StatusOK,
				expect: []string{`"total":5`}},
			{name: "the inherent heat map", method: "GET", url: "/api/v1/risks/heatmap?rating=inherent&org_id=" + strconv.FormatInt(e.HospA.ID, 10),
				user: "auditor", status: http.StatusOK, expect: []string{`"rating":"inherent"`, `"total":3`}},
			{name: "a bad rating", method: "GET", url: "/api/v1/risks/heatmap?rating=gut", user: "auditor",
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"rating"`}},
		})
	})
}

// TestRiskFromSourceAPI is the round trip of each source the test world holds: a
// supply finding and an alert raise a risk (201, in the caller's language), asking
// again updates it (200), the source's back-link finds it, and another hospital's
// source is not found.
func TestRiskFromSourceAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{}
		for _, src := range []struct {
			module string
			a, b   int64
			lang   string // the language of the caller who raises it
		}{{risk.ModuleFinding, e.FindingA.ID, e.FindingB.ID, "zh-CN"}, {risk.ModuleAlert, e.AlertA.ID, e.AlertB.ID, "en"},
			{risk.ModuleDLPScan, e.DLPScanA.ID, e.DLPScanB.ID, "zh-CN"}, {risk.ModuleCase, e.CaseA.ID, e.CaseB.ID, "en"},
			{risk.ModuleApp, e.AppA.ID, e.AppB.ID, "zh-CN"}} {
			t.Run(src.module, func(t *testing.T) {
				vars["a"], vars["b"] = fmt.Sprint(src.a), fmt.Sprint(src.b)
				body := func(id int64) bodyFunc {
					return jsonBody(risk.SourceInput{Module: src.module, ID: id, Owner: "secofficer"})
				}
				e.runScenarios(t, vars, []apiScenario{
					{name: "no back-link yet", method: "GET", url: "/api/v1/risks/of?module=" + src.module + "&id={a}", user: "auditor",
						status: http.StatusOK, expect: []string{`"total":0`}},
					{name: "the auditor may not raise it", method: "POST", url: "/api/v1/risks/from-source", user: "auditor",
						body: body(src.a), status: http.StatusForbidden, errCode: "permission_denied"},
					{name: "raised in the caller's language", method: "POST", url: "/api/v1/risks/from-source", user: "privacy", body: body(src.a),
						before: func(t *testing.T) {
							if code, b := e.api("PUT", "/api/v1/me/locale", "privacy", localeRequest{Locale: src.lang}); code != http.StatusNoContent {
								t.Fatalf("set locale: %d %s", code, b)
							}
						},
						status: http.StatusCreated, expect: []string{`"created":true`, `"module":"` + src.module + `"`, `"id":` + vars["a"],
							`"hospital":"Hospital A"`, `"owner":"secofficer"`},
						notExpect: leakMarks,
						after: func(t *testing.T, b []byte, h http.Header) {
							r := decode[riskFromSource](t, b)
							vars["risk"] = fmt.Sprint(r.ID)
							if h.Get("Location") != "/api/v1/risks/"+vars["risk"] {
								t.Errorf("Location %q", h.Get("Location"))
							}
							if hasHan(r.Title) != (src.lang == "zh-CN") {
								t.Errorf("the risk of a %s caller is titled %q", src.lang, r.Title)
							}
						}},
					{name: "asked again: updated", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer", body: body(src.a),
						status: http.StatusOK, expect: []string{`"created":false`}, after: func(t *testing.T, b []byte, _ http.Header) {
							if got := fmt.Sprint(decode[riskFromSource](t, b).ID); got != vars["risk"] {
								t.Errorf("updated risk %s, raised %s", got, vars["risk"])
							}
						}},
					{name: "the back-link", method: "GET", url: "/api/v1/risks/of?module=" + src.module + "&id={a}", user: "regulator",
						status: http.StatusOK, expect: []string{`"total":1`}, after: func(t *testing.T, b []byte, _ http.Header) {
							if l := decode[listResponse[risk.Risk]](t, b); len(l.Items) != 1 || fmt.Sprint(l.Items[0].ID) != vars["risk"] {
								t.Errorf("back-link %+v, want risk %s", l.Items, vars["risk"])
							}
						}},
					{name: "the risk names its source", method: "GET", url: "/api/v1/risks/{risk}", user: "auditor", status: http.StatusOK,
						expect: []string{`"sources":[{"module":"` + src.module + `","id":` + vars["a"] + `}]`}},
					{name: "another hospital's source", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer", body: body(src.b),
						status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},
					{name: "nor its back-link", method: "GET", url: "/api/v1/risks/of?module=" + src.module + "&id={b}", user: "secofficer",
						status: http.StatusOK, expect: []string{`"total":0`}},
					{name: "hospital B raises its own", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer_b", body: body(src.b),
						status: http.StatusCreated, expect: []string{`"hospital":"Hospital B"`}},
					{name: "which A's back-link does not show", method: "GET", url: "/api/v1/risks/of?module=" + src.module + "&id={a}",
						user: "secofficer", status: http.StatusOK, expect: []string{`"total":1`}, notExpect: []string{"Hospital B"}},
				})
			})
		}
		e.runScenarios(t, vars, []apiScenario{
			{name: "no module", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer",
				body: jsonBody(risk.SourceInput{ID: 1}), status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"module"`}},
			{name: "an unknown module", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer",
				body: jsonBody(risk.SourceInput{Module: "rumour", ID: 1}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"module"`}},
			{name: "no id", method: "POST", url: "/api/v1/risks/from-source", user: "secofficer",
				body: jsonBody(risk.SourceInput{Module: risk.ModuleFinding}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"id"`}},
			{name: "a back-link without module", method: "GET", url: "/api/v1/risks/of?id=1", user: "auditor",
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"module"`}},
			{name: "a back-link with a bad id", method: "GET", url: "/api/v1/risks/of?module=alert&id=x", user: "auditor",
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"id"`}},
		})
	})
}

// hasHan reports whether s holds a Chinese character.
func hasHan(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff })
}
