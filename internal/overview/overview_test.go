package overview_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/appreg"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/incident"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
	"github.com/medguard/medguard/internal/risk"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/supply"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// scoped fakes answer as the real lists do: only the records of organisations the
// actor sees (they hold org paths), so that a count across hospitals shows up.
type fakeFindings struct{ items []struct{ path, sev string } }

func (f fakeFindings) Findings(_ context.Context, a actor.Actor, q supply.FindingQuery) (supply.FindingPage, error) {
	n := 0
	for _, it := range f.items {
		if a.Sees(it.path) && it.sev == q.Severity && q.State == supply.StateOpen {
			n++
		}
	}
	return supply.FindingPage{Total: n}, nil
}

type fakeApps struct {
	apps []struct{ path, grade string }
}

func (f fakeApps) Apps(_ context.Context, a actor.Actor, _ appreg.Query) ([]appreg.App, error) {
	out := []appreg.App{}
	for _, ap := range f.apps {
		if a.Sees(ap.path) {
			out = append(out, appreg.App{Grade: ap.grade})
		}
	}
	return out, nil
}

type fakeCompliance map[int64][]overview.Progress

func (f fakeCompliance) Progress(_ context.Context, _ actor.Actor, orgID int64) ([]overview.Progress, error) {
	return f[orgID], nil
}

type world struct {
	db           *store.DB
	now          time.Time
	prov         org.Node
	hospA, hospB org.Node
	al           *alert.Service
	risks        *risk.Service
	inc          *incident.Service
	svc          *overview.Service
}

