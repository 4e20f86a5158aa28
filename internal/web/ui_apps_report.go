package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/appreg"
)

// The periodic report of the app registry (GET /apps/report and its CSV): the apps by
// status and grade, the average score per month, the findings by type and the evictions
// of a period, by default the last 90 days.

// reportDays is the default period of the report.
const reportDays = 90

// appReportRow is one line of the status × grade table.
type appReportRow struct {
	Status string
	N      map[string]int // by grade ("" before the first evaluation)
	Total  int
}

// appReportData is what apps_report.html shows.
type appReportData struct {
	Report  appreg.Report
	From    string // the period as the form shows it (YYYY-MM-DD, the end inclusive)
	To      string
	Grades  []string // the table's columns: A, B, C and "" (not evaluated)
	Rows    []appReportRow
	ByGrade map[string]int
	Board   board  // headline numbers and the trend of the average score
	CSV     string // the CSV export's address for the same period
	// IncidentTotal is the number of incidents in the period.
	IncidentTotal int
}

// IncidentLabel names an app incident's kind: a disposal step by its alert kind's name,
// a finding by its type's label in the scoring model.
func (p *page) IncidentLabel(kind string) string {
	if key := "alert.kind." + kind; strings.HasPrefix(kind, "app.") && p.s.I18n.Has(p.Lang, key) {
		return p.T(key)
	}
	return p.AppFindingType(kind)
}

// appReportPeriod reads ?from= and ?to= (dates, the end inclusive); the default is the
// last reportDays days up to today.
func appReportPeriod(r *http.Request) (from, to time.Time, err error) {
	if from, err = parseRangeTime(r.URL.Query().Get("from"), "from"); err != nil {
		return
	}
	if to, err = parseRangeTime(r.URL.Query().Get("to"), "to"); err != nil {
		return
	}
	now := time.Now()
	if to.IsZero() {
		to = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	}
	to = to.AddDate(0, 0, 1) // the end day is part of the period
	if from.IsZero() {
		from = to.AddDate(0, 0, -reportDays)
	}
	return from, to, nil
}

func (s *Server) appReport(r *http.Request) (appreg.Report, error) {
	reg, err := s.apps()
	if err != nil {
		return appreg.Report{}, err
	}
	from, to, err := appReportPeriod(r)
	if err != nil {
		return appreg.Report{}, err
	}
	return reg.Report(r.Context(), reqActor(r), from, to)
}

func (s *Server) uiAppReport(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apps(); err != nil {
		return err
	}
	p := s.newPage(r, w, "app.report.title", "apps")
	d := appReportData{Grades: append(appGrades[:len(appGrades):len(appGrades)], ""), ByGrade: map[string]int{}}
	rep, err := s.appReport(r)
	code, err := actionError(p, err)
	if err != nil {
		return err
	}
	d.Report = rep
	if !rep.From.IsZero() {
		d.From, d.To = rep.From.Local().Format(time.DateOnly), rep.To.Local().AddDate(0, 0, -1).Format(time.DateOnly)
		d.CSV = "/apps/report.csv?from=" + d.From + "&to=" + d.To
	} else {
		d.From, d.To, d.CSV = r.URL.Query().Get("from"), r.URL.Query().Get("to"), "/apps/report.csv"
	}
	rows := map[string]*appReportRow{}
	for _, st := range appStatuses {
		rows[st] = &appReportRow{Status: st, N: map[string]int{}}
	}
	for _, c := range rep.ByStatus {
		row, ok := rows[c.Status]
		if !ok {
			continue
		}
		row.N[c.Grade] += c.N
		row.Total += c.N
		d.ByGrade[c.Grade] += c.N
	}
	for _, st := range appStatuses {
		d.Rows = append(d.Rows, *rows[st])
	}
	spec := scoreLineSpec{Type: "line", X: []string{}, Series: []scoreSeries{{Name: p.T("app.report.average"), Data: []*float64{}}},
		Symbols: true, YMax: 100}
	for _, m := range rep.Months {
		spec.X = append(spec.X, m.Month)
		var v *float64
		if m.Apps > 0 {
			avg := m.Average
			v = &avg
		}
		spec.Series[0].Data = append(spec.Series[0].Data, v)
	}
	ch, err := makeScoreChart("app-report-average", "app.report.trend", spec)
	if err != nil {
		return err
	}
	open := 0
	for _, f := range rep.Findings {
		open += f.Open
	}
	for _, c := range rep.Incidents {
		d.IncidentTotal += c.N
	}
	d.Board = board{Charts: []chart{ch}, KPIs: []kpi{
		{ID: "kpi-apps", Label: "app.report.kpi.apps", N: rep.Apps, Link: "/apps"},
		{ID: "kpi-grade-c", Label: "app.report.kpi.grade_c", N: d.ByGrade["C"], Link: "/apps?grade=C"},
		{ID: "kpi-open-findings", Label: "app.report.kpi.open_findings", N: open, Link: "#report-findings"},
		{ID: "kpi-evictions", Label: "app.report.kpi.evictions", N: len(rep.Evictions), Link: "#report-evictions"},
	}}
	p.Data = d
	return s.render(w, code, "apps_report.html", p)
}

// uiAppReportCSV exports the report as CSV (UTF-8 with a byte-order mark, for
// spreadsheets): one table whose first column names the section of each line.
func (s *Server) uiAppReportCSV(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.appReport(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, nil, "", "")
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	cw := csv.NewWriter(&buf)
	write := func(row ...string) {
		for i := range row {
			row[i] = csvCell(row[i])
		}
		_ = cw.Write(row) // the error stays in cw, read below
	}
	write("section", "key", "name", "hospital", "status", "grade", "count", "average", "open", "opened", "fixed", "at", "by", "reason")
	day := func(t time.Time) string { return t.Local().Format(time.DateOnly) }
	write("period", day(rep.From)+" – "+day(rep.To.AddDate(0, 0, -1)), "", "", "", "", strconv.Itoa(rep.Apps), "", "", "", "", "", "", "")
	for _, c := range rep.ByStatus {
		write("apps", c.Status+"/"+c.Grade, p.AppStatus(c.Status), "", c.Status, c.Grade, strconv.Itoa(c.N), "", "", "", "", "", "", "")
	}
	for _, m := range rep.Months {
		avg := ""
		if m.Apps > 0 {
			avg = strconv.FormatFloat(m.Average, 'f', 1, 64)
		}
		write("month", m.Month, "", "", "", "", strconv.Itoa(m.Apps), avg, "", "", "", "", "", "")
	}
	for _, f := range rep.Findings {
		write("findings", f.Type, p.AppFindingType(f.Type), "", "", "", "", "", strconv.Itoa(f.Open), strconv.Itoa(f.Opened),
			strconv.Itoa(f.Fixed), "", "", "")
	}
	for _, c := range rep.Incidents {
		write("incidents", c.Kind+"/"+c.Severity, p.IncidentLabel(c.Kind), "", "", "", strconv.Itoa(c.N), "", "", "", "", "", "", "")
	}
	for _, e := range rep.Evictions {
		write("eviction", strconv.FormatInt(e.AppID, 10), e.App, e.Hospital, appreg.StatusEvicted, "", "", "", "", "", "",
			e.At.Format(time.RFC3339), e.By, e.Reason)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("web: app report CSV: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="app-report.csv"`)
	h.Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}
