package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// alertKinds counts the incidents' alerts by kind.
func alertKinds(t *testing.T, w *world) map[string]int {
	t.Helper()
	rows, err := w.db.QueryContext(context.Background(), `SELECT kind, severity FROM alerts WHERE source = 'incidents'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k, sev string
		if err := rows.Scan(&k, &sev); err != nil {
			t.Fatal(err)
		}
		if sev != "critical" {
			t.Errorf("%s raised as %s, want critical", k, sev)
		}
		out[k]++
	}
	return out
}

// TestClockWarningThenEscalation: a 较大 incident of a CII operator is due in an hour; the
// sweep warns 15 minutes before, escalates after, and a repeated sweep raises nothing new.
func TestClockWarningThenEscalation(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{OperatorType: incident.OperatorCII})
		detected := w.now
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelLarge))
		if err != nil {
			t.Fatal(err)
		}
		if in.ReportDue == nil || !in.ReportDue.Equal(detected.Add(time.Hour)) {
			t.Fatalf("due %v, want detection + 1h", in.ReportDue)
		}
		steps := []struct {
			at   time.Duration // after detection
			want incident.SweepResult
			all  map[string]int
		}{
			{30 * time.Minute, incident.SweepResult{}, map[string]int{}},
			{45 * time.Minute, incident.SweepResult{Warned: 1}, map[string]int{incident.AlertReportWarning: 1}},
			{50 * time.Minute, incident.SweepResult{}, map[string]int{incident.AlertReportWarning: 1}},
			{60 * time.Minute, incident.SweepResult{Escalated: 1}, map[string]int{incident.AlertReportWarning: 1, incident.AlertReportOverdue: 1}},
			{90 * time.Minute, incident.SweepResult{}, map[string]int{incident.AlertReportWarning: 1, incident.AlertReportOverdue: 1}},
		}
		for _, st := range steps {
			w.now = detected.Add(st.at)
			got, err := w.inc.Sweep(ctx, w.now)
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("sweep at +%v: %+v, want %+v", st.at, got, st.want)
			}
			if diff := cmp.Diff(st.all, alertKinds(t, w)); diff != "" {
				t.Errorf("alerts at +%v (-want +got):\n%s", st.at, diff)
			}
		}
		list, err := w.inc.Incidents(ctx, w.secA, incident.Query{Overdue: true})
		if err != nil || len(list) != 1 || !list[0].Overdue {
			t.Fatalf("overdue list: %+v %v", list, err)
		}
		// 较大 is not passed on: reporting now stops every clock.
		if _, err := w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "公安机关"}); err != nil {
			t.Fatal(err)
		}
		if list, _ := w.inc.Incidents(ctx, w.secA, incident.Query{Overdue: true}); len(list) != 0 {
			t.Fatal("still overdue after the report")
		}
		in, _ = w.inc.Incident(ctx, w.secA, in.ID)
		clock := 0
		for _, e := range in.Timeline {
			if e.Kind == incident.EntryClock {
				clock++
			}
		}
		if clock != 2 || in.PassOnDue != nil {
			t.Fatalf("timeline clock entries %d, pass-on due %v", clock, in.PassOnDue)
		}
	})
}

// TestReportStopsTheClock: reported before the warning, nothing is raised; a 重大
// incident's report starts the pass-on clock, which the next report stops.
func TestReportStopsTheClock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		detected := w.now
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelMajor))
		if err != nil {
			t.Fatal(err)
		}
		w.now = detected.Add(2 * time.Hour)
		rep, err := w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "省卫健委", At: detected.Add(90 * time.Minute), Reference: "R-1"})
		if err != nil || rep.Stage != incident.StageReport {
			t.Fatalf("report: %+v %v", rep, err)
		}
		in, _ = w.inc.Incident(ctx, w.secA, in.ID)
		if in.PassOnDue == nil || !in.PassOnDue.Equal(detected.Add(150*time.Minute)) {
			t.Fatalf("pass-on due %v, want the report + 1h", in.PassOnDue)
		}
		w.now = detected.Add(140 * time.Minute)
		if r, _ := w.inc.Sweep(ctx, w.now); r != (incident.SweepResult{Warned: 1}) {
			t.Fatalf("pass-on warning: %+v", r)
		}
		if rep, err = w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "国家网信部门"}); err != nil || rep.Stage != incident.StagePassOn {
			t.Fatalf("pass on: %+v %v", rep, err)
		}
		w.now = detected.Add(10 * time.Hour)
		if r, _ := w.inc.Sweep(ctx, w.now); r != (incident.SweepResult{}) {
			t.Fatalf("after passing on: %+v", r)
		}
		if diff := cmp.Diff(map[string]int{incident.AlertPassOnWarning: 1}, alertKinds(t, w)); diff != "" {
			t.Errorf("alerts (-want +got):\n%s", diff)
		}
		if rep, _ = w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "省卫健委", Text: "总结报告"}); rep.Stage != incident.StageFollowUp {
			t.Fatalf("third report: %s", rep.Stage)
		}
		// A report before detection or in the future is refused.
		for _, at := range []time.Time{detected.Add(-time.Minute), w.now.Add(time.Hour)} {
			if _, err := w.inc.RecordReport(ctx, w.secA, in.ID, incident.ReportInput{To: "x", At: at}); err == nil {
				t.Errorf("report at %v taken", at)
			}
		}
	})
}

// TestLevelRaisedRecomputes: a 一般 incident has no clock; raised to 较大 two hours after
// detection by another operator, it is due four hours after detection; raised to 较大 five
// hours after, it is overdue at once and the next sweep escalates it.
func TestLevelRaisedRecomputes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{})
		detected := w.now
		a, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		if err != nil || a.ReportDue != nil {
			t.Fatalf("general: due %v %v", a.ReportDue, err)
		}
		b, _ := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		w.now = detected.Add(2 * time.Hour)
		if a, err = w.inc.SetLevel(ctx, w.secA, a.ID, incident.LevelLarge, "影响扩大到住院部"); err != nil {
			t.Fatal(err)
		}
		if a.ReportDue == nil || !a.ReportDue.Equal(detected.Add(4*time.Hour)) {
			t.Fatalf("raised: due %v", a.ReportDue)
		}
		if _, err := w.inc.SetLevel(ctx, w.secA, a.ID, incident.LevelLarge, "again"); err == nil {
			t.Fatal("the same level again taken")
		}
		w.now = detected.Add(5 * time.Hour)
		if b, err = w.inc.SetLevel(ctx, w.secA, b.ID, incident.LevelLarge, "涉及患者数据"); err != nil || !b.Overdue {
			t.Fatalf("raised late: overdue %v %v", b.Overdue, err)
		}
		if r, _ := w.inc.Sweep(ctx, w.now); r != (incident.SweepResult{Escalated: 2}) {
			t.Fatalf("sweep: %+v", r)
		}
		// Raised further, 重大 keeps the 4-hour deadline of other operators: the deadline does
		// not move, nothing is raised again.
		if _, err := w.inc.SetLevel(ctx, w.secA, b.ID, incident.LevelMajor, "波及全院"); err != nil {
			t.Fatal(err)
		}
		if r, _ := w.inc.Sweep(ctx, w.now); r != (incident.SweepResult{}) {
			t.Fatalf("sweep after an unchanged deadline: %+v", r)
		}
	})
}

// TestHIPAAClock: an incident under the HIPAA regime is due 60 days after discovery,
// warned 7 days before.
func TestHIPAAClock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, incident.Options{Regime: incident.RegimeHIPAA})
		detected := w.now
		in, err := w.inc.Open(ctx, w.secA, input(w.hospA.ID, incident.LevelGeneral))
		if err != nil || in.Regime != "hipaa" || in.ReportDue == nil || !in.ReportDue.Equal(detected.AddDate(0, 0, 60)) {
			t.Fatalf("hipaa: %+v %v", in.ReportDue, err)
		}
		if r, _ := w.inc.Sweep(ctx, detected.AddDate(0, 0, 52)); r != (incident.SweepResult{}) {
			t.Fatalf("day 52: %+v", r)
		}
		if r, _ := w.inc.Sweep(ctx, detected.AddDate(0, 0, 53)); r != (incident.SweepResult{Warned: 1}) {
			t.Fatalf("day 53: %+v", r)
		}
	})
}
