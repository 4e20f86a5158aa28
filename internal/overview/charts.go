package overview

import "strconv"

// Chart is a chart of the overview: an ECharts option of the kinds both the pages
// (ECharts in the browser) and the PDF reports (rendered on the server) draw — bar,
// stacked bar, line and pie, data only, no functions — and the drill-down links of its
// parts, keyed "series/category" (a bar of a series at a category), or by the category
// or slice name alone.
type Chart struct {
	ID     string            `json:"id"`
	Title  string            `json:"title"`
	Option map[string]any    `json:"option"`
	Links  map[string]string `json:"links"`
}

// severityColors are the colours of the severities (Severities order).
var severityColors = []string{"#b3261e", "#e8710a", "#f2b705", "#7a9a01"}

// levelColors colour a matrix's levels, most serious first.
var levelColors = []string{"#b3261e", "#e8710a", "#f2b705", "#7a9a01", "#4e7d96", "#888888"}

// gradeColors colour the app grades (Grades order).
var gradeColors = []string{"#2e7d32", "#f2b705", "#b3261e", "#9e9e9e"}

// Charts returns o's charts with their titles and labels in the language of t (a
// catalogue lookup, e.g. the page's T): the score's trend, open findings by module and
// severity, active risks by level, app grades, privacy alerts by state and, when there
// are assessments, compliance progress.
func Charts(o Overview, t func(key string, args ...any) string) []Chart {
	out := []Chart{trendChart(o, t), findingsChart(o, t), risksChart(o, t), appsChart(o, t), privacyChart(o, t)}
	if len(o.Compliance) > 0 {
		out = append(out, complianceChart(o, t))
	}
	return out
}

func baseGrid() map[string]any {
	return map[string]any{"left": 8, "right": 24, "top": 16, "bottom": 8, "containLabel": true}
}

func valueAxis() map[string]any {
	return map[string]any{"type": "value", "minInterval": 1, "splitNumber": 4, "axisLabel": map[string]any{"hideOverlap": true}}
}

func trendChart(o Overview, t func(string, ...any) string) Chart {
	weeks, scores := make([]string, len(o.Trend)), make([]any, len(o.Trend))
	for i, p := range o.Trend {
		weeks[i] = p.Week[5:] // MM-DD: the year is the chart's title's
		if p.Score != nil {
			scores[i] = *p.Score
		}
	}
	name := t("overview.chart.score")
	return Chart{ID: "overview-trend", Title: t("overview.chart.trend"), Links: map[string]string{}, Option: map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    baseGrid(),
		"xAxis": map[string]any{"type": "category", "boundaryGap": false, "data": weeks,
			"axisLabel": map[string]any{"hideOverlap": true, "alignMinLabel": "left", "alignMaxLabel": "right"}},
		"yAxis":  map[string]any{"type": "value", "min": 0, "max": 100, "interval": 20, "axisLabel": map[string]any{"hideOverlap": true}},
		"series": []any{map[string]any{"type": "line", "name": name, "data": scores, "showSymbol": true, "symbolSize": 7, "connectNulls": true, "color": "#0b6e99"}},
	}}
}

func findingsChart(o Overview, t func(string, ...any) string) Chart {
	mods := make([]string, len(o.Findings))
	for i, m := range o.Findings {
		mods[i] = t("overview.module." + m.Module)
	}
	links := map[string]string{}
	series := []any{}
	for j, sev := range Severities {
		name := t("overview.severity." + sev)
		data := make([]int, len(o.Findings))
		for i, m := range o.Findings {
			data[i] = m.BySeverity[j].N
			links[name+"/"+mods[i]] = m.BySeverity[j].Link
		}
		series = append(series, map[string]any{"type": "bar", "name": name, "stack": "findings", "data": data,
			"color": severityColors[j], "barMaxWidth": 48})
	}
	return Chart{ID: "overview-findings", Title: t("overview.chart.findings"), Links: links, Option: map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"type": "plain", "bottom": 0, "left": "center"},
		"grid":    map[string]any{"left": 8, "right": 24, "top": 16, "bottom": 36, "containLabel": true},
		"xAxis":   map[string]any{"type": "category", "data": mods, "axisLabel": map[string]any{"interval": 0}},
		"yAxis":   valueAxis(),
		"series":  series,
	}}
}

