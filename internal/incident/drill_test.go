package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/problem"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
)

// raiser is alert.Service counting what it is asked to raise.
type raiser struct {
	al    *alert.Service
	kinds []string
}

func (r *raiser) Raise(ctx context.Context, tx *store.Tx, in alert.Input) (alert.Alert, bool, error) {
	r.kinds = append(r.kinds, in.Kind)
	return r.al.Raise(ctx, tx, in)
}

func at(t time.Time) *time.Time { return &t }

// TestDrill: a drill with its timings (durations derived), validation of the timings,
// improvement tasks tracked to closure, another hospital finding none of it.
func TestDrill(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newPlanWorld(t, db, incident.PlanOptions{})
		pl, err := w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "ransomware")
		if err != nil {
			t.Fatal(err)
		}
		start := w.now.Add(-48 * time.Hour)
		in := incident.DrillInput{HeldOn: start, Kind: incident.DrillTabletop, Scenario: "周五夜间 PACS 服务器被加密",
			Participants: []string{"张院长", "信息科 李工", "张院长", " "},
			StartedAt:    at(start), DetectedAt: at(start.Add(20 * time.Minute)), ContainedAt: at(start.Add(95 * time.Minute)),
			RecoveredAt: at(start.Add(26 * time.Hour)), Findings: "离线备份 3 个月未做恢复测试",
			Tasks: []incident.DrillTaskInput{{Title: "每季度做一次离线备份恢复测试", Assignee: "李工", Due: w.now.Add(30 * 24 * time.Hour)}}}
		bad := []struct {
			name string
			edit func(*incident.DrillInput)
		}{
			{"kind", func(d *incident.DrillInput) { d.Kind = "live" }},
			{"no scenario", func(d *incident.DrillInput) { d.Scenario = " " }},
			{"nobody", func(d *incident.DrillInput) { d.Participants = []string{""} }},
			{"contained before detected", func(d *incident.DrillInput) { d.ContainedAt = at(start.Add(10 * time.Minute)) }},
			{"detected without start", func(d *incident.DrillInput) { d.StartedAt = nil }},
			{"task without due", func(d *incident.DrillInput) { d.Tasks = []incident.DrillTaskInput{{Title: "x", Assignee: "y"}} }},
		}
		for _, b := range bad {
			d := in
			b.edit(&d)
			_, err := w.plans.RecordDrill(ctx, w.secA, pl.ID, d)
			wantKind(t, b.name, err, problem.KindInvalid)
		}
		_, err = w.plans.RecordDrill(ctx, w.secB, pl.ID, in)
		wantKind(t, "another hospital records", err, problem.KindNotFound)
		d, err := w.plans.RecordDrill(ctx, w.secA, pl.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if *d.DetectSeconds != 1200 || *d.ContainSeconds != 95*60 || *d.RecoverSeconds != 26*3600 ||
			len(d.Participants) != 2 || d.OpenTasks != 1 || d.Tasks[0].Assignee != "李工" || d.Kind != incident.DrillTabletop {
			t.Fatalf("drill %+v", d)
		}
		if got, _ := w.plans.Plan(ctx, w.secA, pl.ID); got.LastDrill == nil || !got.LastDrill.Equal(start) {
			t.Fatalf("last drill %v, want %v", got.LastDrill, start)
		}
		d, err = w.plans.AddTask(ctx, w.secA, d.ID, incident.DrillTaskInput{Title: "远程桌面启用双因素认证", Assignee: "王安", Due: w.now.Add(7 * 24 * time.Hour)})
		if err != nil || len(d.Tasks) != 2 || d.Tasks[0].Title != "远程桌面启用双因素认证" {
			t.Fatalf("add task: %+v %v", d, err)
		}
		_, err = w.plans.CloseTask(ctx, w.secB, d.Tasks[0].ID, true)
		wantKind(t, "another hospital closes", err, problem.KindNotFound)
		d, err = w.plans.CloseTask(ctx, w.secA, d.Tasks[0].ID, true)
		if err != nil || d.OpenTasks != 1 || d.Tasks[0].DoneBy != "sec-a" || !d.Tasks[0].DoneAt.Equal(w.now) {
			t.Fatalf("closed: %+v %v", d.Tasks, err)
		}
		if l, err := w.plans.Drills(ctx, w.secB, incident.DrillQuery{}); err != nil || len(l) != 0 {
			t.Fatalf("another hospital lists %v %v", l, err)
		}
		if l, err := w.plans.Drills(ctx, w.secA, incident.DrillQuery{PlanID: pl.ID, Open: true}); err != nil || len(l) != 1 {
			t.Fatalf("open drills %v %v", l, err)
		}
		if _, err := w.plans.CloseTask(ctx, w.secA, d.Tasks[1].ID, true); err != nil {
			t.Fatal(err)
		}
		if l, err := w.plans.Drills(ctx, w.secA, incident.DrillQuery{Open: true}); err != nil || len(l) != 0 {
			t.Fatalf("open drills after closing all %v %v", l, err)
		}
	})
}

