package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/medguard/medguard/internal/asset"
	"github.com/medguard/medguard/internal/org"
	"github.com/medguard/medguard/internal/overview"
)

// kpi is one headline number of the dashboard, linking to the list it counts.
type kpi struct {
	ID    string // element id, for tests and styling
	Label string // i18n key
	N     int
	Link  string
}

// chartItem is one slice or bar of a chart drawn by static/app.js.
type chartItem struct {
	Label string `json:"label"`
	N     int    `json:"n"`
	Color string `json:"color,omitempty"` // CSS colour of the slice or bar; the palette's when empty
}

// chartSpec is the JSON data block a chart is drawn from.
type chartSpec struct {
	Type       string      `json:"type"` // "pie", "bar", "line", or "echarts" (Option drawn as it is)
	Horizontal bool        `json:"horizontal,omitempty"`
	Items      []chartItem `json:"items"`
	// Option is an ECharts option (type "echarts": an overview.Chart), Links the URL a
	// click on a part opens, keyed "series/category" or by the category or slice name.
	Option map[string]any    `json:"option,omitempty"`
	Links  map[string]string `json:"links,omitempty"`
}

// chart is a chart of the dashboard: its title, the id of its data block and the data
// itself as JSON (HTML-escaped, so it cannot end the script element).
type chart struct {
	ID    string // element id of the chart
	Data  string // element id of the data block
	Title string // i18n key
	JSON  template.JS
	Empty bool
	Wide  bool // takes a whole row of the board (a time series)
}

// makeChart encodes spec as a chart's data block.
func makeChart(id, title string, spec chartSpec) (chart, error) {
	b, err := json.Marshal(spec) // escapes <, > and & as \u00XX
	if err != nil {
		return chart{}, fmt.Errorf("web: chart %s: %w", id, err)
	}
	total := 0
	for _, it := range spec.Items {
		total += it.N
	}
	return chart{ID: id + "-chart", Data: "chart-" + id, Title: title, JSON: template.JS(b), Empty: total == 0}, nil
}

// board is the headline numbers and charts a dashboard opens with, drawn by the "board"
// template (templates/_board.html) on every dashboard: the overview, the software risk
// view and the patient-data overview.
type board struct {
	KPIs   []kpi
	Charts []chart
}

// dashboardData is what dashboard.html shows: the overview of one hospital (nil when
// the caller sees none) with its charts, the hospitals to choose from, and the asset
// inventory's board.
type dashboardData struct {
	Overview  *overview.Overview
	Charts    board
	Hospitals []org.Node
	Board     board
}

// overviewBoard turns the overview's chart definitions into the board's charts.
func overviewBoard(p *page, o overview.Overview) (board, error) {
	var b board
	for _, c := range overview.Charts(o, p.T) {
		bs, err := json.Marshal(chartSpec{Type: "echarts", Option: c.Option, Links: c.Links})
		if err != nil {
			return b, fmt.Errorf("web: chart %s: %w", c.ID, err)
		}
		b.Charts = append(b.Charts, chart{ID: c.ID + "-chart", Data: "chart-" + c.ID, Title: c.Title, JSON: template.JS(bs),
			Wide: c.ID == "overview-trend" || c.ID == "overview-findings" || c.ID == "overview-compliance"})
	}
	return b, nil
}

func (s *Server) uiDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := principalFrom(ctx).actor(r)
	p := s.newPage(r, w, "dashboard.title", "dashboard")
	st, kpis, err := s.homeKPIs(ctx, a)
	if err != nil {
		return err
	}
	d := dashboardData{Board: board{KPIs: kpis}}
	id, hs, err := s.overviewOrg(r, a)
	if err != nil {
		return err
	}
	d.Hospitals = hs
	if len(hs) > 0 || id != 0 && r.URL.Query().Get("org") != "" {
		o, err := s.Overview.Hospital(ctx, a, id, time.Now())
		if err != nil {
			return err
		}
		d.Overview = &o
		p.Title = "overview.title"
		if d.Charts, err = overviewBoard(p, o); err != nil {
			return err
		}
	}
	items := func(cs []asset.Count, prefix string, skipZero bool) []chartItem {
		out := make([]chartItem, 0, len(cs))
		for _, c := range cs {
			if skipZero && c.N == 0 {
				continue // an empty slice only clutters a pie's legend
			}
			label := c.Key
			if prefix != "" {
				label = p.T(prefix + c.Key)
			}
			out = append(out, chartItem{Label: label, N: c.N})
		}
		return out
	}
	specs := []struct {
		id, title string
		spec      chartSpec
	}{
		{"kind", "dashboard.chart.by_kind", chartSpec{Type: "pie", Items: items(st.ByKind, "kind.", true)}},
		{"zone", "dashboard.chart.by_zone", chartSpec{Type: "pie", Items: items(st.ByZone, "zone.", true)}},
		{"lifecycle", "dashboard.chart.by_lifecycle", chartSpec{Type: "bar", Items: items(st.ByLifecycle, "lifecycle.", false)}},
		{"mlps", "dashboard.chart.by_mlps", chartSpec{Type: "bar", Items: items(st.ByMLPS, "mlps.", false)}},
		{"org", "dashboard.chart.by_org", chartSpec{Type: "bar", Horizontal: true, Items: reversed(items(st.ByOrg, "", false))}},
	}
	for _, c := range specs {
		ch, err := makeChart("asset-"+c.id, c.title, c.spec)
		if err != nil {
			return err
		}
		d.Board.Charts = append(d.Board.Charts, ch)
	}
	p.Data = d
	return s.render(w, http.StatusOK, "dashboard.html", p)
}

// reversed returns items in reverse order: a horizontal bar chart draws its first
// category at the bottom, and the largest organisation belongs at the top.
func reversed(items []chartItem) []chartItem {
	out := make([]chartItem, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return out
}

// regionData is what overview_region.html shows.
type regionData struct {
	Region overview.RegionOverview
	Charts board
}

// uiOverviewRegion shows a region's hospitals side by side (?org=, by default the
// caller's organisation): their totals' charts and one row of figures per hospital.
func (s *Server) uiOverviewRegion(w http.ResponseWriter, r *http.Request) error {
	a := principalFrom(r.Context()).actor(r)
	p := s.newPage(r, w, "overview.region.title", "dashboard")
	id, err := queryID(r, "org")
	if err != nil {
		return err
	}
	if id == 0 {
		id = a.OrgID
	}
	ro, err := s.Overview.Region(r.Context(), a, id, time.Now())
	if err != nil {
		return err
	}
	d := regionData{Region: ro}
	if d.Charts, err = overviewBoard(p, ro.Total); err != nil {
		return err
	}
	p.Data = d
	return s.render(w, http.StatusOK, "overview_region.html", p)
}