func risksChart(o Overview, t func(string, ...any) string) Chart {
	cats, data, links := []string{}, []any{}, map[string]string{}
	for i, l := range o.RiskLevels {
		name := t("overview.risk_level." + l.Level)
		cats = append(cats, name)
		data = append(data, map[string]any{"value": l.N, "itemStyle": map[string]any{"color": levelColors[min(i, len(levelColors)-1)]}})
		links[name] = l.Link
	}
	return Chart{ID: "overview-risks", Title: t("overview.chart.risks"), Links: links, Option: map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    baseGrid(),
		"xAxis":   map[string]any{"type": "category", "data": cats, "axisLabel": map[string]any{"interval": 0}},
		"yAxis":   valueAxis(),
		"series":  []any{map[string]any{"type": "bar", "name": t("overview.chart.risks"), "data": data, "barMaxWidth": 48}},
	}}
}

// pie is a pie of the named counts, with a legend under it naming each slice with its
// count.
func pie(id, title, empty string, names []string, ns []int, colors []string, links map[string]string) Chart {
	data := []any{}
	legend := []string{}
	for i, n := range names {
		if ns[i] == 0 {
			continue // an empty slice only clutters the pie and its legend
		}
		legend = append(legend, n)
		item := map[string]any{"name": n, "value": ns[i]}
		if i < len(colors) {
			item["itemStyle"] = map[string]any{"color": colors[i]}
		}
		data = append(data, item)
	}
	opt := map[string]any{
		"tooltip": map[string]any{"trigger": "item"},
		"legend":  map[string]any{"type": "plain", "bottom": 0, "left": "center", "data": legend},
		"series": []any{map[string]any{"type": "pie", "name": title, "center": []string{"50%", "42%"}, "radius": []string{"30%", "55%"},
			"label": map[string]any{"formatter": "{c}", "minMargin": 2}, "labelLine": map[string]any{"length": 6, "length2": 6},
			"labelLayout": map[string]any{"hideOverlap": true}, "avoidLabelOverlap": true, "stillShowZeroSum": false, "data": data}},
	}
	if len(data) == 0 { // an empty ring says why it is empty
		opt["title"] = map[string]any{"text": empty, "left": "center", "top": "38%",
			"textStyle": map[string]any{"fontSize": 13, "fontWeight": "normal", "color": "#6b7c8a"}}
	}
	return Chart{ID: id, Title: title, Links: links, Option: opt}
}

func appsChart(o Overview, t func(string, ...any) string) Chart {
	names, ns, links := []string{}, []int{}, map[string]string{}
	for _, g := range o.Apps {
		name := t("overview.grade.none")
		if g.Grade != "" {
			name = t("overview.grade", g.Grade)
		}
		name += " " + strconv.Itoa(g.N)
		names, ns = append(names, name), append(ns, g.N)
		links[name] = g.Link
	}
	return pie("overview-apps", t("overview.chart.apps"), t("overview.chart.none"), names, ns, gradeColors, links)
}

func privacyChart(o Overview, t func(string, ...any) string) Chart {
	names, ns, links := []string{}, []int{}, map[string]string{}
	colors := []string{"#b3261e", "#e8710a", "#2e7d32", "#9e9e9e"}
	for _, p := range o.Privacy {
		name := t("overview.alert_status."+p.Status) + " " + strconv.Itoa(p.N)
		names, ns = append(names, name), append(ns, p.N)
		links[name] = p.Link
	}
	return pie("overview-privacy", t("overview.chart.privacy"), t("overview.chart.none"), names, ns, colors, links)
}

func complianceChart(o Overview, t func(string, ...any) string) Chart {
	cats, data, links := []string{}, []any{}, map[string]string{}
	for i := len(o.Compliance) - 1; i >= 0; i-- { // a horizontal bar chart draws its first category at the bottom
		p := o.Compliance[i]
		cats = append(cats, p.Name)
		data = append(data, p.Percent)
		links[p.Name] = o.ComplianceL
	}
	return Chart{ID: "overview-compliance", Title: t("overview.chart.compliance"), Links: links, Option: map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    baseGrid(),
		"xAxis":   map[string]any{"type": "value", "min": 0, "max": 100, "interval": 25, "axisLabel": map[string]any{"hideOverlap": true}},
		"yAxis":   map[string]any{"type": "category", "data": cats, "axisLabel": map[string]any{"width": 200, "overflow": "break"}},
		"series":  []any{map[string]any{"type": "bar", "name": t("overview.chart.compliance"), "data": data, "color": "#0b6e99", "barMaxWidth": 28}},
	}}
}
