package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/medguard/medguard/internal/events"
	"github.com/medguard/medguard/internal/monitor"
	"github.com/medguard/medguard/internal/problem"
)

// The audit-event monitoring dashboard (/monitor) and its figures in JSON
// (GET /api/v1/monitor/stats): event rates per system and the monitoring alerts by
// rule, department, severity and explanation class (package monitor). The page
// refreshes its figures every ten seconds through htmx.

// monitorRefresh is how often the dashboard refreshes its figures.
const monitorRefresh = "10s"

// lineSeries is one line of a line chart drawn by static/app.js.
type lineSeries struct {
	Name string  `json:"name"`
	Data []int64 `json:"data"`
}

// lineSpec is the JSON data block of a line chart: one line per series over the
// category labels X.
type lineSpec struct {
	Type   string       `json:"type"` // "line"
	X      []string     `json:"x"`
	Series []lineSeries `json:"series"`
}

// makeLineChart encodes a line chart of rates, one line per system, its buckets labelled
// in layout (server time).
func makeLineChart(id, title string, r events.Rates, layout string) (chart, error) {
	spec := lineSpec{Type: "line", X: make([]string, len(r.Buckets)), Series: make([]lineSeries, 0, len(r.Systems))}
	for i, t := range r.Buckets {
		spec.X[i] = t.Local().Format(layout)
	}
	for _, s := range r.Systems {
		spec.Series = append(spec.Series, lineSeries{Name: s.System, Data: s.Counts})
	}
	b, err := json.Marshal(spec) // escapes <, > and & as \u00XX
	if err != nil {
		return chart{}, fmt.Errorf("web: chart %s: %w", id, err)
	}
	return chart{ID: id + "-chart", Data: "chart-" + id, Title: title, JSON: template.JS(b), Empty: r.Total == 0, Wide: true}, nil
}

// monitorData is what monitor.html shows.
type monitorData struct {
	Board   board // the headline numbers, the event rates (as wide as the page), the alert charts
	Stats   monitor.Stats
	Refresh string
}

// monitorStats reads the range of ?from= and ?to= (RFC 3339, or dates YYYY-MM-DD in the
// server's zone; both optional) and computes the figures for the caller.
func (s *Server) monitorStats(r *http.Request) (monitor.Stats, error) {
	from, err := parseRangeTime(r.URL.Query().Get("from"), "from")
	if err != nil {
		return monitor.Stats{}, err
	}
	to, err := parseRangeTime(r.URL.Query().Get("to"), "to")
	if err != nil {
		return monitor.Stats{}, err
	}
	if s.Events == nil {
		return monitor.Stats{}, problem.NotFound("monitoring")
	}
	return monitor.New(s.DB, s.Events).Stats(r.Context(), principalFrom(r.Context()).actor(r), from, to)
}

// parseRangeTime reads one end of a range: "" (zero), a date at midnight in the server's
// zone, or an RFC 3339 time.
func parseRangeTime(v, field string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, problem.Invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time").WithMsg("monitor.err.time")
}