func newWorld(t *testing.T, db *store.DB, comp overview.Compliance) *world {
	t.Helper()
	ctx := context.Background()
	tl, err := trail.New(trail.SHA256, trailtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, now: time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	orgs := org.NewService(db, tl)
	if w.prov, err = orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindProvince, Name: "省卫健委"}); err != nil {
		t.Fatal(err)
	}
	for h, name := range map[*org.Node]string{&w.hospA: "甲医院", &w.hospB: "乙医院"} {
		if *h, err = orgs.Create(ctx, actor.System(), org.Input{ParentID: w.prov.ID, Kind: org.KindHospital, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if w.al, err = alert.New(db, tl); err != nil {
		t.Fatal(err)
	}
	w.al.SetClock(clock)
	if w.risks, err = risk.New(db, tl, w.al, risk.Options{Now: clock}); err != nil {
		t.Fatal(err)
	}
	if w.inc, err = incident.New(db, tl, w.al, incident.Options{Now: clock}); err != nil {
		t.Fatal(err)
	}
	ff := fakeFindings{items: []struct{ path, sev string }{{w.hospA.Path, "critical"}, {w.hospA.Path, "low"}, {w.hospB.Path, "critical"}, {w.hospB.Path, "critical"}}}
	fa := fakeApps{apps: []struct{ path, grade string }{{w.hospA.Path, "A"}, {w.hospA.Path, "C"}, {w.hospB.Path, "B"}}}
	if w.svc, err = overview.New(db, overview.Deps{Alerts: w.al, Findings: ff, Risks: w.risks, Incidents: w.inc, Apps: fa, Compliance: comp}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) raise(t *testing.T, orgID int64, source, sev, key string) {
	t.Helper()
	err := w.db.InTx(context.Background(), func(tx *store.Tx) error {
		_, _, err := w.al.Raise(context.Background(), tx, alert.Input{OrgID: orgID, Source: source, Kind: "test", Severity: sev,
			Title: i18n.M("alert.title.text", key), Subject: key, DedupKey: key})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) risk(t *testing.T, orgID int64, title string, l, i int) {
	t.Helper()
	_, err := w.risks.Create(context.Background(), actor.System(), risk.Input{OrgID: orgID, Title: title, Category: "data_leak",
		InherentLikelihood: l, InherentImpact: i, Likelihood: l, Impact: i, Treatment: risk.TreatMitigate})
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) incident(t *testing.T, orgID int64, level string) {
	t.Helper()
	_, err := w.inc.Open(context.Background(), actor.System(), incident.Input{OrgID: orgID, Level: level,
		Details: incident.Details{Title: "HIS 服务器勒索病毒", Description: "文件被加密", Category: "malware"}})
	if err != nil {
		t.Fatal(err)
	}
}

func seed(t *testing.T, w *world) {
	w.raise(t, w.hospA.ID, "dlp", "high", "a1")
	w.raise(t, w.hospA.ID, "monitor", "medium", "a2")
	w.raise(t, w.hospA.ID, "monitor", "high", "a3")
	w.raise(t, w.hospB.ID, "dlp", "critical", "b1")
	w.raise(t, w.hospB.ID, "monitor", "high", "b2")
	w.raise(t, w.hospB.ID, "monitor", "high", "b3")
	w.risk(t, w.hospA.ID, "A 重大风险", 5, 5)
	w.risk(t, w.hospA.ID, "A 一般风险", 1, 1)
	w.risk(t, w.hospB.ID, "B 重大风险", 5, 5)
	w.risk(t, w.hospB.ID, "B 重大风险二", 5, 4)
	w.incident(t, w.hospA.ID, "major")
	w.incident(t, w.hospB.ID, "major")
	w.incident(t, w.hospB.ID, "general")
}

func findings(o overview.Overview) map[string][]int {
	out := map[string][]int{}
	for _, m := range o.Findings {
		for _, f := range m.BySeverity {
			out[m.Module] = append(out[m.Module], f.N)
		}
	}
	return out
}

// TestHospitalCountsItsOwnRecords: every figure of hospital A's overview counts A's
// records only, with links that reproduce them; B sees B's; another hospital is not found.
func TestHospitalCountsItsOwnRecords(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, fakeCompliance{})
		seed(t, w)
		w.now = w.now.Add(30 * 24 * time.Hour) // every alert SLA and incident clock has passed
		secA := actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: w.hospA.ID, OrgPath: w.hospA.Path}
		a, err := w.svc.Hospital(ctx, secA, w.hospA.ID, w.now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int{"supply": {1, 0, 0, 1}, "dlp": {0, 1, 0, 0}, "monitor": {0, 1, 1, 0}, "apps": {0, 0, 0, 0}, "upstream": {0, 0, 0, 0}}
		if d := cmp.Diff(want, findings(a)); d != "" {
			t.Errorf("hospital A findings (-want +got):\n%s", d)
		}
		if len(a.TopRisks) != 2 || a.TopRisks[0].Title != "A 重大风险" || a.TopRisks[0].Link != fmt.Sprintf("/risks/%d", a.TopRisks[0].ID) {
			t.Errorf("top risks %+v", a.TopRisks)
		}
		if a.RiskLevels[0].Level != "critical" || a.RiskLevels[0].N != 1 || a.RiskLevels[0].Link != "/risks?status=active&level=critical" {
			t.Errorf("risk levels %+v", a.RiskLevels)
		}
		if a.Incidents.Open.N != 1 || a.Incidents.Overdue.N != 1 || len(a.Incidents.Clocks) != 1 || !a.Incidents.Clocks[0].Overdue {
			t.Errorf("incidents %+v", a.Incidents)
		}
		grades := map[string]int{}
		for _, g := range a.Apps {
			grades[g.Grade] = g.N
		}
		if d := cmp.Diff(map[string]int{"A": 1, "B": 0, "C": 1, "": 0}, grades); d != "" {
			t.Errorf("app grades (-want +got):\n%s", d)
		}
		if a.Privacy[0].Status != alert.StatusNew || a.Privacy[0].N != 2 || a.Privacy[0].Link != "/alerts?source=monitor&status=new" {
			t.Errorf("privacy %+v", a.Privacy)
		}
		if a.Assessed || len(a.Compliance) != 0 {
			t.Errorf("compliance without assessments: %+v", a.Compliance)
		}
		if a.Findings[1].BySeverity[1].Link != "/alerts?source=dlp&severity=high&status=open" || a.Findings[0].BySeverity[0].Link != "/supply/findings?severity=critical&state=open" {
			t.Errorf("links %+v", a.Findings)
		}
		// The score from the documented formula: findings 10+0.5+5+2+5 = 22.5; overdue
		// alerts 3×2 = 6; risks one critical (6); one incident past its clock (10);
		// apps one C (4): 100 − 48.5 = 51.5, rounded 52.
		if a.Score != 52 {
			t.Errorf("score %d, penalties %+v", a.Score, a.Penalties)
		}
		if _, err := w.svc.Hospital(ctx, secA, w.hospB.ID, w.now); err == nil {
			t.Error("hospital A's officer read hospital B's overview")
		}
		b, err := w.svc.Hospital(ctx, actor.System(), w.hospB.ID, w.now)
		if err != nil {
			t.Fatal(err)
		}
		if b.Findings[0].BySeverity[0].N != 2 || b.Incidents.Open.N != 2 || b.TopRisks[0].Title == "A 重大风险" {
			t.Errorf("hospital B %+v", b)
		}
		r, err := w.svc.Region(ctx, actor.System(), w.prov.ID, w.now)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Hospitals) != 2 || r.Total.Findings[0].BySeverity[0].N != 3 || r.Total.Incidents.Open.N != 3 || r.Total.Score != (a.Score+b.Score+1)/2 {
			t.Errorf("region totals %+v", r.Total)
		}
		if _, err := w.svc.Region(ctx, actor.System(), w.hospA.ID, w.now); err == nil {
			t.Error("a hospital's id gave a region overview")
		}
		// Charts: one drill-down link per stacked bar, equal to the figure's.
		cs := overview.Charts(a, func(k string, args ...any) string { return k + fmt.Sprint(args...) })
		var fc overview.Chart
		for _, c := range cs {
			if c.ID == "overview-findings" {
				fc = c
			}
		}
		if got := fc.Links["overview.severity.high/overview.module.dlp"]; got != a.Findings[1].BySeverity[1].Link {
			t.Errorf("findings chart link %q", got)
		}
		if len(cs) != 5 {
			t.Errorf("%d charts without assessments, want 5", len(cs))
		}
	})
}

// TestTrendFromSnapshots: Sweep stores one score per hospital and week, the trend shows
// the stored weeks and the current score, gaps as nil; compliance progress lowers the score.
func TestTrendFromSnapshots(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, nil)
		start := w.now
		w.now = start.AddDate(0, 0, -14)
		if n, err := w.svc.Sweep(ctx, w.now); err != nil || n != 2 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		w.now = start
		w.raise(t, w.hospA.ID, "dlp", "critical", "x")
		o, err := w.svc.Hospital(ctx, actor.System(), w.hospA.ID, w.now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range o.Trend {
			if p.Score == nil {
				got = append(got, "-")
			} else {
				got = append(got, fmt.Sprint(*p.Score))
			}
		}
		// Two weeks ago A had a critical and a low supply finding (10.5) and an app graded
		// C (4): 85.5, rounded 86; now also a critical patient-data alert (10): 75.5, 76.
		want := "- - - - - - - - - 86 - 76"
		if strings.Join(got, " ") != want {
			t.Errorf("trend %v, want %s", got, want)
		}
		if o.Trend[11].Week != "2026-05-04" {
			t.Errorf("current week %s", o.Trend[11].Week)
		}
		comp := fakeCompliance{w.hospA.ID: {{Name: "等保三级", Catalogue: "mlps3", Percent: 60, Met: 6, Total: 10}}}
		w2, err := overview.New(db, overview.Deps{Alerts: w.al, Findings: fakeFindings{}, Risks: w.risks, Incidents: w.inc, Apps: fakeApps{}, Compliance: comp})
		if err != nil {
			t.Fatal(err)
		}
		o, err = w2.Hospital(ctx, actor.System(), w.hospA.ID, w.now)
		if err != nil {
			t.Fatal(err)
		}
		if !o.Assessed || o.Score != 86 { // 10 for the finding, (100 − 60) / 10 = 4 for compliance
			t.Errorf("with an assessment: assessed %v, score %d %+v", o.Assessed, o.Score, o.Penalties)
		}
	})
}