// TestSweep with a fake clock: an overdue task and a plan not drilled for a year raise
// one alert each, once; a drill resets the plan; a review date passed raises its own.
func TestSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := &raiser{}
		w := newPlanWorld(t, db, incident.PlanOptions{Alerts: r, DrillInterval: 180 * 24 * time.Hour})
		r.al = w.al
		adopted := w.now
		drilled, err := w.plans.AdoptTemplate(ctx, w.secA, w.hospA.ID, "his-outage")
		if err != nil {
			t.Fatal(err)
		}
		idle, err := w.plans.AdoptTemplate(ctx, w.secB, w.hospB.ID, "supply-chain")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.plans.RecordDrill(ctx, w.secA, drilled.ID, incident.DrillInput{HeldOn: w.now, Kind: incident.DrillFunctional,
			Scenario: "核心数据库宕机", Participants: []string{"信息科"},
			Tasks: []incident.DrillTaskInput{{Title: "更新停机报表打印脚本", Assignee: "李工", Due: w.now.Add(14 * 24 * time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
		sweep := func(now time.Time, want ...string) {
			t.Helper()
			r.kinds = nil
			n, err := w.plans.Sweep(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(want) || len(r.kinds) != len(want) {
				t.Fatalf("at %s: %d raised (%v), want %v", now.Format("2006-01-02"), n, r.kinds, want)
			}
			for i := range want {
				if r.kinds[i] != want[i] {
					t.Fatalf("at %s: raised %v, want %v", now.Format("2006-01-02"), r.kinds, want)
				}
			}
		}
		sweep(adopted.Add(13 * 24 * time.Hour))                                      // nothing due yet
		sweep(adopted.Add(15*24*time.Hour), "plan.task_overdue")                     // the task is past due
		sweep(adopted.Add(16 * 24 * time.Hour))                                      // raised once
		sweep(adopted.Add(181*24*time.Hour), "plan.not_drilled", "plan.not_drilled") // both plans: last drill and adoption
		sweep(adopted.Add(200 * 24 * time.Hour))                                     // raised once

		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE source = 'plans'`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d alerts (%v), want 3", n, err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE source = 'plans' AND org_id = ?`, w.hospB.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("hospital B: %d alerts (%v), want 1 (its plan)", n, err)
		}

		// A drill of the idle plan resets it: a year later it is due again.
		w.now = adopted.Add(200 * 24 * time.Hour)
		if _, err := w.plans.RecordDrill(ctx, w.secB, idle.ID, incident.DrillInput{HeldOn: w.now, Kind: incident.DrillFullScale,
			Scenario: "供应商更新包被植入后门", Participants: []string{"信息科", "采购办"}}); err != nil {
			t.Fatal(err)
		}
		sweep(adopted.Add(300 * 24 * time.Hour))
		// The approved plan's review date passes a year after approval.
		pl, err := w.plans.ApprovePlan(ctx, w.secA, drilled.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		sweep(pl.ReviewDue.Add(24*time.Hour), "plan.review_overdue", "plan.not_drilled") // in plan order
		sweep(pl.ReviewDue.Add(48 * time.Hour))
	})
}

// TestSweepAlertTitles: the alert kinds Sweep raises have a title and a name in both
// catalogues.
func TestSweepAlertTitles(t *testing.T) {
	cat := i18n.MustLoad()
	for _, lang := range i18n.Languages {
		for _, k := range []string{"task_overdue", "not_drilled", "review_overdue"} {
			for _, key := range []string{"plan.alert." + k, "alert.kind.plan." + k} {
				if !cat.Has(lang, key) {
					t.Errorf("%s: no %s", lang, key)
				}
			}
		}
		for _, k := range incident.DrillKinds {
			if !cat.Has(lang, "plan.drill_kind."+k) {
				t.Errorf("%s: no plan.drill_kind.%s", lang, k)
			}
		}
	}
}