// apiMonitorStats answers GET /api/v1/monitor/stats.
func (s *Server) apiMonitorStats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.monitorStats(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// uiMonitor shows the monitoring dashboard; an htmx request (the ten-second refresh)
// gets its figures only.
func (s *Server) uiMonitor(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage(r, w, "monitor.title", "monitor")
	p.Sub = "dashboard"
	st, err := s.monitorStats(r)
	if err != nil {
		return err
	}
	d := monitorData{Stats: st, Refresh: monitorRefresh}
	d.Board.KPIs = []kpi{
		{ID: "kpi-events-hour", Label: "monitor.kpi.events_hour", N: int(st.PerMinute.Total), Link: "/monitor"},
		{ID: "kpi-events-range", Label: "monitor.kpi.events_range", N: int(st.PerHour.Total), Link: "/monitor"},
		{ID: "kpi-monitor-alerts", Label: "monitor.kpi.alerts", N: int(st.Alerts), Link: "/alerts?source=" + monitor.Source},
	}
	for _, c := range st.ByClass {
		if c.Key == "unexplained" {
			d.Board.KPIs = append(d.Board.KPIs, kpi{ID: "kpi-unexplained", Label: "monitor.kpi.unexplained", N: int(c.N),
				Link: "/alerts?source=" + monitor.Source})
		}
	}
	lines := []struct {
		id, title, layout string
		r                 events.Rates
	}{
		{"monitor-minute", "monitor.chart.per_minute", "15:04", st.PerMinute},
		{"monitor-hour", "monitor.chart.per_hour", "01-02 15:04", st.PerHour},
	}
	for _, l := range lines {
		ch, err := makeLineChart(l.id, l.title, l.r, l.layout)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	items := func(cs []monitor.Count, label func(string) string, colour func(string) string, skipZero bool) []chartItem {
		out := make([]chartItem, 0, len(cs))
		for _, c := range cs {
			if skipZero && c.N == 0 {
				continue
			}
			it := chartItem{Label: label(c.Key), N: int(c.N)}
			if c.Key == otherKey {
				it.Label = p.T("monitor.other")
			}
			if colour != nil {
				it.Color = colour(c.Key)
			}
			out = append(out, it)
		}
		return out
	}
	ruleLabel := s.ruleLabeller(r, p.Lang)
	dept := func(k string) string {
		if k == "" {
			return p.T("monitor.department.unknown")
		}
		return k
	}
	sev := func(k string) string { return p.T("alert.severity." + k) }
	class := func(k string) string {
		if k == "" {
			return p.T("monitor.class.none")
		}
		return p.T("monitor.class." + k)
	}
	classColours := map[string]string{"explained": "#2f9e44", "flagged": "#e8a200", "unexplained": "#c92a2a", "": "#8fa3b5"}
	specs := []struct {
		id, title string
		spec      chartSpec
	}{
		{"monitor-rule", "monitor.chart.by_rule", chartSpec{Type: "bar", Horizontal: true, Items: reversed(items(top(st.ByRule, 15), ruleLabel, nil, false))}},
		{"monitor-department", "monitor.chart.by_department", chartSpec{Type: "bar", Horizontal: true, Items: reversed(items(top(st.ByDepartment, 15), dept, nil, false))}},
		{"monitor-severity", "monitor.chart.by_severity", chartSpec{Type: "bar", Items: items(st.BySeverity, sev, func(k string) string { return severityColours[k] }, false)}},
		{"monitor-class", "monitor.chart.by_class", chartSpec{Type: "pie", Items: items(st.ByClass, class, func(k string) string { return classColours[k] }, true)}},
	}
	for _, c := range specs {
		ch, err := makeChart(c.id, c.title, c.spec)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	p.Data = d
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		return s.renderFragment(w, http.StatusOK, "monitor.html", "monitor_live", p)
	}
	return s.render(w, http.StatusOK, "monitor.html", p)
}

// ruleLabeller returns how a rule id is shown to a reader of lang: the rule's name in
// that language as it applies to the reader's organisation, its id for a rule it does not
// know (one since removed).
func (s *Server) ruleLabeller(r *http.Request, lang string) func(string) string {
	names := map[string]string{}
	if es, err := s.ruleStore().List(r.Context(), reqActor(r), 0); err == nil {
		for _, e := range es {
			names[e.ID] = e.Name.In(lang)
		}
	}
	return func(id string) string {
		if n, ok := names[id]; ok && n != "" {
			return n
		}
		return id
	}
}

// otherKey is the key under which top adds up the counts it leaves out.
const otherKey = "\x00other"

// top keeps the first n-1 counts and adds the rest up under otherKey.
func top(cs []monitor.Count, n int) []monitor.Count {
	if len(cs) <= n {
		return cs
	}
	out := append([]monitor.Count(nil), cs[:n-1]...)
	rest := monitor.Count{Key: otherKey}
	for _, c := range cs[n-1:] {
		rest.N += c.N
	}
	return append(out, rest)
}
