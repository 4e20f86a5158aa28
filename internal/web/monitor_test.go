package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/explain"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
)

// Patients of the investigation tests: their identifiers must never appear in clear.
const (
	monPatient1 = "P2026000101" // treated by doc1 (open encounter)
	monPatient2 = "P2026000202" // doc1's family (same surname and address)
	monPatientB = "PB99000303"  // a patient of hospital B
)

// seedMonitor imports reference data (CSV) into hospitals A and B and stores events of
// doc1 (A) and docb (B): an explained view, a flagged one, an unexplained one, a login.
func (e *testEnv) seedMonitor() time.Time {
	t := e.t
	t.Helper()
	ctx := context.Background()
	imp := func(orgID int64, kind, csv string) {
		t.Helper()
		rep, err := e.Reference.Import(ctx, actor.System(), orgID, kind, strings.NewReader(csv))
		if err != nil || rep.ErrorCount != 0 {
			t.Fatalf("import %s: %+v %v", kind, rep, err)
		}
	}
	imp(e.HospA.ID, "staff", "staff_id,account,name,department,role,address\n"+
		"S1,doc1,王伟,心内科,doctor,东城区和平里1号楼2单元301\n")
	imp(e.HospA.ID, "patients", "patient_id,name,address,vip,deceased_on,staff_id\n"+
		monPatient1+",陈明,丰台区1号楼1单元101,false,,\n"+
		monPatient2+",王芳,东城区和平里1号楼2单元301,false,,\n"+
		"P2026000999,赵六,丰台区9号楼1单元101,false,,\n")
	imp(e.HospA.ID, "encounters", "patient_id,staff_id,department,start,end\n"+monPatient1+",S1,心内科,2026-03-01 08:00:00,\n")
	imp(e.HospB.ID, "staff", "staff_id,account,name,department,role,address\nSB,docb,李四,骨科,doctor,西城区1号楼\n")
	imp(e.HospB.ID, "patients", "patient_id,name,address,vip,deceased_on,staff_id\n"+monPatientB+",钱七,西城区2号楼,false,,\n")
	at := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	ev := func(id string, min int, account, action, patient string) events.Event {
		return events.Event{ID: id, Time: at.Add(time.Duration(min) * time.Minute), System: "EMR", Account: account,
			Action: action, PatientID: patient, RecordType: "emr", RecordCount: 1, SourceIP: "10.1.2.3", Terminal: "WS-01"}
	}
	if _, err := e.Events.Append(ctx, e.HospA.ID, []events.Event{
		ev("a1", 0, "doc1", events.ActionLogin, ""),
		ev("a2", 1, "doc1", events.ActionView, monPatient1),
		ev("a3", 2, "doc1", events.ActionView, monPatient2),
		ev("a4", 3, "doc1", events.ActionView, "P2026000999"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Events.Append(ctx, e.HospB.ID, []events.Event{ev("b1", 0, "docb", events.ActionView, monPatientB)}); err != nil {
		t.Fatal(err)
	}
	return at
}

// TestMonitorInvestigationAPI: the account investigation and the patient access report
// over the API, with what must and must not appear, other-hospital 404s, bad ranges and
// the trail record of the report.
func TestMonitorInvestigationAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		e.seedMonitor()
		rng := "?from=2026-03-01&to=2026-03-31"
		for _, c := range []struct {
			name, path, user string
			code             int
			want, not        []string
		}{
			{"account of A", "/api/v1/monitor/accounts/doc1/events" + rng, "secofficer", 200,
				[]string{`"explained":1`, `"flagged":1`, `"unexplained":1`, `"other":1`, `"department":"心内科"`, `"role":"doctor"`,
					`"family"`, "same surname and address as the patient", "never charted in nor ordered for this patient",
					`"patient_id":"****0101"`},
				[]string{monPatient1, monPatient2, "P2026000999", "raw"}},
			{"account of A, zh-CN user setting absent: English", "/api/v1/monitor/accounts/doc1/events" + rng, "auditor", 200,
				[]string{`"class":"flagged"`}, nil},
			{"account of B from A", "/api/v1/monitor/accounts/docb/events" + rng, "secofficer", 404, nil, []string{"docb"}},
			{"B's organisation from A", "/api/v1/monitor/accounts/docb/events" + rng + "&org_id=" + itoa(e.HospB.ID), "secofficer", 404, nil, nil},
			{"account of B by B", "/api/v1/monitor/accounts/docb/events" + rng, "secofficer_b", 200, []string{`"account":"docb"`}, nil},
			{"unknown account", "/api/v1/monitor/accounts/nobody/events" + rng, "secofficer", 404, nil, nil},
			{"bad from", "/api/v1/monitor/accounts/doc1/events?from=P2026000101", "secofficer", 400, []string{`"from"`}, []string{"P2026000101"}},
			{"from after to", "/api/v1/monitor/accounts/doc1/events?from=2026-04-01&to=2026-03-01", "secofficer", 400, nil, nil},
			{"not allowed", "/api/v1/monitor/accounts/doc1/events" + rng, "itops", 403, nil, []string{"doc1"}},
			{"patient of A", "/api/v1/monitor/patients/" + monPatient1 + "/accesses" + rng, "privacy", 200,
				[]string{`"account":"doc1"`, `"filter":"encounter_staff"`, `"explained":1`, `"patient_id":"****0101"`},
				[]string{monPatient1}},
			{"patient of A, lower case", "/api/v1/monitor/patients/p2026000101/accesses" + rng, "privacy", 200, []string{`"explained":1`}, nil},
			{"patient of B from A", "/api/v1/monitor/patients/" + monPatientB + "/accesses" + rng, "privacy", 404, nil, []string{monPatientB}},
			{"patient of B by B", "/api/v1/monitor/patients/" + monPatientB + "/accesses" + rng, "secofficer_b", 200, []string{`"account":"docb"`}, nil},
		} {
			code, body := e.api("GET", c.path, c.user, nil)
			if code != c.code {
				t.Errorf("%s: %d, want %d: %s", c.name, code, c.code, body)
				continue
			}
			for _, s := range c.want {
				if !strings.Contains(string(body), s) {
					t.Errorf("%s: no %s in %s", c.name, s, body)
				}
			}
			for _, s := range c.not {
				if strings.Contains(string(body), s) {
					t.Errorf("%s: %s must not appear in %s", c.name, s, body)
				}
			}
		}
		// The reasons come in the caller's language.
		req, _ := http.NewRequest("GET", e.URL+"/api/v1/monitor/accounts/doc1/events"+rng, nil)
		req.Header.Set("Authorization", "Bearer "+e.Tokens["secofficer"])
		req.Header.Set("Accept-Language", "zh-CN")
		_, body, _ := do(t, http.DefaultClient, req)
		var rep accountReport
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		texts := ""
		for _, ev := range rep.Events {
			texts += strings.Join(ev.ReasonTexts, "|")
		}
		if !strings.Contains(texts, "同姓且同住址") || !strings.Contains(texts, "未在该患者处记录诊疗或医嘱") {
			t.Errorf("zh-CN reasons: %s", texts)
		}
		if len(rep.Events) != 4 || rep.Events[0].Explanation.Class != "" || rep.Events[1].Explanation.Class != explain.Explained {
			t.Errorf("events: %+v", rep.Events)
		}
		// Each report viewing is in the trail, the patient hashed and masked.
		entries, err := trail.List(context.Background(), e.db, actor.System(), trail.Filter{Action: "monitor.patient_report", Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, en := range entries {
			n++
			raw, _ := json.Marshal(en)
			if strings.Contains(string(raw), monPatient1) || strings.Contains(string(raw), monPatientB) {
				t.Errorf("trail entry shows a patient identifier: %s", raw)
			}
			if en.ObjectID != e.Reference.PatientHash(monPatient1) && en.ObjectID != e.Reference.PatientHash(monPatientB) {
				t.Errorf("trail entry object %q is not the patient's keyed hash", en.ObjectID)
			}
		}
		if n != 3 {
			t.Errorf("%d report viewings in the trail, want 3 (the 404 is none)", n)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestMonitorPagesWatermark: the investigation pages in both languages and the CSV
// export carry the viewer's name and the time; other hospitals' data is not found.
func TestMonitorPagesWatermark(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newTestEnv(t, db)
		e.seedMonitor()
		b := e.newBrowser()
		b.login("privacy")
		get := func(path, lang string) (int, string, http.Header) {
			t.Helper()
			req, _ := http.NewRequest("GET", e.URL+path, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := b.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body), resp.Header
		}
		rng := "from=2026-03-01&to=2026-03-31"
		year := time.Now().Format("2006-01-02")
		for _, c := range []struct {
			path, lang string
			want       []string
		}{
			{"/monitor/accounts/doc1?" + rng, "en", []string{"Account investigation", "same surname and address as the patient", "****0101", "心内科"}},
			{"/monitor/accounts/doc1?" + rng, "zh-CN", []string{"账号调查", "同姓且同住址", "在院或近期就诊的经治人员"}},
			{"/monitor/patients", "en", []string{"Patient access report", `id="monitor-patient-form"`}},
			{"/monitor/patients?patient_id=" + monPatient1 + "&" + rng, "en", []string{"****0101", "doc1", "/monitor/accounts/doc1",
				"/monitor/patients/" + monPatient1 + "/accesses.csv?from=2026-03-01&amp;to=2026-03-31"}},
			{"/monitor/patients?patient_id=" + monPatient1 + "&" + rng, "zh-CN", []string{"患者访问报告", "有依据"}},
		} {
			code, body, _ := get(c.path, c.lang)
			if code != 200 {
				t.Fatalf("%s (%s): %d %s", c.path, c.lang, code, body)
			}
			for _, s := range append(c.want, `class="watermark"`, `pointer-events="none"`, "privacy · "+year) {
				if !strings.Contains(body, s) {
					t.Errorf("%s (%s): no %q", c.path, c.lang, s)
				}
			}
			if strings.Contains(body, ">"+monPatient1+"<") || strings.Contains(body, monPatient2) {
				t.Errorf("%s: a patient identifier in clear in a list", c.path)
			}
		}
		for _, p := range []string{"/monitor/accounts/docb?" + rng, "/monitor/patients?patient_id=" + monPatientB,
			"/monitor/patients/" + monPatientB + "/accesses.csv", "/monitor/accounts/doc1?org_id=" + itoa(e.HospB.ID)} {
			if code, body, _ := get(p, "en"); code != 404 || strings.Contains(body, "docb<") {
				t.Errorf("%s: %d, want 404", p, code)
			}
		}
		code, body, h := get("/monitor/patients/"+monPatient1+"/accesses.csv?"+rng, "en")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("CSV: %d %s", code, h.Get("Content-Type"))
		}
		lines := strings.Split(strings.TrimPrefix(body, "\ufeff"), "\n")
		if !strings.HasPrefix(lines[0], "# medguard patient access report ****0101") || !strings.Contains(lines[0], "exported by privacy · "+year) {
			t.Errorf("CSV first line: %q", lines[0])
		}
		if !strings.HasSuffix(lines[1], ",exported_by") || !strings.Contains(lines[2], ",doc1,") ||
			!strings.Contains(lines[2], "privacy · "+year) || !strings.Contains(lines[2], "explained,encounter_staff") {
			t.Errorf("CSV rows: %q", lines[1:3])
		}
		if strings.Contains(body, monPatient1) && !strings.Contains(lines[0], "****") {
			t.Errorf("CSV shows the patient identifier")
		}
		if strings.Count(body, monPatient1) != 0 {
			t.Errorf("CSV shows the patient identifier in clear")
		}
	})
}
