package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// TestGovernancePages walks the pages of the risk register, the incidents and the plans
// as their users do: the register and its cell, a risk from an alert and from a finding
// (again: the same risk), a review, a close without a reason refused at its field; an
// incident opened without a title (the form answers at the field, keeping what was
// typed), then opened; a report without an authority refused, then recorded (the clock
// stops); a checklist item of another incident's run not found; a plan adopted twice
// refused; the auditor reads but is offered no action.
func TestGovernancePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		vars := map[string]string{
			"risk": strconv.FormatInt(e.RiskA.ID, 10), "inc": strconv.FormatInt(e.IncidentA.ID, 10), "plan": strconv.FormatInt(e.PlanA.ID, 10),
			"runB": strconv.FormatInt(e.ChecklistB.ID, 10), "itemB": strconv.FormatInt(e.ChecklistB.Items[0].ID, 10),
			"alert": strconv.FormatInt(e.AlertA.ID, 10), "finding": strconv.FormatInt(e.FindingA.ID, 10), "vuln": e.FindingA.VulnID,
			"org": strconv.FormatInt(e.HospA.ID, 10), "app": strconv.FormatInt(e.AppA.ID, 10), "case": strconv.FormatInt(e.CaseA.ID, 10),
			"scan": strconv.FormatInt(e.DLPScanA.ID, 10), "riskA": e.RiskA.Title, "riskB": e.RiskB.Title,
			"cell": strconv.Itoa(e.RiskA.Likelihood) + "-" + strconv.Itoa(e.RiskA.Impact),
		}
		v := func(k string) string { return vars[k] }
		e.runPages(t, vars, []pageScenario{
			{name: "the register", user: "secofficer", method: "GET", path: "/risks", status: http.StatusOK,
				expect: []string{`id="heatmap"`, `id="cell-{cell}"`, "{riskA}"}, notExpect: []string{"{riskB}"}},
			{name: "a cell", user: "secofficer", method: "GET", path: "/risks?cell={cell}", status: http.StatusOK,
				expect: []string{"{riskA}"}},
			{name: "an empty cell", user: "secofficer", method: "GET", path: "/risks?cell=1-1", status: http.StatusOK,
				expect: []string{`id="risk-empty"`}, notExpect: []string{"{riskA}"}},
			{name: "not a cell", user: "secofficer", method: "GET", path: "/risks?cell=9-9", status: http.StatusBadRequest,
				expect: []string{`role="alert"`}},
			{name: "the form of a risk", user: "secofficer", method: "GET", path: "/risks/new", status: http.StatusOK,
				expect: []string{`id="risk-form"`, `name="likelihood"`}},
			{name: "a risk without a title", user: "secofficer", method: "POST", path: "/risks",
				form:   url.Values{"org_id": {v("org")}, "category": {"availability"}, "likelihood": {"3"}, "impact": {"5"}, "description": {"kept"}},
				status: http.StatusBadRequest, expect: []string{`id="err-title"`, "kept"}},
			{name: "a risk written by hand", user: "secofficer", method: "POST", path: "/risks",
				form:   url.Values{"org_id": {v("org")}, "title": {"Backup not tested"}, "category": {"availability"}, "likelihood": {"3"}, "impact": {"5"}},
				status: http.StatusSeeOther, location: "/risks/"},
			{name: "a risk from the finding", user: "secofficer", method: "POST", path: "/risks/from-source",
				form: url.Values{"module": {"finding"}, "id": {v("finding")}}, status: http.StatusSeeOther, location: "/risks/"},
			{name: "the finding links to it", user: "secofficer", method: "GET", path: "/supply/findings/{finding}", status: http.StatusOK,
				expect: []string{`class="risk-backlink"`, "{vuln}"}},
			{name: "again: the same risk, updated", user: "secofficer", method: "POST", path: "/risks/from-source",
				form: url.Values{"module": {"finding"}, "id": {v("finding")}}, status: http.StatusSeeOther, location: "/risks/"},
			{name: "the app, the case and the scan offer a risk", user: "secofficer", method: "GET", path: "/apps/{app}", status: http.StatusOK,
				expect: []string{`id="risk-from-source"`, `name="module" value="app"`}},
			{name: "the case", user: "secofficer", method: "GET", path: "/cases/{case}", status: http.StatusOK,
				expect: []string{`name="module" value="case"`}},
			{name: "the scan", user: "secofficer", method: "GET", path: "/dlp/scans/{scan}", status: http.StatusOK,
				expect: []string{`name="module" value="dlp_scan"`}},
			{name: "not to the auditor", user: "auditor", method: "GET", path: "/apps/{app}", status: http.StatusOK,
				notExpect: []string{`id="risk-from-source"`}},
			{name: "a risk from the alert", user: "secofficer", method: "POST", path: "/risks/from-source",
				form: url.Values{"module": {"alert"}, "id": {v("alert")}}, status: http.StatusSeeOther},
			{name: "from an unknown module", user: "secofficer", method: "POST", path: "/risks/from-source",
				form: url.Values{"module": {"weather"}, "id": {"1"}}, status: http.StatusBadRequest},
			{name: "the risk's form", user: "secofficer", method: "GET", path: "/risks/{risk}/edit", status: http.StatusOK,
				expect: []string{`action="/risks/{risk}"`, `name="residual_likelihood"`, "{riskA}"}},
			{name: "treated: the residual rating lowered", user: "secofficer", method: "POST", path: "/risks/{risk}",
				form: url.Values{"title": {"Ransomware, treated"}, "category": {"ransomware"}, "likelihood": {"3"}, "impact": {"4"},
					"residual_likelihood": {"1"}, "residual_impact": {"4"}, "treatment": {"mitigate"}},
				status: http.StatusSeeOther, location: "/risks/{risk}?flash=flash.risk.updated"},
			{name: "an empty title refused", user: "secofficer", method: "POST", path: "/risks/{risk}",
				form:   url.Values{"category": {"ransomware"}, "likelihood": {"3"}, "impact": {"4"}, "residual_likelihood": {"1"}, "residual_impact": {"4"}},
				status: http.StatusBadRequest, expect: []string{`id="err-title"`}},
			{name: "the treated risk", user: "auditor", method: "GET", path: "/risks/{risk}", status: http.StatusOK,
				expect: []string{"Ransomware, treated", "1 · "}, notExpect: []string{`id="risk-edit"`}},
			{name: "a review", user: "secofficer", method: "POST", path: "/risks/{risk}/review",
				form: url.Values{"note": {"controls checked"}}, status: http.StatusSeeOther, location: "/risks/{risk}?flash=flash.risk.reviewed"},
			{name: "closing needs a reason", user: "secofficer", method: "POST", path: "/risks/{risk}/status",
				form: url.Values{"status": {"closed"}}, status: http.StatusBadRequest, expect: []string{`id="err-reason"`}},
			{name: "the auditor reads, is offered no action", user: "auditor", method: "GET", path: "/risks/{risk}", status: http.StatusOK,
				expect: []string{"{riskA}"}, notExpect: []string{`id="risk-actions"`, `id="risk-task-done-`}},
			{name: "an incident without a title", user: "secofficer", method: "POST", path: "/incidents",
				form:   url.Values{"org_id": {v("org")}, "category": {"malware"}, "level": {"large"}, "description": {"kept as typed"}},
				status: http.StatusBadRequest, expect: []string{`id="err-title"`, "kept as typed"}},
			{name: "an incident under the plan", user: "secofficer", method: "POST", path: "/incidents",
				form:   url.Values{"org_id": {v("org")}, "plan_id": {v("plan")}, "title": {"HIS down"}, "category": {"equipment_failure"}, "level": {"large"}},
				status: http.StatusSeeOther, location: "/incidents/"},
			{name: "the alert offers an incident", user: "secofficer", method: "GET", path: "/alerts/{alert}", status: http.StatusOK,
				expect: []string{`id="incident-from-source"`, "source=alert&amp;source_id={alert}"}},
			{name: "the form carries the alert", user: "secofficer", method: "GET", path: "/incidents/new?source=alert&source_id={alert}", status: http.StatusOK,
				expect: []string{`name="source_module" value="alert"`, `name="source_id" value="{alert}"`}},
			{name: "an incident from the alert", user: "secofficer", method: "POST", path: "/incidents",
				form: url.Values{"org_id": {v("org")}, "source_module": {"alert"}, "source_id": {v("alert")}, "title": {"Vulnerable component exploited"},
					"category": {"network_attack"}, "level": {"general"}}, status: http.StatusSeeOther, location: "/incidents/"},
			{name: "the alert links to it", user: "secofficer", method: "GET", path: "/alerts/{alert}", status: http.StatusOK,
				expect: []string{`class="incident-backlink"`, "Vulnerable component exploited"}},
			{name: "a report needs its authority", user: "secofficer", method: "POST", path: "/incidents/{inc}/reports",
				form: url.Values{"to": {""}}, status: http.StatusBadRequest, expect: []string{`id="err-to"`}},
			{name: "the report", user: "secofficer", method: "POST", path: "/incidents/{inc}/reports",
				form: url.Values{"to": {"公安机关网安部门"}, "reference": {"GA-2026-01"}}, status: http.StatusSeeOther},
			{name: "the clock stopped", user: "secofficer", method: "GET", path: "/incidents/{inc}", status: http.StatusOK,
				expect: []string{"公安机关网安部门", "GA-2026-01"}, notExpect: []string{`id="incident-clock"`}},
			{name: "a review needs its root cause", user: "secofficer", method: "POST", path: "/incidents/{inc}/review",
				form: url.Values{"lessons": {"kept"}}, status: http.StatusBadRequest, expect: []string{`id="err-root_cause"`}},
			{name: "the review", user: "secofficer", method: "POST", path: "/incidents/{inc}/review",
				form: url.Values{"root_cause": {"an unpatched VPN appliance"}, "lessons": {"patch within 7 days"}}, status: http.StatusSeeOther},
			{name: "a follow-up task", user: "secofficer", method: "POST", path: "/incidents/{inc}/tasks",
				form: url.Values{"title": {"Replace the VPN appliance"}, "assignee": {"itops"}, "due": {"2027-02-01"}}, status: http.StatusSeeOther},
			{name: "the review on the page", user: "auditor", method: "GET", path: "/incidents/{inc}", status: http.StatusOK,
				expect: []string{"an unpatched VPN appliance", "Replace the VPN appliance"}, notExpect: []string{`id="incident-review-form"`}},
			{name: "another incident's checklist item", user: "secofficer", method: "POST", path: "/incidents/{inc}/checklists/{runB}/items/{itemB}",
				form: url.Values{"done": {"true"}}, status: http.StatusNotFound},
			{name: "a drill without its time", user: "itops", method: "POST", path: "/plans/{plan}/drills",
				form: url.Values{"kind": {"tabletop"}, "scenario": {"PACS encrypted"}}, status: http.StatusBadRequest, expect: []string{`id="err-held_on"`}},
			{name: "a drill with a bad timing", user: "itops", method: "POST", path: "/plans/{plan}/drills",
				form:   url.Values{"held_on": {"2026-11-20T14:00"}, "kind": {"tabletop"}, "scenario": {"PACS encrypted"}, "detected_min": {"soon"}},
				status: http.StatusBadRequest, expect: []string{`id="err-detected_min"`}},
			{name: "a drill", user: "itops", method: "POST", path: "/plans/{plan}/drills",
				form: url.Values{"held_on": {"2026-11-20T14:00"}, "kind": {"functional"}, "scenario": {"PACS encrypted on a Friday night"},
					"participants": {"itops, 王主任"}, "detected_min": {"18"}, "contained_min": {"55"}, "recovered_min": {"190"},
					"findings": {"restore took three hours"}, "task": {"Quarterly restore test"}, "task_assignee": {"itops"}, "task_due": {"2027-01-31"}},
				status: http.StatusSeeOther, location: "/plans/{plan}?flash=flash.plan.drilled"},
			{name: "the drill on the plan", user: "auditor", method: "GET", path: "/plans/{plan}", status: http.StatusOK,
				expect: []string{"PACS encrypted on a Friday night", "Quarterly restore test", "18 min", "3 h 10 min"}, notExpect: []string{`id="plan-drill-form"`}},
			{name: "name the people", user: "secofficer", method: "POST", path: "/plans/{plan}/people",
				form: url.Values{"version": {"1"}, "people_commander": {"李院长, 13900000001\n王副院长"}}, status: http.StatusSeeOther,
				location: "/plans/{plan}?flash=flash.plan.people"},
			{name: "a stale version", user: "secofficer", method: "POST", path: "/plans/{plan}/people",
				form: url.Values{"version": {"1"}}, status: http.StatusConflict},
			{name: "the people on the plan", user: "auditor", method: "GET", path: "/plans/{plan}", status: http.StatusOK,
				expect: []string{"李院长 · 13900000001", "王副院长", "v2"}},
			{name: "the plans", user: "auditor", method: "GET", path: "/plans", status: http.StatusOK,
				expect: []string{"/plans/{plan}"}, notExpect: []string{`id="plan-adopt"`}},
			{name: "the same template again", user: "secofficer", method: "POST", path: "/plans",
				form: url.Values{"org_id": {v("org")}, "template_id": {"ransomware"}}, status: http.StatusConflict},
			{name: "another template", user: "secofficer", method: "POST", path: "/plans",
				form: url.Values{"org_id": {v("org")}, "template_id": {"his-outage"}}, status: http.StatusSeeOther, location: "/plans/"},
		})
	})
}

