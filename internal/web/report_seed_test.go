package web

import (
	"context"

	"github.com/medguard/medguard/internal/actor"
	"github.com/medguard/medguard/internal/report"
)

// seedReports gives each hospital a monthly report template (scheduled) and a report of
// November 2026 made from it.
func (e *testEnv) seedReports() {
	e.t.Helper()
	ctx := context.Background()
	for _, h := range []struct {
		name string
		id   int64
		tmpl *report.Template
		rep  *report.Report
	}{{"A", e.HospA.ID, &e.ReportTmplA, &e.ReportA}, {"B", e.HospB.ID, &e.ReportTmplB, &e.ReportB}} {
		t, err := e.Reports.CreateTemplate(ctx, actor.System(), report.TemplateInput{OrgID: h.id, Name: "月报 " + h.name,
			Kind: report.Monthly, Lang: "zh-CN", Scheduled: true})
		if err != nil {
			e.t.Fatal(err)
		}
		*h.tmpl = t
		if *h.rep, err = e.Reports.Generate(ctx, actor.System(), report.GenerateInput{TemplateID: t.ID, Period: "2026-11"}); err != nil {
			e.t.Fatal(err)
		}
	}
}
