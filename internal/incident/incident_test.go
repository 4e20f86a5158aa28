package incident_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

type world struct {
	db           *store.DB
	tl           *trail.Log
	inc          *incident.Service
	al           *alert.Service
	hospA, hospB org.Node
	secA, secB   actor.Actor
	now          time.Time
}

func newWorld(t *testing.T, db *store.DB, opt incident.Options) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	orgs := org.NewService(db, tl)
	prov, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "省卫健委"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, tl: tl, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	w.secA = actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
	w.secB = actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: w.hospB.ID, OrgPath: w.hospB.Path}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	w.al.SetClock(func() time.Time { return w.now })
	opt.Now = func() time.Time { return w.now }
	if w.inc, err = incident.New(db, tl, w.al, opt); err != nil {
		t.Fatal(err)
	}
	return w
}

func input(orgID int64, level string) incident.Input {
	return incident.Input{OrgID: orgID, Level: level, Details: incident.Details{Title: "HIS 服务器勒索病毒",
		Description: "门诊 HIS 数据库服务器文件被加密", Category: "malware", PatientsAffected: 1200,
		DataInvolved: []string{"诊疗数据", "身份信息", "诊疗数据"}}}
}

func trailActions(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT action FROM trail WHERE object_type = 'incident' AND object_id = ? ORDER BY seq`,
		itoa(id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// TestLifecycle: open → note → contained → resolved → reopen → … → closed after the
// report; every change on the timeline and in the trail; another hospital neither sees
// nor changes it.
func TestLifecycle(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelLarge))
		if err != nil {
			t.Fatal(err)
		}
		due := w.now.Add(4 * time.Hour) // other operator, 较大: 4 hours
		if in.Status != incident.StatusOpen || in.ReportDue == nil || !in.ReportDue.Equal(due) || in.Regime != "cn" ||
			in.OperatorType != incident.OperatorOther {
			t.Fatalf("opened: %+v", in)
		}
		if diff := cmp.Diff([]string{"诊疗数据", "身份信息"}, in.DataInvolved); diff != "" {
			t.Errorf("data involved (-want +got):\n%s", diff)
		}
		for name, f := range map[string]func() error{
			"read":   func() error { _, err := w.inc.Incident(ctx, w.secB, in.ID); return err },
			"status": func() error { _, err := w.inc.SetStatus(ctx, w.secB, in.ID, incident.StatusContained, ""); return err },
			"note":   func() error { _, err := w.inc.AddNote(ctx, w.secB, in.ID, "x"); return err },
			"level":  func() error { _, err := w.inc.SetLevel(ctx, w.secB, in.ID, incident.LevelMajor, "x"); return err },
			"report": func() error {
				_, err := w.inc.RecordReport(ctx, w.secB, in.ID, incident.ReportInput{To: "公安"})
				return err
			},
			"attach": func() error {
				_, err := w.inc.AddAttachment(ctx, w.secB, in.ID, "a.txt", strings.NewReader("hello"))
				return err
			},
			"task": func() error { _, err := w.inc.AddTask(ctx, w.secB, in.ID, incident.TaskInput{Title: "x"}); return err },
			"review": func() error {
				_, err := w.inc.SetReview(ctx, w.secB, in.ID, incident.ReviewInput{RootCause: "x"})
				return err
			},
		} {
			if problem.KindOf(f()) != problem.KindNotFound {
				t.Errorf("another hospital's %s: want not found", name)
			}
		}
		if _, err := w.inc.Open(ctx, w.secB, input(w.hospA.ID, incident.LevelLarge)); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("open at another hospital: %v", err)
		}
		if list, _ := w.inc.Incidents(ctx, w.secB, incident.Query{}); len(list) != 0 {
			t.Errorf("another hospital lists %d incidents", len(list))
		}

		if _, err := w.inc.AddNote(ctx, w.secA, in.ID, "已断网隔离"); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			to   string
			want problem.Kind
		}{
			{incident.StatusClosed, problem.KindConflict}, // open cannot be closed
			{incident.StatusContained, 0},                 // contained
			{incident.StatusOpen, 0},                      // reopened
			{incident.StatusResolved, 0},                  // resolved
			{incident.StatusClosed, problem.KindConflict}, // unreported: the clock runs
			{"bogus", problem.KindInvalid},
		}
		for _, st := range steps {
			_, err := w.inc.SetStatus(ctx, w.secA, in.ID, st.to, "")
			if (st.want == 0) != (err == nil) || (err != nil && problem.KindOf(err) != st.want) {
				t.Fatalf("→ %s: %v, want kind %v", st.to, err, st.want)
			}
		}
		w.now = w.now.Add(time.Hour)
		if _, err := w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "属地公安机关网安部门", Reference: "GA-1"}); err != nil {
			t.Fatal(err)
		}
		if in, err = w.inc.SetStatus(ctx, w.secA, in.ID, incident.StatusClosed, "处置完毕"); err != nil || in.Status != incident.StatusClosed {
			t.Fatalf("close after the report: %v", err)
		}
		if _, err := w.inc.SetStatus(ctx, w.secA, in.ID, incident.StatusOpen, ""); problem.KindOf(err) != problem.KindConflict {
			t.Fatalf("reopen after close: %v", err)
		}
		var kinds []string
		for _, e := range in.Timeline {
			kinds = append(kinds, e.Kind)
		}
		want := []string{"created", "note", "status", "status", "status", "report", "status"}
		if diff := cmp.Diff(want, kinds); diff != "" {
			t.Errorf("timeline (-want +got):\n%s", diff)
		}
		wantTrail := []string{"incident.open", "incident.note", "incident.status", "incident.status", "incident.status",
			"incident.report", "incident.status"}
		if diff := cmp.Diff(wantTrail, trailActions(t, db, in.ID)); diff != "" {
			t.Errorf("trail (-want +got):\n%s", diff)
		}
		b, _ := json.Marshal(in)
		for _, k := range []string{`"id"`, `"category"`, `"level"`, `"detected_at"`, `"report_due"`, `"status"`} {
			if !strings.Contains(string(b), k) {
				t.Errorf("JSON lacks %s", k)
			}
		}
	})
}

// TestOpenValidation: a table of refused inputs.
func TestOpenValidation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		future := w.now.Add(time.Hour)
		tests := []struct {
			name  string
			edit  func(*incident.Input)
			field string
		}{
			{"no title", func(in *incident.Input) { in.Title = " " }, "title"},
			{"bad category", func(in *incident.Input) { in.Category = "ransomware" }, "category"},
			{"bad level", func(in *incident.Input) { in.Level = "severe" }, "level"},
			{"bad operator", func(in *incident.Input) { in.OperatorType = "bank" }, "operator_type"},
			{"bad regime", func(in *incident.Input) { in.Regime = "gdpr" }, "regime"},
			{"future detection", func(in *incident.Input) { in.DetectedAt = future }, "detected_at"},
			{"occurred after detection", func(in *incident.Input) { in.DetectedAt = w.now; in.OccurredAt = &future }, "occurred_at"},
			{"negative patients", func(in *incident.Input) { in.PatientsAffected = -1 }, "patients_affected"},
			{"half a source", func(in *incident.Input) { in.SourceModule = "alert" }, "source_id"},
			{"unknown asset", func(in *incident.Input) { in.AssetIDs = []int64{9999} }, "asset_ids"},
		}
		for _, tc := range tests {
			in := input(w.hospA.ID, incident.LevelGeneral)
			tc.edit(&in)
			_, err := w.inc.Open(ctx, w.secA, in)
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Field != tc.field {
				t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
			}
		}
		// A source alert that does not exist is not found.
		in := input(w.hospA.ID, incident.LevelGeneral)
		in.SourceModule, in.SourceID = incident.SourceAlert, "4242"
		if _, err := w.inc.Open(ctx, w.secA, in); problem.KindOf(err) != problem.KindNotFound {
			t.Errorf("a missing alert: %v", err)
		}
	})
}

// TestFromAlert: an incident opened from an alert is found from it, by its hospital only.
func TestFromAlert(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		var al alert.Alert
		err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			al, _, err = w.al.Raise(ctx, tx, alert.Input{OrgID: w.hospA.ID, Source: "dlp", Kind: "dlp_block", Severity: "high",
				Title: incidentTitle(), Subject: "x"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		in := input(w.hospA.ID, incident.LevelGeneral)
		in.SourceModule, in.SourceID = incident.SourceAlert, itoa(al.ID)
		got, err := w.inc.Open(ctx, w.secA, in)
		if err != nil {
			t.Fatal(err)
		}
		list, err := w.inc.IncidentsOf(ctx, w.secA, incident.SourceAlert, itoa(al.ID))
		if err != nil || len(list) != 1 || list[0].ID != got.ID || list[0].SourceID != itoa(al.ID) {
			t.Fatalf("incidents of the alert: %+v %v", list, err)
		}
		if list, _ := w.inc.IncidentsOf(ctx, w.secB, incident.SourceAlert, itoa(al.ID)); len(list) != 0 {
			t.Fatal("another hospital finds the incident from the alert")
		}
		// Another hospital cannot open an incident of hospital A's alert at its own.
		in.OrgID = w.hospB.ID
		if _, err := w.inc.Open(ctx, w.secB, in); problem.KindOf(err) != problem.KindNotFound {
			t.Fatalf("another hospital's alert: %v", err)
		}
	})
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func incidentTitle() i18n.Message { return i18n.M("alert.source.incidents") }
