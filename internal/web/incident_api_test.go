package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestIncidentAPI is an incident over HTTP: the list and the form's reference data, bad
// input refused with its field, an incident opened under an emergency plan with its
// checklist ticked, the timeline, level and status, a report that stops the clock,
// evidence uploaded (a disguised or active file refused) and downloaded as an
// attachment, the review and its follow-up task.
func TestIncidentAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{"plan": fmt.Sprint(e.PlanA.ID), "plan_b": fmt.Sprint(e.PlanB.ID),
			"run_b": fmt.Sprint(e.ChecklistB.ID), "item_b": fmt.Sprint(e.ChecklistB.Items[0].ID)}
		save := func(key string) func(t *testing.T, body []byte, _ http.Header) {
			return func(t *testing.T, body []byte, _ http.Header) {
				vars[key] = fmt.Sprint(decode[struct {
					ID int64 `json:"id"`
				}](t, body).ID)
			}
		}
		evidence := "14:02 ransom note found on the HIS file share\n14:10 share isolated\n"
		open := incidentOpenRequest{Input: incident.Input{Details: incident.Details{Title: "Ransom note on the HIS share",
			Category: "malware", AssetIDs: []int64{e.AssetA.ID}, PatientsAffected: 1200, DataInvolved: []string{"诊疗数据"}},
			Level: incident.LevelLarge}}
		withPlan := open
		withPlan.PlanID = e.PlanA.ID
		badCategory := open
		badCategory.Category = "gremlins"
		badLevel := open
		badLevel.Level = "catastrophic"
		foreignPlan := open
		foreignPlan.PlanID = e.PlanB.ID
		e.runScenarios(t, vars, []apiScenario{
			{name: "the incidents", method: "GET", url: "/api/v1/incidents", user: "auditor", status: http.StatusOK,
				expect: []string{"Encrypted shares on HIS A", `"total":1`, `"report_due"`}, notExpect: leakMarks},
			{name: "the app operator does not read incidents", method: "GET", url: "/api/v1/incidents", user: "appops",
				status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "the auditor does not open incidents", method: "POST", url: "/api/v1/incidents", user: "auditor",
				body: jsonBody(open), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "what a form needs", method: "GET", url: "/api/v1/incidents/categories", user: "regulator", status: http.StatusOK,
				expect: []string{`"id":"data_security"`, "特别重大", `"operator_types":["cii","state_organ","other"]`,
					`"regime":"cn","operator_type":"cii","level":"large","report_minutes":60`,
					`"regime":"cn","operator_type":"other","level":"large","report_minutes":240`}},
			{name: "an unknown category", method: "POST", url: "/api/v1/incidents", user: "secofficer", body: jsonBody(badCategory),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"category"`}},
			{name: "an unknown level", method: "POST", url: "/api/v1/incidents", user: "secofficer", body: jsonBody(badLevel),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"level"`}},
			{name: "another hospital's plan", method: "POST", url: "/api/v1/incidents", user: "secofficer", body: jsonBody(foreignPlan),
				status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},
			{name: "nothing was opened", method: "GET", url: "/api/v1/incidents", user: "auditor", status: http.StatusOK,
				expect: []string{`"total":1`}},
			{name: "opened under the plan", method: "POST", url: "/api/v1/incidents", user: "itops", body: jsonBody(withPlan),
				status: http.StatusCreated, expect: []string{`"status":"open"`, `"level":"large"`, `"report_due":"`, `"patients_affected":1200`,
					`"checklist":{`, `"plan_id":` + vars["plan"]},
				after: func(t *testing.T, body []byte, h http.Header) {
					o := decode[openedIncident](t, body)
					vars["inc"], vars["run"] = fmt.Sprint(o.ID), fmt.Sprint(o.Checklist.ID)
					if len(o.Checklist.Items) < 2 || o.Checklist.Done != 0 {
						t.Fatalf("checklist %+v", o.Checklist)
					}
					vars["item"], vars["item2"] = fmt.Sprint(o.Checklist.Items[0].ID), fmt.Sprint(o.Checklist.Items[1].ID)
					if h.Get("Location") != "/api/v1/incidents/"+vars["inc"] {
						t.Errorf("Location %q", h.Get("Location"))
					}
				}},
			{name: "its checklist", method: "GET", url: "/api/v1/incidents/{inc}/checklists", user: "regulator", status: http.StatusOK,
				expect: []string{`"total":1`, `"done":0`}},
			{name: "the auditor does not tick", method: "POST", url: "/api/v1/checklists/{run}/items/{item}", user: "auditor",
				body: jsonBody(tickRequest{Done: true}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "a tick that is no boolean", method: "POST", url: "/api/v1/checklists/{run}/items/{item}", user: "itops",
				body: rawBody(`{"done":"yes"}`, "application/json"), status: http.StatusBadRequest, errCode: "bad_json"},
			{name: "ticked", method: "POST", url: "/api/v1/checklists/{run}/items/{item}", user: "itops",
				body: jsonBody(tickRequest{Done: true, Note: "hosts isolated by the network team"}), status: http.StatusOK,
				expect: []string{`"done":true`, `"done_by":"itops"`, `"note":"hosts isolated by the network team"`, `"done":1`}},
			{name: "an item of another checklist", method: "POST", url: "/api/v1/checklists/{run}/items/{item_b}", user: "itops",
				body: jsonBody(tickRequest{Done: true}), status: http.StatusNotFound, errCode: "not_found"},
			{name: "another hospital's checklist", method: "POST", url: "/api/v1/checklists/{run_b}/items/{item_b}", user: "secofficer",
				body: jsonBody(tickRequest{Done: true}), status: http.StatusNotFound, errCode: "not_found", notExpect: leakMarks},
			{name: "the plan runs once per incident", method: "POST", url: "/api/v1/incidents/{inc}/checklists", user: "secofficer",
				body: jsonBody(checklistStartRequest{PlanID: e.PlanA.ID}), status: http.StatusConflict, errCode: "conflict"},
			{name: "a checklist needs a plan", method: "POST", url: "/api/v1/incidents/{inc}/checklists", user: "secofficer",
				body: jsonBody(checklistStartRequest{}), status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"plan_id"`}},
			{name: "nor another hospital's plan", method: "POST", url: "/api/v1/incidents/{inc}/checklists", user: "secofficer",
				body: jsonBody(checklistStartRequest{PlanID: e.PlanB.ID}), status: http.StatusNotFound, errCode: "not_found"},
			{name: "a note", method: "POST", url: "/api/v1/incidents/{inc}/notes", user: "privacy",
				body: jsonBody(incidentNoteRequest{Note: "called the vendor's hotline"}), status: http.StatusCreated,
				expect: []string{`"kind":"note"`, `"by":"privacy"`}},
			{name: "an unknown level", method: "POST", url: "/api/v1/incidents/{inc}/level", user: "secofficer",
				body: jsonBody(incidentLevelRequest{Level: "apocalyptic", Reason: "x"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"level"`}},
			{name: "raised to major", method: "POST", url: "/api/v1/incidents/{inc}/level", user: "secofficer",
				body: jsonBody(incidentLevelRequest{Level: incident.LevelMajor, Reason: "the backups are encrypted too"}), status: http.StatusOK,
				expect: []string{`"level":"major"`}},
			{name: "not closed while the clock runs", method: "POST", url: "/api/v1/incidents/{inc}/status", user: "secofficer",
				body: jsonBody(incidentStatusRequest{Status: incident.StatusClosed}), status: http.StatusConflict, errCode: "conflict"},
			{name: "contained", method: "POST", url: "/api/v1/incidents/{inc}/status", user: "secofficer",
				body: jsonBody(incidentStatusRequest{Status: incident.StatusContained, Note: "share offline"}), status: http.StatusOK,
				expect: []string{`"status":"contained"`}},
			{name: "reported", method: "POST", url: "/api/v1/incidents/{inc}/reports", user: "secofficer",
				body:   jsonBody(incident.ReportInput{To: "公安机关网安部门", Reference: "GA-2026-001", Text: "initial report"}),
				status: http.StatusCreated, expect: []string{`"stage":"report"`, `"reference":"GA-2026-001"`}},
			{name: "the report clock stopped", method: "GET", url: "/api/v1/incidents/{inc}", user: "auditor", status: http.StatusOK,
				expect: []string{`"reported_at":"`, `"pass_on_due":"`}},
			{name: "evidence", method: "POST", url: "/api/v1/incidents/{inc}/attachments?name=timeline.txt", user: "itops",
				body: rawBody(evidence, "text/plain"), status: http.StatusCreated,
				expect: []string{`"name":"timeline.txt"`, `"kind":"text"`, `"sha256":"`}, after: save("att")},
			{name: "active content", method: "POST", url: "/api/v1/incidents/{inc}/attachments?name=note.html", user: "itops",
				body: rawBody("<html><script>alert(1)</script></html>", "text/html"), status: http.StatusBadRequest, errCode: "invalid",
				notExpect: []string{"<script>"}},
			{name: "a disguised file", method: "POST", url: "/api/v1/incidents/{inc}/attachments?name=screen.png", user: "itops",
				body: rawBody(evidence, "image/png"), status: http.StatusBadRequest, errCode: "invalid"},
			{name: "an empty upload", method: "POST", url: "/api/v1/incidents/{inc}/attachments?name=x.txt", user: "itops",
				body: rawBody("", "text/plain"), status: http.StatusBadRequest, errCode: "attachment_required"},
			{name: "downloaded as an attachment", method: "GET", url: "/api/v1/incidents/{inc}/attachments/{att}", user: "regulator",
				status: http.StatusOK, after: func(t *testing.T, body []byte, h http.Header) {
					if string(body) != evidence {
						t.Errorf("content %q", body)
					}
					if cd := h.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "timeline.txt") {
						t.Errorf("Content-Disposition %q", cd)
					}
					if h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
						t.Errorf("headers %v", h)
					}
				}},
			{name: "an attachment of another incident", method: "GET", url: "/api/v1/incidents/" + fmt.Sprint(e.IncidentA.ID) + "/attachments/{att}",
				user: "regulator", status: http.StatusNotFound, errCode: "not_found"},
			{name: "a review needs its root cause", method: "PUT", url: "/api/v1/incidents/{inc}/review", user: "secofficer",
				body: jsonBody(incident.ReviewInput{Lessons: "x"}), status: http.StatusBadRequest, errCode: "invalid",
				expect: []string{`"field":"root_cause"`}},
			{name: "reviewed", method: "PUT", url: "/api/v1/incidents/{inc}/review", user: "secofficer",
				body:   jsonBody(incident.ReviewInput{RootCause: "an unpatched VPN appliance", Lessons: "patch within 72 hours"}),
				status: http.StatusOK, expect: []string{`"reviewed_by":"secofficer"`}},
			{name: "a follow-up task", method: "POST", url: "/api/v1/incidents/{inc}/tasks", user: "secofficer",
				body: jsonBody(incident.TaskInput{Title: "Patch the VPN appliances", Assignee: "itops"}), status: http.StatusCreated,
				expect: []string{`"done":false`}, after: save("task")},
			{name: "the task done", method: "POST", url: "/api/v1/incidents/{inc}/tasks/{task}/done", user: "itops",
				status: http.StatusOK, expect: []string{`"done":true`}},
			{name: "an edit", method: "PUT", url: "/api/v1/incidents/{inc}", user: "secofficer",
				body:   jsonBody(incident.Details{Title: "Ransomware on the HIS share", Category: "malware", PatientsAffected: 1300}),
				status: http.StatusOK, expect: []string{`"title":"Ransomware on the HIS share"`, `"patients_affected":1300`}},
			{name: "the timeline", method: "GET", url: "/api/v1/incidents/{inc}", user: "auditor", status: http.StatusOK,
				expect: []string{`"kind":"created"`, `"kind":"note"`, `"kind":"level"`, `"kind":"report"`, `"kind":"evidence"`,
					`"kind":"review"`, `"attachments":[`, `"tasks":[`}},
			{name: "filter by level", method: "GET", url: "/api/v1/incidents?level=major", user: "auditor", status: http.StatusOK,
				expect: []string{`"total":1`, "Ransomware on the HIS share"}},
			{name: "a bad filter", method: "GET", url: "/api/v1/incidents?overdue=perhaps", user: "auditor",
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"overdue"`}},
		})
	})
}

// TestGovernanceOtherHospital sends hospital B's security officer, with A's objects, to
// every route of the risks, incidents, checklists, plans and drills that names one —
// second path parameters (task, acceptance, attachment, item) being A's real ones: each
// answers 404 and leaks nothing of A, and A's objects are unchanged.
func TestGovernanceOtherHospital(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		ctx := context.Background()
		sys := actor.System()
		acc, err := e.Risks.CreateAcceptance(ctx, sys, e.RiskA.ID, risk.AcceptanceInput{Approver: "admin", Reason: "low",
			ExpiresAt: time.Now().Add(30 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		att, err := e.Incidents.AddAttachment(ctx, sys, e.IncidentA.ID, "log.txt", strings.NewReader("A's evidence\n"))
		if err != nil {
			t.Fatal(err)
		}
		incTask, err := e.Incidents.AddTask(ctx, sys, e.IncidentA.ID, incident.TaskInput{Title: "A's task"})
		if err != nil {
			t.Fatal(err)
		}
		if len(e.RiskA.Tasks) == 0 || len(e.ChecklistA.Items) == 0 || len(e.DrillA.Tasks) == 0 {
			t.Fatalf("the seeded objects lack tasks or items")
		}
		ids := map[string]int64{"/api/v1/risks/": e.RiskA.ID, "/api/v1/incidents/": e.IncidentA.ID, "/api/v1/plans/": e.PlanA.ID,
			"/api/v1/drills/": e.DrillA.ID, "/api/v1/checklists/": e.ChecklistA.ID}
		second := map[string]int64{"{acceptance}": acc.ID, "{attachment}": att.ID, "{item}": e.ChecklistA.Items[0].ID}
		n := 0
		for _, r := range e.srv.Routes() {
			prefix, _, ok := strings.Cut(r.Pattern, "{id}")
			id, mine := ids[prefix]
			if !ok || !mine {
				continue
			}
			n++
			path := strings.Replace(r.Pattern, "{id}", strconv.FormatInt(id, 10), 1)
			for k, v := range second {
				path = strings.Replace(path, k, strconv.FormatInt(v, 10), 1)
			}
			switch prefix {
			case "/api/v1/risks/":
				path = strings.Replace(path, "{task}", strconv.FormatInt(e.RiskA.Tasks[0].ID, 10), 1)
			case "/api/v1/incidents/":
				path = strings.Replace(path, "{task}", strconv.FormatInt(incTask.ID, 10), 1)
			case "/api/v1/drills/":
				path = strings.Replace(path, "{task}", strconv.FormatInt(e.DrillA.Tasks[0].ID, 10), 1)
			}
			var body any
			if r.Method == "POST" || r.Method == "PUT" {
				body = `{}`
				if strings.HasSuffix(path, "/attachments") {
					body = "B's evidence\n"
				}
			}
			code, out := e.api(r.Method, path, "secofficer_b", body)
			if code != http.StatusNotFound {
				t.Errorf("%s %s as hospital B: %d, want 404: %s", r.Method, path, code, out)
			}
			for _, leak := range []string{"HIS A", "Hospital A", "A's evidence", "A's task"} {
				if strings.Contains(string(out), leak) {
					t.Errorf("%s %s: leaks %q", r.Method, path, leak)
				}
			}
		}
		if n != 33 { // 11 of risks, 13 of incidents, 1 of checklists, 5 of plans, 3 of drills
			t.Fatalf("%d routes checked, want 33", n)
		}
		// A's objects are as they were.
		if rk, err := e.Risks.Risk(ctx, sys, e.RiskA.ID); err != nil || rk.Status != risk.StatusOpen || rk.Tasks[0].DoneAt != nil ||
			rk.Acceptances[0].Status != risk.AcceptCreated || rk.LastReviewedAt != nil {
			t.Errorf("A's risk changed: %+v %v", rk, err)
		}
		if inc, err := e.Incidents.Incident(ctx, sys, e.IncidentA.ID); err != nil || inc.Status != incident.StatusOpen ||
			inc.Level != incident.LevelGeneral || len(inc.Attachments) != 1 || inc.Review != nil || inc.Tasks[0].Done {
			t.Errorf("A's incident changed: %+v %v", inc, err)
		}
		if runs, err := e.Plans.ChecklistOf(ctx, sys, e.IncidentA.ID); err != nil || len(runs) != 1 || runs[0].Done != 0 {
			t.Errorf("A's checklist changed: %+v %v", runs, err)
		}
		if d, err := e.Plans.Drill(ctx, sys, e.DrillA.ID); err != nil || d.OpenTasks != 1 || len(d.Tasks) != 1 {
			t.Errorf("A's drill changed: %+v %v", d, err)
		}
		if p, err := e.Plans.Plan(ctx, sys, e.PlanA.ID); err != nil || p.Version != e.PlanA.Version || p.Status != e.PlanA.Status {
			t.Errorf("A's plan changed: %+v %v", p, err)
		}
		// And the reverse: hospital A's officer on B's incident evidence.
		code, _ := e.api("GET", "/api/v1/incidents/"+strconv.FormatInt(e.IncidentB.ID, 10)+"/checklists", "secofficer", nil)
		if code != http.StatusNotFound {
			t.Errorf("A reads B's checklists: %d", code)
		}
	})
}

// TestPlanAPI is an emergency plan over HTTP: the templates, a template adopted (once),
// approved in the version read, edited into a new draft version with the approved one
// kept, a drill recorded with its improvement tasks tracked to closure.
func TestPlanAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		var tmpl string
		for _, tp := range e.Plans.Templates() {
			if tp.ID != e.PlanA.TemplateID {
				tmpl = tp.ID
				break
			}
		}
		vars := map[string]string{"drill_a_task": fmt.Sprint(e.DrillA.Tasks[0].ID)}
		var plan planDetail
		edited := func(version int) bodyFunc {
			return func(t *testing.T) (io.Reader, string) {
				c := plan.Content
				c.Summary.EN = "Adapted to Hospital A's HIS"
				return jsonBody(incident.PlanUpdate{Version: version, Content: c})(t)
			}
		}
		held := time.Now().AddDate(0, 0, -7).UTC()
		started := held.Add(9 * time.Hour)
		detected := started.Add(20 * time.Minute)
		drill := incident.DrillInput{HeldOn: held, Kind: incident.DrillFunctional, Scenario: "HIS down at night",
			Participants: []string{"itops", "Dr Wang (on call)"}, StartedAt: &started, DetectedAt: &detected,
			Findings: "the on-call list was out of date", Tasks: []incident.DrillTaskInput{{Title: "Update the on-call list",
				Assignee: "itops", Due: time.Now().AddDate(0, 0, 14)}}}
		noPeople := drill
		noPeople.Participants = nil
		e.runScenarios(t, vars, []apiScenario{
			{name: "the templates", method: "GET", url: "/api/v1/plans/templates", user: "auditor", status: http.StatusOK,
				expect: []string{`"total":6`, `"id":"ransomware"`, `"checklist":[`}},
			{name: "the plans", method: "GET", url: "/api/v1/plans", user: "auditor", status: http.StatusOK,
				expect: []string{`"total":1`, `"org":"Hospital A"`}, notExpect: append([]string{"Hospital B"}, leakMarks...)},
			{name: "the region's plans", method: "GET", url: "/api/v1/plans", user: "regulator", status: http.StatusOK,
				expect: []string{`"total":2`}},
			{name: "the auditor does not adopt", method: "POST", url: "/api/v1/plans", user: "auditor",
				body: jsonBody(adoptRequest{TemplateID: tmpl}), status: http.StatusForbidden, errCode: "permission_denied"},
			{name: "no template", method: "POST", url: "/api/v1/plans", user: "secofficer",
				body: jsonBody(adoptRequest{}), status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"template_id"`}},
			{name: "adopted", method: "POST", url: "/api/v1/plans", user: "secofficer", body: jsonBody(adoptRequest{TemplateID: tmpl}),
				status: http.StatusCreated, expect: []string{`"status":"draft"`, `"version":1`, `"org":"Hospital A"`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					vars["plan"] = fmt.Sprint(decode[incident.Plan](t, body).ID)
				}},
			{name: "once", method: "POST", url: "/api/v1/plans", user: "secofficer", body: jsonBody(adoptRequest{TemplateID: tmpl}),
				status: http.StatusConflict, errCode: "conflict"},
			{name: "the plan", method: "GET", url: "/api/v1/plans/{plan}", user: "regulator", status: http.StatusOK,
				expect: []string{`"versions":[]`, `"roles":[`},
				after:  func(t *testing.T, body []byte, _ http.Header) { plan = decode[planDetail](t, body) }},
			{name: "an approval names the version", method: "POST", url: "/api/v1/plans/{plan}/approve", user: "secofficer",
				body: jsonBody(approveRequest{}), status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"version"`}},
			{name: "of another version", method: "POST", url: "/api/v1/plans/{plan}/approve", user: "secofficer",
				body: jsonBody(approveRequest{Version: 7}), status: http.StatusConflict, errCode: "conflict"},
			{name: "approved", method: "POST", url: "/api/v1/plans/{plan}/approve", user: "secofficer",
				body: jsonBody(approveRequest{Version: 1}), status: http.StatusOK,
				expect: []string{`"status":"approved"`, `"approved_by":"secofficer"`, `"review_due":"`}},
			{name: "edited", method: "PUT", url: "/api/v1/plans/{plan}", user: "itops", body: edited(1), status: http.StatusOK,
				expect: []string{`"version":2`, `"status":"draft"`, "Adapted to Hospital A's HIS"}},
			{name: "an edit of an old version", method: "PUT", url: "/api/v1/plans/{plan}", user: "itops", body: edited(1),
				status: http.StatusConflict, errCode: "conflict"},
			{name: "the approved version is kept", method: "GET", url: "/api/v1/plans/{plan}", user: "auditor", status: http.StatusOK,
				expect: []string{`"versions":[{"version":1`}},
			{name: "a drill needs participants", method: "POST", url: "/api/v1/plans/{plan}/drills", user: "itops", body: jsonBody(noPeople),
				status: http.StatusBadRequest, errCode: "invalid", expect: []string{`"field":"participants"`}},
			{name: "a drill", method: "POST", url: "/api/v1/plans/{plan}/drills", user: "itops", body: jsonBody(drill),
				status: http.StatusCreated, expect: []string{`"kind":"functional"`, `"detect_seconds":1200`, `"open_tasks":1`},
				after: func(t *testing.T, body []byte, _ http.Header) {
					d := decode[incident.Drill](t, body)
					vars["drill"], vars["task"] = fmt.Sprint(d.ID), fmt.Sprint(d.Tasks[0].ID)
				}},
			{name: "the plan's drills", method: "GET", url: "/api/v1/plans/{plan}/drills", user: "auditor", status: http.StatusOK,
				expect: []string{`"total":1`, "HIS down at night"}, notExpect: []string{"Tabletop on HIS A"}},
			{name: "the drill", method: "GET", url: "/api/v1/drills/{drill}", user: "regulator", status: http.StatusOK,
				expect: []string{"the on-call list was out of date"}},
			{name: "another task", method: "POST", url: "/api/v1/drills/{drill}/tasks", user: "privacy",
				body:   jsonBody(incident.DrillTaskInput{Title: "Print the contact sheet", Assignee: "privacy", Due: time.Now().AddDate(0, 1, 0)}),
				status: http.StatusCreated, expect: []string{`"open_tasks":2`}},
			{name: "a task of another drill", method: "POST", url: "/api/v1/drills/{drill}/tasks/{drill_a_task}/done", user: "itops",
				status: http.StatusNotFound, errCode: "not_found"},
			{name: "a task closed", method: "POST", url: "/api/v1/drills/{drill}/tasks/{task}/done", user: "itops",
				status: http.StatusOK, expect: []string{`"open_tasks":1`, `"done_by":"itops"`}},
			{name: "and opened again", method: "POST", url: "/api/v1/drills/{drill}/tasks/{task}/done", user: "itops",
				body: jsonBody(map[string]bool{"done": false}), status: http.StatusOK, expect: []string{`"open_tasks":2`}},
			{name: "the auditor does not close tasks", method: "POST", url: "/api/v1/drills/{drill}/tasks/{task}/done", user: "auditor",
				status: http.StatusForbidden, errCode: "permission_denied"},
		})
	})
}
