package report_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/alert"
	"github.com/medguard/medguard/internal/i18n"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/report"
	"github.com/medguard/medguard/internal/store"
	"github.com/medguard/medguard/internal/store/storetest"
	"github.com/medguard/medguard/internal/trail"
	"github.com/medguard/medguard/internal/trail/trailtest"
)

// alertSource is a Source built from real records: the alerts of the organisation that
// were raised in the period (other than the reports' own announcements).
type alertSource struct{ db *store.DB }

func (alertSource) Sections() []string { return []string{"alerts"} }

func (s alertSource) Build(ctx context.Context, a actor.Actor, orgID int64, p report.Period, sections []string, lang string) (report.Document, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND source <> 'report' AND first_seen >= ? AND first_seen < ?`,
		orgID, p.Start, p.End).Scan(&n); err != nil {
		return report.Document{}, err
	}
	d := report.Document{Sections: []report.Section{{Key: "alerts", Heading: "告警"}}}
	if n > 0 {
		d.Sections[0].Figures = []report.Figure{{Label: "告警数量", Value: fmt.Sprint(n)}}
	}
	return d, nil
}

func TestSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl, err := trail.New(trail.SHA256, trailtest.Key(t))
		if err != nil {
			t.Fatal(err)
		}
		orgs := org.NewService(db, tl)
		hospA, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "甲医院"})
		if err != nil {
			t.Fatal(err)
		}
		hospB, err := orgs.Create(ctx, actor.System(), org.Input{Kind: org.KindHospital, Name: "乙医院"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
		al, err := alert.New(db, tl)
		if err != nil {
			t.Fatal(err)
		}
		al.SetClock(func() time.Time { return now })
		svc, err := report.New(db, tl, al, alertSource{db}, report.Options{Now: func() time.Time { return now }, BaseURL: "https://medguard.example"})
		if err != nil {
			t.Fatal(err)
		}
		secA := actor.Actor{Username: "sec-a", Role: "security_officer", OrgID: hospA.ID, OrgPath: hospA.Path}
		secB := actor.Actor{Username: "sec-b", Role: "security_officer", OrgID: hospB.ID, OrgPath: hospB.Path}
		tmpl, err := svc.CreateTemplate(ctx, secA, report.TemplateInput{OrgID: hospA.ID, Name: "月报", Kind: report.Monthly, Lang: "zh-CN", Scheduled: true})
		if err != nil {
			t.Fatal(err)
		}
		// Two alerts in November.
		for i := range 2 {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				_, _, err := al.Raise(ctx, tx, alert.Input{OrgID: hospA.ID, Source: "risk", Kind: "risk.review_due", Severity: alert.SeverityLow,
					Title: i18n.M("report.title.monthly"), Subject: fmt.Sprintf("x %d", i), At: now})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		countReady := func() int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE org_id = ? AND kind = 'report.ready'`, hospA.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		steps := []struct {
			at        time.Time
			generated int
			empty     int
			ready     int
		}{
			{time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), 1, 0, 1},  // November: 2 alerts
			{time.Date(2026, 12, 15, 1, 0, 0, 0, time.UTC), 0, 0, 1}, // same period: nothing new
			{time.Date(2027, 1, 1, 0, 30, 0, 0, time.UTC), 1, 1, 2},  // December: nothing to report, still sent
			{time.Date(2027, 1, 20, 0, 30, 0, 0, time.UTC), 0, 0, 2},
		}
		for i, st := range steps {
			now = st.at
			res, err := svc.Sweep(ctx, st.at)
			if err != nil {
				t.Fatal(err)
			}
			if res.Generated != st.generated || res.Empty != st.empty {
				t.Errorf("step %d: sweep = %+v, want %d generated, %d empty", i, res, st.generated, st.empty)
			}
			if n := countReady(); n != st.ready {
				t.Errorf("step %d: %d report.ready alerts, want %d", i, n, st.ready)
			}
		}
		rs, err := svc.Reports(ctx, secA, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || rs[0].Period != "2026-12" || !rs[0].Empty || rs[1].Period != "2026-11" || rs[1].Empty || rs[1].TemplateID != tmpl.ID || !rs[1].Scheduled {
			t.Fatalf("reports = %+v", rs)
		}
		if len(rs[1].Files) == 0 || rs[1].Files[0].Size == 0 || rs[1].Files[0].SHA256 == "" {
			t.Errorf("the list does not describe the report's files: %+v", rs[1].Files)
		}
		pdf, err := svc.File(ctx, secA, rs[1].ID, report.FormatPDF)
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("pdf: %v", err)
		}
		html, err := svc.File(ctx, secA, rs[1].ID, report.FormatHTML)
		if err != nil || !bytes.Contains(html, []byte("<td>告警数量</td><td>2</td>")) {
			t.Fatalf("html of November lacks the 2 alerts (%v):\n%s", err, html)
		}
		// Another hospital sees neither the report nor its template.
		if _, err := svc.Report(ctx, secB, rs[1].ID); err == nil {
			t.Error("hospital B reads hospital A's report")
		}
		if _, err := svc.File(ctx, secB, rs[1].ID, report.FormatPDF); err == nil {
			t.Error("hospital B downloads hospital A's report")
		}
		if _, err := svc.Template(ctx, secB, tmpl.ID); err == nil {
			t.Error("hospital B reads hospital A's template")
		}
		if _, err := svc.Generate(ctx, secB, report.GenerateInput{OrgID: hospA.ID, Period: "2026-11"}); err == nil {
			t.Error("hospital B generates hospital A's report")
		}
		if _, err := svc.Generate(ctx, secA, report.GenerateInput{OrgID: hospA.ID, Period: "2026-13"}); err == nil {
			t.Error("a bad period is accepted")
		}
		r, err := svc.Generate(ctx, secA, report.GenerateInput{OrgID: hospA.ID, Period: "2026-W46", Formats: []string{"pdf"}})
		if err != nil || r.GeneratedBy != "sec-a" || len(r.Files) != 1 || r.Files[0].Size == 0 || len(r.Files[0].SHA256) != 64 {
			t.Fatalf("generate on demand = %+v, %v", r, err)
		}
	})
}