// TestIncidentEvidencePages: evidence uploaded from the incident's page is kept with its
// SHA-256 and served back only as a download (attachment, nosniff, never HTML); a web
// page named .pdf and an empty file are refused at the file field; another hospital's
// officer cannot fetch it.
func TestIncidentEvidencePages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newSupplyEnv(t, db)
		page := "/incidents/" + strconv.FormatInt(e.IncidentA.ID, 10)
		b := e.newBrowser()
		b.login("secofficer")
		b.get(page)
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
		if code, body, _ := b.upload(page+"/attachments", "disguised.pdf", []byte("<html><script>alert(1)</script></html>")); code != http.StatusBadRequest ||
			!strings.Contains(body, `id="err-file"`) {
			t.Errorf("a web page named .pdf: %d", code)
		}
		if code, _, h := b.upload(page+"/attachments", "firewall-log.pdf", pdf); code != http.StatusSeeOther ||
			!strings.Contains(h.Get("Location"), "flash.incident.attached") {
			t.Fatalf("upload: %d %q", code, h.Get("Location"))
		}
		in, err := e.Incidents.Incident(context.Background(), actor.System(), e.IncidentA.ID)
		if err != nil || len(in.Attachments) != 1 {
			t.Fatalf("attachments %v %v", in.Attachments, err)
		}
		sum := sha256.Sum256(pdf)
		if in.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("hash %s", in.Attachments[0].SHA256)
		}
		file := page + "/attachments/" + strconv.FormatInt(in.Attachments[0].ID, 10)
		if _, body, _ := b.get(page); !strings.Contains(body, `href="`+file+`"`) {
			t.Error("the page does not list the evidence")
		}
		code, body, h := b.get(file)
		if code != http.StatusOK || body != string(pdf) || h.Get("Content-Type") != "application/pdf" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
			t.Errorf("download: %d %q %q %q", code, h.Get("Content-Type"), h.Get("X-Content-Type-Options"), h.Get("Content-Disposition"))
		}
		other := e.newBrowser()
		other.login("secofficer_b")
		if code, body, _ := other.get(file); code != http.StatusNotFound || strings.Contains(body, "%PDF") {
			t.Errorf("another hospital fetched it: %d", code)
		}
	})
}
